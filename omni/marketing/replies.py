"""Replies to marketing messages: a stop word sent back by SMS or messenger unsubscribes.

The SMS gateway or the messenger bot reports each message a customer sends
(``POST /api/v1/messages/inbound/``). ``reply_receive`` finds the customer by the sender's
identity (the phone of an SMS; the messenger's user id under its system), puts the message on
their timeline and, when the whole text is one of ``MARKETING_STOP_WORDS`` (any case, punctuation
around it ignored: "STOP", "Стоп!", "отписаться"), withdraws that channel's marketing consent
through ``customers.services.consents_record``: in the consent history and on the timeline,
noted with what the reply answered, the last marketing message through that channel within
``ANSWERS_WITHIN`` (``campaign:<id> reply``, ``cart:<id> reply``), so that a campaign's results
count it as unsubscribed. A sender no customer has changes nothing (``UnknownSender``).
"""

import datetime
import string
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.identities import identity_key
from customers.models import (
    ConsentPurpose,
    Customer,
    Direction,
    IdentityKind,
    InteractionKind,
    Message,
    MessageChannel,
    MessagePurpose,
)
from customers.selectors import customers_owning
from customers.services import ConsentChange, consents_record, interaction_record, locked_customer
from omni.core.actors import SYSTEM, Actor
from omni.core.errors import InvalidInput
from omni.marketing.errors import UnknownSender
from omni.marketing.unsubscribe import reply_note

REPLY_CHANNELS = (MessageChannel.SMS, MessageChannel.MESSENGER)
ANSWERS_WITHIN = datetime.timedelta(days=30)
MAX_TEXT = 2000
_AROUND = string.punctuation + string.whitespace + "«»“”„…—–"


def _folded(text: str) -> str:
    return text.strip(_AROUND).casefold().replace("ё", "е")


def is_stop_word(text: str) -> bool:
    """Whether the whole message is one of ``MARKETING_STOP_WORDS``."""
    return _folded(text) in {_folded(word) for word in settings.MARKETING_STOP_WORDS if word.strip()}


def reply_word(language: str) -> str:
    """The stop word a message in ``language`` names: the first configured one in its alphabet."""
    words = [word.strip() for word in settings.MARKETING_STOP_WORDS if word.strip()]
    cyrillic = [word for word in words if any("а" <= char <= "я" for char in word.lower())]
    latin = [word for word in words if word.isascii()]
    preferred = cyrillic if language == "ru" else latin
    return (preferred or words or [""])[0]


@dataclass(frozen=True)
class ReplyOutcome:
    customer: Customer
    stop_word: bool  # the text was a stop word
    withdrawn: bool  # the channel's marketing consent is recorded as withdrawn now (False: it already was)
    answered: str  # what the reply answered: campaign:<id>, cart:<id>, or "" when nothing recent


def _sender(channel: str, sender: str, system: str):
    if channel == MessageChannel.SMS:
        return identity_key(IdentityKind.PHONE, sender, field="sender")
    if system.strip().lower() not in settings.CUSTOMERS_MESSENGER_SYSTEMS:
        systems = ", ".join(settings.CUSTOMERS_MESSENGER_SYSTEMS)
        raise InvalidInput.for_field("system", _("A messenger is one of: %(systems)s.") % {"systems": systems})
    return identity_key(IdentityKind.EXTERNAL_ID, sender, system=system, field="sender")


def answered_message(customer: Customer, channel: str, at: datetime.datetime) -> str:
    """What a reply through ``channel`` at ``at`` answers: the last marketing message there, recent enough."""
    last = (
        Message.objects.filter(
            customer=customer,
            channel=channel,
            purpose=MessagePurpose.MARKETING,
            created_at__lte=at,
            created_at__gt=at - ANSWERS_WITHIN,
        )
        .exclude(cause_type="")
        .order_by("-created_at", "-pk")
        .values_list("cause_type", "cause_id")
        .first()
    )
    return f"{last[0]}:{last[1]}" if last else ""


def reply_receive(
    *,
    channel: str,
    sender: str,
    text: str,
    system: str = "",
    received_at: datetime.datetime | None = None,
    actor: Actor = SYSTEM,
) -> ReplyOutcome:
    """Record a message a customer sent; a stop word withdraws that channel's marketing consent."""
    if channel not in REPLY_CHANNELS:
        message = _("Replies come by %(channels)s.") % {"channels": ", ".join(REPLY_CHANNELS)}
        raise InvalidInput.for_field("channel", message)
    text = text.strip()
    if not text or len(text) > MAX_TEXT:
        raise InvalidInput.for_field(
            "text", _("A reply has a text of 1 to %(count)s characters.") % {"count": MAX_TEXT}
        )
    key = _sender(channel, sender, system)
    customer = next(iter(customers_owning([key], limit=1)), None)
    if customer is None:
        raise UnknownSender(details={"channel": channel, "sender": key.value})
    received_at = received_at or timezone.now()
    with transaction.atomic():
        customer = locked_customer(customer)
        interaction_record(
            customer=customer,
            channel=channel,
            kind=InteractionKind.CHAT_MESSAGE,
            direction=Direction.INBOUND,
            summary=text,
            details=text,
            occurred_at=received_at,
            actor=actor,
        )
        if not is_stop_word(text):
            return ReplyOutcome(customer, stop_word=False, withdrawn=False, answered="")
        answered = answered_message(customer, channel, received_at)
        events = consents_record(
            customer=customer,
            changes=[ConsentChange(purpose=ConsentPurpose.MARKETING, granted=False, channel=channel)],
            source_channel=channel,
            note=reply_note(answered),
            actor=actor,
        )
    return ReplyOutcome(customer, stop_word=True, withdrawn=bool(events), answered=answered)
