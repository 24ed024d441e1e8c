"""Every change of accounts, cards, tiers and points. Each function is one business action in one
transaction. Promo codes are in ``loyalty.promo``, one-time codes in ``loyalty.otp``, the nightly
batches in ``loyalty.nightly``.

The points ledger (``PointsEntry`` + ``Allocation``) is only written here. An operation on an
account's points locks the account row first (``lock_objects``), then reads its lots, decides,
and writes the entry, its allocations and the lots' new ``remaining`` in the same transaction,
so two redemptions can never spend the same points.

The services the orders app calls take plain values (``CartLine``, an order reference such as
``W-000123``, a channel and a store) and never import orders:

- ``points_quote``: how many points this customer may spend on this cart and their value;
- ``points_redeem``: spend points on an order (once per reference);
- ``points_earn_for_order``: earn for a completed order (tier rate on the paid amount);
- ``points_reverse``: a return or a cancellation (proportional, with the shortfall reported);
- ``loyalty.promo.promo_validate`` / ``promo_apply`` / ``promo_release``.
"""

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.errors import CustomerAnonymised, CustomerMerged
from customers.models import Channel, Customer, Direction, IdentityKind, InteractionKind
from customers.services import identity_attach, interaction_record
from inventory.models import Location
from loyalty import selectors
from loyalty.errors import (
    AccountClosed,
    CardBlocked,
    CardNumberTaken,
    ExceedsOrderShare,
    InvalidCardNumber,
    InvalidCardStatus,
    InvalidCart,
    InvalidPoints,
    InvalidReference,
    NoAccount,
    NotEnoughPoints,
    ReasonRequired,
    ReferenceConflict,
)
from loyalty.lock_objects import account_for_update
from loyalty.models import (
    Account,
    AccountStatus,
    Allocation,
    BonusType,
    Card,
    CardKind,
    CardStatus,
    EntryKind,
    OrderPoints,
    OrderPointsLine,
    OrderPointsReturn,
    PointsEntry,
    Programme,
    PromoUsage,
    PromoUsageStatus,
    SpendRecord,
    Tier,
    TierChange,
    TierChangeReason,
)
from omni.actors import SYSTEM, Actor
from omni.audit import audit_changes
from omni.barcodes import ean13_check_digit, ean13_from_typed
from omni.errors import InvalidInput
from omni.models import AuditKind
from omni.services import sequence_next

MAX_POINTS = 10**12
MAX_AMOUNT = Decimal("999999999999.99")
CARD_SEQUENCE = "loyalty_card"


@dataclass(frozen=True)
class Cause:
    """What caused an entry, by reference: ``Cause("order", "W-000123")``."""

    type: str
    id: str


@dataclass(frozen=True)
class CartLine:
    """A line of a cart or an order: ``amount`` is the line's total after discounts, before points."""

    product_id: int | None
    category_id: int | None
    quantity: int
    amount: Decimal


@dataclass(frozen=True)
class ReturnLine:
    """Goods returned or cancelled: ``amount`` is what they cost on the order (before points)."""

    product_id: int | None
    quantity: int
    amount: Decimal


@dataclass(frozen=True)
class Quote:
    order_total: Decimal
    available: int
    max_points: int
    max_value: Decimal
    point_value: Decimal
    max_share_percent: Decimal
    code_required: bool
    points_to_earn: int
    tier: Tier | None


@dataclass(frozen=True)
class Redemption:
    entry: PointsEntry
    points: int
    value: Decimal
    created: bool


@dataclass(frozen=True)
class Earning:
    reference: str
    points: int
    paid_amount: Decimal
    earn_rate: Decimal
    spendable_from: datetime.datetime | None
    expires_at: datetime.datetime | None
    created: bool


@dataclass(frozen=True)
class Reversal:
    """What a return or a cancellation did. ``shortfall_points`` were earned on the returned goods
    but already spent: the return deducts ``shortfall_value`` from the refund."""

    reference: str
    return_reference: str
    points_cancelled: int = 0
    points_taken_back: int = 0
    shortfall_points: int = 0
    shortfall_value: Decimal = Decimal("0.00")
    points_given_back: int = 0
    value_given_back: Decimal = Decimal("0.00")
    created: bool = False


# --- Helpers ----------------------------------------------------------------------------


def money(value) -> Decimal:
    return Decimal(value).quantize(settings.OMNI_MONEY_QUANTUM, rounding=ROUND_HALF_UP)


def _floor(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_FLOOR))


def check_points(points, *, field: str = "points", allow_negative: bool = False) -> int:
    """Whole points: a positive int (or a non-zero one with ``allow_negative``); else ``InvalidPoints``."""
    valid = isinstance(points, int) and not isinstance(points, bool)
    if valid and allow_negative:
        valid = points != 0 and abs(points) <= MAX_POINTS
    elif valid:
        valid = 0 < points <= MAX_POINTS
    if not valid:
        raise InvalidPoints(
            details={"field": field, "fields": {field: [str(InvalidPoints.message)]}, "points": repr(points)}
        )
    return points


def _check_reference(reference, field: str = "reference") -> str:
    text = str(reference or "").strip()
    if not text or len(text) > 64:
        raise InvalidReference(details={"field": field, "fields": {field: [str(InvalidReference.message)]}})
    return text


def _check_channel(channel: str) -> str:
    if channel not in Channel.values:
        raise InvalidInput.for_field("channel", _("%(value)s is not a valid channel.") % {"value": channel})
    return channel


def _check_amount(amount, field: str) -> Decimal:
    if isinstance(amount, bool) or not isinstance(amount, (Decimal, int, str)):
        raise InvalidCart.for_field(field, _("An amount is a number with at most two decimal places."))
    try:
        value = Decimal(amount)
    except ArithmeticError:
        raise InvalidCart.for_field(field, _("An amount is a number with at most two decimal places."))
    if not value.is_finite() or value < 0 or value > MAX_AMOUNT or value != money(value):
        raise InvalidCart.for_field(field, _("An amount is zero or more, with at most two decimal places."))
    return value


def cart_total(lines: Sequence[CartLine | ReturnLine]) -> Decimal:
    """Check the lines' shape and return their total."""
    if not lines:
        raise InvalidCart(details={"field": "lines", "fields": {"lines": [str(InvalidCart.message)]}})
    total = Decimal("0.00")
    for index, line in enumerate(lines):
        quantity = line.quantity
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
            raise InvalidCart.for_field(f"lines.{index}.quantity", _("A quantity is a whole number greater than zero."))
        total += _check_amount(line.amount, f"lines.{index}.amount")
    return money(total)


def _check_customer(customer: Customer) -> None:
    if customer.merged_into_id is not None:
        raise CustomerMerged(details={"customer_id": customer.pk, "merged_into": customer.merged_into_id})
    if customer.anonymised_at is not None:
        raise CustomerAnonymised(details={"customer_id": customer.pk})


def _lock_customer(customer: Customer) -> Customer:
    locked = Customer.objects.select_for_update().get(pk=customer.pk)
    _check_customer(locked)
    return locked


def _locked_active_account(account_id: int) -> Account:
    account = account_for_update(account_id)
    if account.status != AccountStatus.ACTIVE:
        raise AccountClosed(details={"account_id": account.pk, "merged_into": account.merged_into_id})
    return account


def account_required(customer: Customer) -> Account:
    account = selectors.account_of(customer)
    if account is None:
        raise NoAccount(details={"customer_id": customer.pk})
    return account


# --- Programme and tiers ----------------------------------------------------------------


def programme_current() -> Programme:
    """The active programme; on a fresh installation, one is created from the settings with a
    single base tier (edit it in the admin)."""
    programme = Programme.objects.filter(is_active=True).first()
    if programme is not None:
        return programme
    try:
        with transaction.atomic():
            programme = Programme.objects.create(name=_("Loyalty programme"), is_active=True)
            Tier.objects.create(
                programme=programme, name=_("Base"), min_spend=0, earn_rate=settings.LOYALTY_BASE_EARN_RATE
            )
    except IntegrityError:
        pass  # another request created it first
    return Programme.objects.get(is_active=True)


def programme_activate(*, programme: Programme) -> Programme:
    """Make this programme the active one; new operations follow its rules from now on."""
    with transaction.atomic():
        Programme.objects.filter(is_active=True).exclude(pk=programme.pk).update(is_active=False)
        Programme.objects.filter(pk=programme.pk).update(is_active=True)
    programme.refresh_from_db()
    return programme


def _tiers(programme: Programme) -> list[Tier]:
    return sorted(programme.tiers.all(), key=lambda tier: tier.min_spend)


def tier_for_spend(tiers: Sequence[Tier], spend: Decimal) -> Tier | None:
    """The highest tier whose qualifying spend is reached (tiers sorted by spend)."""
    reached = None
    for tier in tiers:
        if tier.min_spend <= spend:
            reached = tier
    return reached


def _period_start(programme: Programme, now: datetime.datetime) -> datetime.datetime:
    return now - datetime.timedelta(days=programme.tier_period_days)


def qualifying_spend(account: Account, *, programme: Programme, now: datetime.datetime) -> Decimal:
    total = SpendRecord.objects.filter(
        account=account, occurred_at__gt=_period_start(programme, now), occurred_at__lte=now
    ).aggregate(total=Sum("amount"))["total"]
    return money(total or 0)


def tier_change_summary(old: Tier | None, new: Tier | None) -> str:
    return _("Loyalty tier changed from %(old)s to %(new)s.") % {
        "old": old.name if old else "—",
        "new": new.name if new else "—",
    }


def _tier_recalculate_locked(
    account: Account, *, programme: Programme, now: datetime.datetime, reason: str, actor: Actor = SYSTEM
) -> TierChange | None:
    """Recalculate the tier of a locked account; record and show a change."""
    spend = qualifying_spend(account, programme=programme, now=now)
    new = tier_for_spend(_tiers(programme), spend)
    if (new.pk if new else None) == account.tier_id:
        return None
    old = account.tier
    account.tier, account.tier_changed_at = new, now
    account.save(update_fields=["tier", "tier_changed_at", "updated_at"])
    change = TierChange.objects.create(
        account=account, old_tier=old, new_tier=new, spend=spend, reason=reason, created_at=now
    )
    customer = account.customer
    if customer.merged_into_id is None and customer.anonymised_at is None:
        interaction_record(
            customer=customer,
            channel=Channel.SYSTEM,
            kind=InteractionKind.POINTS_CHANGE,
            direction=Direction.INTERNAL,
            summary=tier_change_summary(old, new),
            occurred_at=now,
            subject_type="loyalty_account",
            subject_id=str(account.pk),
            actor=actor,
        )
    return change


def tier_recalculate(
    *, customer: Customer, now: datetime.datetime | None = None, reason: str = TierChangeReason.MANUAL, actor=SYSTEM
) -> TierChange | None:
    """Recalculate a customer's tier from their qualifying spend (orders calls it after a
    purchase or return it recorded with ``spend_record``; earn and reverse do it themselves)."""
    now = now or timezone.now()
    programme = programme_current()
    account = account_required(customer)
    with transaction.atomic():
        account = _locked_active_account(account.pk)
        return _tier_recalculate_locked(account, programme=programme, now=now, reason=reason, actor=actor)


def spend_record(
    *,
    customer: Customer,
    amount: Decimal,
    occurred_at: datetime.datetime,
    cause: Cause,
    channel: str = "",
    store: Location | None = None,
) -> SpendRecord:
    """Record qualifying paid spend (negative for a return, dated at its purchase)."""
    if isinstance(amount, bool) or not isinstance(amount, (Decimal, int, str)):
        raise InvalidInput.for_field("amount", _("An amount is a number with at most two decimal places."))
    value = Decimal(amount)
    if not value.is_finite() or value != money(value) or abs(value) > MAX_AMOUNT:
        raise InvalidInput.for_field("amount", _("An amount is a number with at most two decimal places."))
    account = account_required(customer)
    return SpendRecord.objects.create(
        account=account,
        amount=value,
        occurred_at=occurred_at,
        cause_type=cause.type,
        cause_id=cause.id,
        channel=channel,
        store=store,
    )


# --- Accounts and cards -----------------------------------------------------------------


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
    _check_channel(channel)
    number = _clean_card_number(card_number) if card_number else ""
    now = now or timezone.now()
    programme = programme_current()
    with transaction.atomic():
        customer = _lock_customer(customer)
        account = Account.objects.filter(customer=customer).first()
        if account is not None:
            return account, False
        tier = tier_for_spend(_tiers(programme), Decimal(0))
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
            _add_lot(
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
            summary = _("Joined the loyalty programme with a welcome bonus of %(points)d points.") % {
                "points": programme.welcome_bonus
            }
        else:
            summary = _("Joined the loyalty programme.")
        interaction_record(
            customer=customer,
            channel=channel,
            kind=InteractionKind.POINTS_CHANGE,
            direction=Direction.INTERNAL,
            summary=summary,
            occurred_at=now,
            location=store,
            subject_type="loyalty_account",
            subject_id=str(account.pk),
            actor=actor,
        )
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
        _lock_customer(account.customer)
        account = _locked_active_account(account.pk)
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
        _lock_customer(card.account.customer)
        account = _locked_active_account(card.account_id)
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
    from loyalty.errors import UnknownCard

    card = selectors.card_by_number(number)
    if card is None:
        raise UnknownCard(details={"card_number": str(number)[:32]})
    if card.status != CardStatus.ACTIVE:
        raise CardBlocked(details={"card_number": card.number, "status": card.status})
    return card.account


# --- The ledger -------------------------------------------------------------------------


def _add_lot(
    *,
    account: Account,
    kind: str,
    points: int,
    spendable_from: datetime.datetime,
    expires_at: datetime.datetime,
    cause: Cause,
    actor: Actor,
    now: datetime.datetime,
    key: str = "",
    **fields,
) -> PointsEntry:
    return PointsEntry.objects.create(
        account=account,
        kind=kind,
        points=points,
        remaining=points,
        spendable_from=spendable_from,
        expires_at=expires_at,
        cause_type=cause.type,
        cause_id=cause.id,
        key=key,
        created_at=now,
        **actor.audit_fields,
        **fields,
    )


def _plan(lots, points: int) -> list[tuple[PointsEntry, int]]:
    """Take ``points`` from the lots in their order (first-in first-out); may take less."""
    plan, left = [], points
    for lot in lots:
        if left <= 0:
            break
        take = min(lot.remaining, left)
        if take > 0:
            plan.append((lot, take))
            left -= take
    return plan


def _consume(
    *,
    account: Account,
    kind: str,
    plan: list[tuple[PointsEntry, int]],
    cause: Cause,
    actor: Actor,
    now: datetime.datetime,
    key: str = "",
    **fields,
) -> PointsEntry:
    """Write a negative entry that consumes the planned lots, its allocations and the lots' rest."""
    total = sum(points for _lot, points in plan)
    entry = PointsEntry.objects.create(
        account=account,
        kind=kind,
        points=-total,
        remaining=0,
        cause_type=cause.type,
        cause_id=cause.id,
        key=key,
        created_at=now,
        **actor.audit_fields,
        **fields,
    )
    Allocation.objects.bulk_create([Allocation(consumer=entry, lot=lot, points=points) for lot, points in plan])
    for lot, points in plan:
        lot.remaining -= points
    PointsEntry.objects.bulk_update([lot for lot, _points in plan], ["remaining"])
    return entry


def points_adjust(
    *, account: Account, points: int, reason: str, actor: Actor, now: datetime.datetime | None = None
) -> PointsEntry:
    """A manual adjustment by staff (it needs its own permission, checked by the caller), with a
    mandatory reason. Positive: a new lot, spendable at once. Negative: taken from the available
    points first-in first-out, never below zero."""
    check_points(points, allow_negative=True)
    reason = (reason or "").strip()
    if not reason:
        raise ReasonRequired(details={"field": "reason", "fields": {"reason": [str(ReasonRequired.message)]}})
    now = now or timezone.now()
    programme = programme_current()
    cause = Cause("staff", str(actor))
    with transaction.atomic():
        account = _locked_active_account(account.pk)
        if points > 0:
            entry = _add_lot(
                account=account,
                kind=EntryKind.ADJUSTMENT,
                points=points,
                spendable_from=now,
                expires_at=now + datetime.timedelta(days=programme.expiry_days),
                cause=cause,
                note=reason[:255],
                actor=actor,
                now=now,
            )
        else:
            lots = list(selectors.lots_available(account.pk, now))
            available = sum(lot.remaining for lot in lots)
            if -points > available:
                raise NotEnoughPoints(details={"requested": -points, "available": available})
            entry = _consume(
                account=account,
                kind=EntryKind.ADJUSTMENT,
                plan=_plan(lots, -points),
                cause=cause,
                note=reason[:255],
                actor=actor,
                now=now,
            )
        interaction_record(
            customer=account.customer,
            channel=Channel.SYSTEM,
            kind=InteractionKind.POINTS_CHANGE,
            direction=Direction.INTERNAL,
            summary=_("Points adjusted by %(points)+d: %(reason)s") % {"points": points, "reason": reason},
            occurred_at=now,
            subject_type="loyalty_account",
            subject_id=str(account.pk),
            actor=actor,
        )
    return entry


def points_bonus(
    *,
    account: Account,
    points: int,
    bonus_type: str = BonusType.CAMPAIGN,
    cause: Cause,
    actor: Actor = SYSTEM,
    now: datetime.datetime | None = None,
) -> tuple[PointsEntry, bool]:
    """Grant a bonus (a campaign) once per account and cause; spendable at once."""
    check_points(points)
    if bonus_type not in BonusType.values:
        raise InvalidInput.for_field("bonus_type", _("%(value)s is not a kind of bonus.") % {"value": bonus_type})
    now = now or timezone.now()
    programme = programme_current()
    key = f"{bonus_type}:{cause.type}:{cause.id}:{account.pk}"[:128]
    with transaction.atomic():
        account = _locked_active_account(account.pk)
        existing = PointsEntry.objects.filter(key=key).first()
        if existing is not None:
            return existing, False
        entry = _add_lot(
            account=account,
            kind=EntryKind.BONUS,
            bonus_type=bonus_type,
            points=points,
            spendable_from=now,
            expires_at=now + datetime.timedelta(days=programme.expiry_days),
            cause=cause,
            key=key,
            actor=actor,
            now=now,
        )
    return entry, True


# --- Orders: quote, redeem, earn, reverse -----------------------------------------------


def _max_points_for_total(programme: Programme, total: Decimal) -> int:
    return max(_floor(total * programme.max_redeem_percent / 100 / programme.point_value), 0)


def _line_earns(line: CartLine, excluded_categories: set[int], excluded_products: set[int]) -> bool:
    if line.product_id is not None and line.product_id in excluded_products:
        return False
    return line.category_id is None or line.category_id not in excluded_categories


def _points_for(base: Decimal, rate: Decimal, programme: Programme) -> int:
    """Points for a paid amount: the rate's share of it, in points of the programme's value."""
    return max(_floor(base * rate / 100 / programme.point_value), 0)


def _current_tier(account: Account, programme: Programme) -> Tier | None:
    tier = account.tier
    if tier is not None and tier.programme_id == programme.pk:
        return tier
    return None


def points_quote(*, customer: Customer, lines: Sequence[CartLine], channel: str, now=None) -> Quote:
    """How many points this customer may spend on this cart and what they are worth (read-only).

    The most is the smaller of the available balance and the programme's share of the cart.
    ``points_to_earn`` is what the cart earns when paid entirely in money.
    """
    from loyalty.otp import code_required

    total = cart_total(lines)
    _check_channel(channel)
    now = now or timezone.now()
    programme = programme_current()
    account = account_required(customer)
    available = selectors.balance(account, now=now).available if account.is_active else 0
    max_points = min(available, _max_points_for_total(programme, total))
    tier = _current_tier(account, programme) or tier_for_spend(
        _tiers(programme), qualifying_spend(account, programme=programme, now=now)
    )
    excluded_categories = selectors.excluded_category_ids(programme)
    excluded_products = selectors.excluded_product_ids(programme)
    eligible = sum(
        (line.amount for line in lines if _line_earns(line, excluded_categories, excluded_products)), Decimal(0)
    )
    return Quote(
        order_total=total,
        available=available,
        max_points=max_points,
        max_value=money(max_points * programme.point_value),
        point_value=programme.point_value,
        max_share_percent=programme.max_redeem_percent,
        code_required=code_required(programme, channel),
        points_to_earn=_points_for(Decimal(eligible), tier.earn_rate, programme) if tier else 0,
        tier=tier,
    )


def redemption_of(reference: str) -> PointsEntry | None:
    """The redemption made under this order reference, if any."""
    return PointsEntry.objects.filter(key=f"redeem:{reference}").first()


def _redemption_result(entry: PointsEntry, created: bool) -> Redemption:
    return Redemption(entry=entry, points=-entry.points, value=entry.amount or Decimal("0.00"), created=created)


def _same_redemption(entry: PointsEntry, account: Account, points: int, reference: str) -> Redemption:
    if entry.account_id != account.pk or -entry.points != points:
        raise ReferenceConflict(
            _("Reference %(reference)s was already used to spend %(points)d points.")
            % {"reference": reference, "points": -entry.points},
            details={"reference": reference, "points": -entry.points},
        )
    return _redemption_result(entry, created=False)


def points_redeem(
    *,
    customer: Customer,
    points: int,
    reference: str,
    lines: Sequence[CartLine],
    channel: str,
    store: Location | None = None,
    code: str = "",
    verified_code: int | None = None,
    actor: Actor = SYSTEM,
    now: datetime.datetime | None = None,
) -> Redemption:
    """Spend points on an order, once per reference: the same reference again returns the first
    redemption (and refuses with ``reference_conflict`` if it named other points or another customer).

    Refused with ``not_enough_points`` beyond the available balance and ``exceeds_order_share``
    beyond the programme's share of the cart; nothing changes then. In a store or by phone the
    programme may require the one-time code sent to the customer (``loyalty.otp``). The check of
    the code commits its failed attempts on its own: call this outside your own transaction, or
    check the code first (``otp_verify``, before your transaction) and pass ``verified_code``.
    """
    from loyalty.otp import code_required, otp_consume, otp_verify

    check_points(points)
    reference = _check_reference(reference)
    total = cart_total(lines)
    _check_channel(channel)
    now = now or timezone.now()
    account = account_required(customer)
    key = f"redeem:{reference}"
    existing = PointsEntry.objects.filter(key=key).first()
    if existing is not None:
        return _same_redemption(existing, account, points, reference)
    programme = programme_current()
    otp_id = None
    if code_required(programme, channel):
        otp_id = verified_code if verified_code is not None else otp_verify(account=account, code=code, now=now)
    try:
        with transaction.atomic():
            account = _locked_active_account(account.pk)
            existing = PointsEntry.objects.filter(key=key).first()
            if existing is not None:  # the same reference won the race for the lock
                return _same_redemption(existing, account, points, reference)
            if OrderPoints.objects.filter(reference=reference).exists():
                raise ReferenceConflict(details={"reference": reference})
            most = _max_points_for_total(programme, total)
            if points > most:
                raise ExceedsOrderShare(
                    _("At most %(most)d points may pay for this order (%(share)s%% of it).")
                    % {"most": most, "share": format(programme.max_redeem_percent.normalize(), "f")},
                    details={"requested": points, "max_points": most, "order_total": str(total)},
                )
            lots = list(selectors.lots_available(account.pk, now))
            available = sum(lot.remaining for lot in lots)
            if points > available:
                raise NotEnoughPoints(
                    _("%(requested)d points requested, %(available)d available.")
                    % {"requested": points, "available": available},
                    details={"requested": points, "available": available},
                )
            if otp_id is not None:
                otp_consume(account=account, otp_id=otp_id, now=now)
            value = money(points * programme.point_value)
            entry = _consume(
                account=account,
                kind=EntryKind.REDEEM,
                plan=_plan(lots, points),
                cause=Cause("order", reference),
                key=key,
                point_value=programme.point_value,
                amount=value,
                channel=channel,
                store=store,
                actor=actor,
                now=now,
            )
            OrderPoints.objects.create(
                reference=reference,
                account=account,
                channel=channel,
                store=store,
                order_total=total,
                points_redeemed=points,
                redeemed_value=value,
                redemption=entry,
            )
    except IntegrityError:
        # The same reference was redeemed on another account at the same moment.
        existing = PointsEntry.objects.filter(key=key).first()
        if existing is None:
            raise
        return _same_redemption(existing, account, points, reference)
    return _redemption_result(entry, created=True)


def _earning_of(order: OrderPoints, created: bool) -> Earning:
    entry = PointsEntry.objects.filter(key=f"earn:{order.reference}").first()
    return Earning(
        reference=order.reference,
        points=order.points_earned,
        paid_amount=order.paid_amount,
        earn_rate=entry.earn_rate if entry else Decimal("0"),
        spendable_from=entry.spendable_from if entry else None,
        expires_at=entry.expires_at if entry else None,
        created=created,
    )


def points_earn_for_order(
    *,
    customer: Customer,
    reference: str,
    lines: Sequence[CartLine],
    channel: str,
    store: Location | None = None,
    completed_at: datetime.datetime | None = None,
    actor: Actor = SYSTEM,
) -> Earning:
    """Earn points for a completed order, once per reference; opens the account if needed.

    Points = the tier's rate of the paid amount of the lines that earn (points spent on the order
    are not paid money: the points' value is spread over the lines in proportion), in points of
    the programme's value, rounded down. They stay pending for the holding period, then expire
    after the programme's expiry. The paid amount is recorded as qualifying spend and the tier is
    recalculated. Extra points of a promo code used on the order are granted with them.
    """
    reference = _check_reference(reference)
    total = cart_total(lines)
    _check_channel(channel)
    now = completed_at or timezone.now()
    programme = programme_current()
    account, _opened = account_open(customer=customer, channel=channel, store=store, actor=actor, now=now)
    with transaction.atomic():
        account = _locked_active_account(account.pk)
        order = OrderPoints.objects.select_for_update().filter(reference=reference).first()
        if order is not None and order.account_id != account.pk:
            raise ReferenceConflict(details={"reference": reference})
        if order is not None and order.completed_at is not None:
            return _earning_of(order, created=False)
        redeemed_value = Decimal(0)
        if order is not None and order.points_redeemed:
            kept = order.points_redeemed - order.points_redeemed_returned
            redeemed_value = money(order.redeemed_value * kept / order.points_redeemed)
        paid = max(total - redeemed_value, Decimal("0.00"))
        excluded_categories = selectors.excluded_category_ids(programme)
        excluded_products = selectors.excluded_product_ids(programme)
        earns = [_line_earns(line, excluded_categories, excluded_products) for line in lines]
        eligible = money(sum((line.amount for line, ok in zip(lines, earns, strict=True) if ok), Decimal(0)))
        base = eligible * paid / total if total else Decimal(0)
        tier = _current_tier(account, programme)
        if tier is None:
            _tier_recalculate_locked(account, programme=programme, now=now, reason=TierChangeReason.PURCHASE)
            tier = _current_tier(account, programme)
        rate = tier.earn_rate if tier else Decimal("0")
        points = _points_for(base, rate, programme)
        spendable_from = now + datetime.timedelta(days=programme.holding_days)
        expires_at = spendable_from + datetime.timedelta(days=programme.expiry_days)
        if order is None:
            order = OrderPoints.objects.create(reference=reference, account=account, channel=channel, store=store)
        lot_fields = {
            "spendable_from": spendable_from,
            "expires_at": expires_at,
            "cause": Cause("order", reference),
            "channel": channel,
            "store": store,
            "actor": actor,
            "now": now,
        }
        if points > 0:
            _add_lot(
                account=account,
                kind=EntryKind.EARN,
                points=points,
                key=f"earn:{reference}",
                tier=tier,
                earn_rate=rate,
                point_value=programme.point_value,
                amount=paid,
                **lot_fields,
            )
        promo_points = 0
        for usage in PromoUsage.objects.filter(reference=reference, status=PromoUsageStatus.APPLIED, points__gt=0):
            _add_lot(
                account=account,
                kind=EntryKind.BONUS,
                bonus_type=BonusType.PROMO,
                points=usage.points,
                key=f"promo:{usage.pk}",
                note=usage.promo.code,
                **lot_fields,
            )
            promo_points += usage.points
        OrderPointsLine.objects.bulk_create(
            [
                OrderPointsLine(
                    order=order,
                    product_id=line.product_id,
                    category_id=line.category_id,
                    quantity=line.quantity,
                    amount=money(line.amount),
                    eligible=ok,
                )
                for line, ok in zip(lines, earns, strict=True)
            ]
        )
        order.completed_at, order.order_total, order.paid_amount = now, total, paid
        order.eligible_amount, order.points_earned = eligible, points + promo_points
        order.channel, order.store = channel, store
        order.save(
            update_fields=[
                "completed_at",
                "order_total",
                "paid_amount",
                "eligible_amount",
                "points_earned",
                "channel",
                "store",
                "updated_at",
            ]
        )
        if paid > 0:
            SpendRecord.objects.create(
                account=account,
                amount=paid,
                occurred_at=now,
                cause_type="order",
                cause_id=reference,
                channel=channel,
                store=store,
                created_at=now,
            )
        _tier_recalculate_locked(account, programme=programme, now=now, reason=TierChangeReason.PURCHASE, actor=actor)
    return Earning(
        reference=reference,
        points=points + promo_points,
        paid_amount=paid,
        earn_rate=rate,
        spendable_from=spendable_from if points + promo_points else None,
        expires_at=expires_at if points + promo_points else None,
        created=True,
    )


def _proportion(points: int, part: Decimal, whole: Decimal) -> int:
    """The points of ``part`` of ``whole``, rounded down; all of them once the whole is reached."""
    if points <= 0:
        return 0
    if whole <= 0 or part >= whole:
        return points
    return _floor(Decimal(points) * part / whole)


def _reversal_of(row: OrderPointsReturn, order: OrderPoints, created: bool) -> Reversal:
    return Reversal(
        reference=order.reference,
        return_reference=row.reference,
        points_cancelled=row.points_cancelled,
        points_taken_back=row.points_taken_back,
        shortfall_points=row.shortfall_points,
        shortfall_value=row.shortfall_value,
        points_given_back=row.points_given_back,
        value_given_back=row.value_given_back,
        created=created,
    )


def _give_back_redeemed(
    order: OrderPoints, points: int, *, cause: Cause, actor: Actor, now: datetime.datetime
) -> Decimal:
    """Give back ``points`` of the order's redemption as new lots keeping the expiry of the lots
    they came from (the latest-expiring first); return their money value."""
    redemption = order.redemption
    allocations = (
        Allocation.objects.filter(consumer=redemption).select_related("lot").order_by("-lot__expires_at", "-lot_id")
    )
    skip, need, chunks = order.points_redeemed_returned, points, []
    for allocation in allocations:
        part = allocation.points
        if skip >= part:
            skip -= part
            continue
        part -= skip
        skip = 0
        take = min(part, need)
        if chunks and chunks[-1][0] == allocation.lot.expires_at:
            chunks[-1][1] += take
        else:
            chunks.append([allocation.lot.expires_at, take])
        need -= take
        if need == 0:
            break
    for expires_at, chunk in chunks:
        _add_lot(
            account=order.account,
            kind=EntryKind.REVERSAL,
            points=chunk,
            spendable_from=now,
            expires_at=expires_at,
            cause=cause,
            reverses=redemption,
            point_value=redemption.point_value,
            amount=money(chunk * redemption.point_value),
            channel=order.channel,
            store=order.store,
            actor=actor,
            now=now,
        )
    return money(points * redemption.point_value)


def points_reverse(
    *,
    reference: str,
    return_reference: str,
    lines: Sequence[ReturnLine] | None = None,
    actor: Actor = SYSTEM,
    now: datetime.datetime | None = None,
) -> Reversal:
    """A return (``lines``: what came back) or a cancellation (``lines=None``: all that is left).

    Earned points of the returned goods, in proportion of the amount that earned: pending ones
    are cancelled, spendable ones taken back; what the customer already spent is taken from their
    other available points and, beyond them, reported as the shortfall (points and money) for the
    return to deduct from the refund: the balance never goes negative. Points spent on the order
    come back in proportion of the amount returned. Proportions are cumulative and rounded down,
    so several partial returns never move more than the order had, and the last one settles the
    rest. Once per return reference; an order loyalty never saw changes nothing.
    """
    reference = _check_reference(reference)
    return_reference = _check_reference(return_reference, "return_reference")
    if lines is not None:
        cart_total(lines)
    now = now or timezone.now()
    order = OrderPoints.objects.filter(reference=reference).first()
    if order is None:
        return Reversal(reference=reference, return_reference=return_reference)
    programme = programme_current()
    cause = Cause("return", return_reference)
    with transaction.atomic():
        account = account_for_update(order.account_id)
        order = OrderPoints.objects.select_for_update(of=("self",)).select_related("redemption").get(pk=order.pk)
        order.account = account
        existing = order.returns.filter(reference=return_reference).first()
        if existing is not None:
            return _reversal_of(existing, order, created=False)

        # What comes back, capped by what is left of the order.
        amount_left = order.order_total - order.returned_amount
        eligible_left = order.eligible_amount - order.returned_eligible_amount
        if lines is None:
            amount, eligible = amount_left, eligible_left
        else:
            earning = {line.product_id for line in order.lines.all() if line.eligible}
            amount = money(sum((Decimal(line.amount) for line in lines), Decimal(0)))
            eligible = money(sum((Decimal(line.amount) for line in lines if line.product_id in earning), Decimal(0)))
            amount, eligible = min(amount, amount_left), min(eligible, eligible_left, amount)
        returned = order.returned_amount + amount
        returned_eligible = order.returned_eligible_amount + eligible

        # Earned points.
        if order.eligible_amount > 0:
            target = _proportion(order.points_earned, returned_eligible, order.eligible_amount)
        else:
            target = _proportion(order.points_earned, returned, order.order_total)
        to_reverse = max(target - order.points_earn_reversed, 0)
        cancelled = taken = shortfall = 0
        if to_reverse:
            own = list(
                PointsEntry.objects.filter(
                    account=account,
                    cause_type="order",
                    cause_id=reference,
                    kind__in=[EntryKind.EARN, EntryKind.BONUS],
                    remaining__gt=0,
                ).order_by("spendable_from", "expires_at", "id")
            )
            plan = _plan(own, to_reverse)
            missing = to_reverse - sum(points for _lot, points in plan)
            if missing and account.is_active:
                others = selectors.lots_available(account.pk, now).exclude(pk__in=[lot.pk for lot in own])
                plan += _plan(list(others), missing)
            moved = sum(points for _lot, points in plan)
            shortfall = to_reverse - moved
            own_ids = {lot.pk for lot in own}
            cancelled = sum(points for lot, points in plan if lot.pk in own_ids and lot.spendable_from > now)
            taken = moved - cancelled
            if plan:
                _consume(
                    account=account,
                    kind=EntryKind.REVERSAL,
                    plan=plan,
                    cause=cause,
                    reverses=PointsEntry.objects.filter(key=f"earn:{reference}").first(),
                    channel=order.channel,
                    store=order.store,
                    actor=actor,
                    now=now,
                )

        # Points spent on the order.
        given_back, value_back = 0, Decimal("0.00")
        if order.points_redeemed:
            back_target = _proportion(order.points_redeemed, returned, order.order_total)
            given_back = max(back_target - order.points_redeemed_returned, 0)
            if given_back:
                value_back = _give_back_redeemed(order, given_back, cause=cause, actor=actor, now=now)

        # Qualifying spend: the paid share of what came back leaves it, dated at the purchase.
        if order.completed_at is not None and order.order_total > 0 and amount > 0:
            spend = money(amount * order.paid_amount / order.order_total)
            if spend:
                SpendRecord.objects.create(
                    account=account,
                    amount=-spend,
                    occurred_at=order.completed_at,
                    cause_type=cause.type,
                    cause_id=cause.id,
                    channel=order.channel,
                    store=order.store,
                    created_at=now,
                )

        order.returned_amount, order.returned_eligible_amount = returned, returned_eligible
        order.points_earn_reversed += to_reverse
        order.points_redeemed_returned += given_back
        order.save(
            update_fields=[
                "returned_amount",
                "returned_eligible_amount",
                "points_earn_reversed",
                "points_redeemed_returned",
                "updated_at",
            ]
        )
        row = OrderPointsReturn.objects.create(
            order=order,
            reference=return_reference,
            amount=amount,
            eligible_amount=eligible,
            points_cancelled=cancelled,
            points_taken_back=taken,
            shortfall_points=shortfall,
            shortfall_value=money(shortfall * programme.point_value),
            points_given_back=given_back,
            value_given_back=value_back,
            created_at=now,
        )
        if order.completed_at is not None and account.is_active:
            _tier_recalculate_locked(account, programme=programme, now=now, reason=TierChangeReason.RETURN, actor=actor)
    return _reversal_of(row, order, created=True)
