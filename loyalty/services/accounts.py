"""Loyalty accounts and their cards: open an account (with its first card and the welcome bonus),
issue, block and replace cards, find the account a card belongs to.

A card number is an EAN-13: pre-printed cards carry theirs, virtual ones get the configured
prefix, a sequence number and the check digit. Every number is also an identity of the customer,
so looking a customer up by card works everywhere.
"""

import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.models import Customer, Direction, IdentityKind, InteractionKind
from customers.services import identity_attach, interaction_record, locked_customer
from inventory.models import Location
from loyalty import hooks, selectors
from loyalty.errors import CardBlocked, CardNumberTaken, InvalidCardNumber, InvalidCardStatus, UnknownCard
from loyalty.models import (
    Account,
    BonusType,
    Card,
    CardKind,
    CardStatus,
    EntryKind,
    TierChange,
    TierChangeReason,
)
from loyalty.services.checks import Cause, active_account_for_update, check_channel
from loyalty.services.ledger import lot_add
from loyalty.services.programme import programme_current, tier_for_spend, tiers_by_spend
from omni.core.actors import SYSTEM, Actor
from omni.core.audit import audit_changes
from omni.core.barcodes import ean13_check_digit, ean13_from_typed
from omni.core.channels import Channel
from omni.core.errors import InvalidInput
from omni.core.models import AuditKind
from omni.core.services import sequence_next

CARD_SEQUENCE = "loyalty_card"


def _clean_card_number(number: str, field: str = "card_number") -> str:
    try:
        return ean13_from_typed(number)
    except ValidationError as error:
        # An invisible character is named; any other mistake gets the card number's rule.
        message = error.messages[0] if error.code == "invalid_character" else str(InvalidCardNumber.message)
        raise InvalidCardNumber(message, details={"field": field, "fields": {field: [message]}})


def card_number_generate() -> str:
    """The next card number: the configured prefix, a sequence number and the EAN-13 check digit."""
    prefix = settings.LOYALTY_CARD_PREFIX
    if not prefix.isdigit() or len(prefix) > 9:
        raise ImproperlyConfigured("LOYALTY_CARD_PREFIX must be 1 to 9 digits.")
    width = 12 - len(prefix)
    value = sequence_next(CARD_SEQUENCE)
    if value >= 10**width:
        raise ImproperlyConfigured("Card numbers with this LOYALTY_CARD_PREFIX are used up; choose another prefix.")
    first12 = f"{prefix}{value:0{width}d}"
    return first12 + str(ean13_check_digit(first12))


def _card_create(
    *, account: Account, kind: str, number: str, store: Location | None, actor: Actor, now: datetime.datetime
) -> Card:
    if kind not in CardKind.values:
        raise InvalidInput.for_field("kind", _("%(value)s is not a valid kind of card.") % {"value": kind})
    if not number:
        # Generated numbers skip any that a pre-printed card already took.
        for _attempt in range(100):
            number = card_number_generate()
            if not Card.objects.filter(number=number).exists():
                break
    elif Card.objects.filter(number=number).exists():
        raise CardNumberTaken(details={"card_number": number})
    try:
        with transaction.atomic():
            card = Card.objects.create(
                number=number, account=account, kind=kind, store=store, issued_at=now, **actor.audit_fields
            )
    except IntegrityError:
        raise CardNumberTaken(details={"card_number": number})
    # Lookup by card works everywhere: the number is an identity of the customer.
    identity_attach(customer=account.customer, kind=IdentityKind.CARD, value=number, actor=actor)
    return card


def account_open(
    *,
    customer: Customer,
    channel: str = Channel.SYSTEM,
    store: Location | None = None,
    card_number: str = "",
    actor: Actor = SYSTEM,
    now: datetime.datetime | None = None,
) -> tuple[Account, bool]:
    """Open the customer's account (or return the one they have) with a card and the welcome bonus.

    With ``card_number`` (a pre-printed card handed over in a store) that card is issued, else a
    virtual one with a generated number. Returns the account and whether it was opened now.
    """
    check_channel(channel)
    number = _clean_card_number(card_number) if card_number else ""
    now = now or timezone.now()
    programme = programme_current()
    with transaction.atomic():
        customer = locked_customer(customer)
        account = Account.objects.filter(customer=customer).first()
        if account is not None:
            return account, False
        tier = tier_for_spend(tiers_by_spend(programme), Decimal(0))
        account = Account.objects.create(
            customer=customer,
            tier=tier,
            tier_changed_at=now if tier else None,
            opened_at=now,
            channel=channel,
            store=store,
        )
        if tier is not None:
            TierChange.objects.create(
                account=account, new_tier=tier, spend=0, reason=TierChangeReason.JOINED, created_at=now
            )
        _card_create(
            account=account,
            kind=CardKind.PHYSICAL if number else CardKind.VIRTUAL,
            number=number,
            store=store,
            actor=actor,
            now=now,
        )
        if programme.welcome_bonus:
            lot_add(
                account=account,
                kind=EntryKind.BONUS,
                bonus_type=BonusType.WELCOME,
                points=programme.welcome_bonus,
                spendable_from=now,
                expires_at=now + datetime.timedelta(days=programme.expiry_days),
                cause=Cause("account", str(account.pk)),
                key=f"welcome:{account.pk}",
                channel=channel,
                store=store,
                actor=actor,
                now=now,
            )
            hooks.points_changed(account)
        interaction_record(
            customer=customer,
            channel=channel,
            kind=InteractionKind.POINTS_CHANGE,
            direction=Direction.INTERNAL,
            event="loyalty.joined",
            params={"bonus": programme.welcome_bonus},
            occurred_at=now,
            location=store,
            subject_type="loyalty_account",
            subject_id=str(account.pk),
            actor=actor,
        )
        hooks.account_opened(account)
    return account, True


def card_issue(
    *,
    account: Account,
    kind: str = CardKind.PHYSICAL,
    number: str = "",
    store: Location | None = None,
    actor: Actor = SYSTEM,
    now: datetime.datetime | None = None,
) -> Card:
    """Issue another card for the account: a pre-printed number, or a generated one."""
    number = _clean_card_number(number) if number else ""
    now = now or timezone.now()
    with transaction.atomic():
        locked_customer(account.customer)
        account = active_account_for_update(account.pk)
        return _card_create(account=account, kind=kind, number=number, store=store, actor=actor, now=now)


def card_block(*, card: Card, reason: str = "", actor: Actor = SYSTEM, now: datetime.datetime | None = None) -> Card:
    """Block a lost or stolen card: it can no longer be used; the balance stays on the account."""
    now = now or timezone.now()
    with transaction.atomic():
        card = Card.objects.select_for_update().get(pk=card.pk)
        if card.status != CardStatus.ACTIVE:
            raise InvalidCardStatus(
                _("Card %(number)s is %(status)s.") % {"number": card.number, "status": card.get_status_display()},
                details={"card_number": card.number, "status": card.status},
            )
        card.status, card.blocked_at, card.block_reason = CardStatus.BLOCKED, now, reason.strip()[:255]
        card.save(update_fields=["status", "blocked_at", "block_reason", "updated_at"])
        blocked = {"status": card.status, "block_reason": card.block_reason}
        audit_changes(actor, card, {"status": CardStatus.ACTIVE}, blocked, kind=AuditKind.CARD_BLOCKED)
    return card


def card_replace(
    *,
    card: Card,
    kind: str | None = None,
    number: str = "",
    store: Location | None = None,
    reason: str = "",
    actor: Actor = SYSTEM,
    now: datetime.datetime | None = None,
) -> Card:
    """Replace a card (active or blocked) by a new one on the same account; return the new card."""
    number = _clean_card_number(number) if number else ""
    now = now or timezone.now()
    with transaction.atomic():
        locked_customer(card.account.customer)
        account = active_account_for_update(card.account_id)
        card = Card.objects.select_for_update().get(pk=card.pk)
        if card.status == CardStatus.REPLACED:
            raise InvalidCardStatus(
                _("Card %(number)s was already replaced.") % {"number": card.number},
                details={"card_number": card.number, "status": card.status},
            )
        new = _card_create(account=account, kind=kind or card.kind, number=number, store=store, actor=actor, now=now)
        card.status, card.replaced_by = CardStatus.REPLACED, new
        card.blocked_at = card.blocked_at or now
        card.block_reason = card.block_reason or reason.strip()[:255]
        card.save(update_fields=["status", "replaced_by", "blocked_at", "block_reason", "updated_at"])
    return new


def account_by_card(number: str) -> Account:
    """The active account a usable card belongs to (``UnknownCard``, ``CardBlocked`` otherwise)."""
    card = selectors.card_by_number(number)
    if card is None:
        raise UnknownCard(details={"card_number": str(number)[:32]})
    if card.status != CardStatus.ACTIVE:
        raise CardBlocked(details={"card_number": card.number, "status": card.status})
    return card.account
