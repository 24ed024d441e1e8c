"""Unsubscribe links: a signed token naming the customer, the channel and the campaign.

The link works without signing in: the signature (``SECRET_KEY``, a salt of its own) is the
proof. Following it withdraws the marketing consent of that channel through
``customers.services.consents_record``, so the withdrawal is in the consent history, noted with
the campaign that carried the link.
"""

from dataclasses import dataclass

from django.core import signing
from django.utils.translation import gettext as _

from customers.models import ConsentPurpose, Customer, MessageChannel
from customers.services import ConsentChange, consents_record
from omni.core.errors import InvalidInput

SALT = "omni.marketing.unsubscribe"


@dataclass(frozen=True)
class Unsubscribe:
    customer_id: int
    channel: str
    source: str  # what carried the link: campaign:<id>, cart:<id>; noted in the consent history

    @property
    def note(self) -> str:
        return self.source


def campaign_note(campaign_id: int) -> str:
    """How a withdrawal through a campaign's link is noted in the consent history."""
    return f"campaign:{campaign_id}"


def reply_note(source: str) -> str:
    """How a withdrawal by a stop word replied to a message (``source``, or "" when none) is noted."""
    return f"{source} reply" if source else "reply"


def unsubscribe_token(*, customer_id: int, channel: str, source: str) -> str:
    return signing.dumps([customer_id, channel, source], salt=SALT, compress=True)


def unsubscribe_read(token: str) -> Unsubscribe:
    """What a token names; ``InvalidInput`` when it was not signed here or was altered."""
    try:
        customer_id, channel, source = signing.loads(token, salt=SALT)
    except (signing.BadSignature, ValueError, TypeError):
        raise InvalidInput(_("This unsubscribe link is not valid."), details={"field": "token"})
    if channel not in MessageChannel.values:
        raise InvalidInput(_("This unsubscribe link is not valid."), details={"field": "token"})
    return Unsubscribe(int(customer_id), channel, str(source)[:255])


def unsubscribe_apply(token: str) -> Unsubscribe:
    """Withdraw the marketing consent the link names (nothing is recorded if it is already withdrawn)."""
    request = unsubscribe_read(token)
    customer = Customer.objects.filter(pk=request.customer_id).first()
    if customer is None:
        raise InvalidInput(_("This unsubscribe link is not valid."), details={"field": "token"})
    consents_record(
        customer=customer,
        changes=[ConsentChange(purpose=ConsentPurpose.MARKETING, granted=False, channel=request.channel)],
        source_channel=request.channel,
        note=request.note,
    )
    return request
