"""Points on orders, the services the orders app calls with plain values:

- ``points_quote``: how many points this customer may spend on this cart and their value;
- ``points_redeem``: spend points on an order (once per reference);
- ``points_earn_for_order``: earn for a completed order (tier rate on the paid amount);
- ``points_reverse`` (``order_returns``): a return or a cancellation.

``OrderPoints`` keeps, per order reference, what was spent, earned and returned, so that each of
these runs once per reference and several partial returns never move more than the order had.
"""

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.models import Customer
from inventory.models import Location
from loyalty import hooks, selectors
from loyalty.errors import ExceedsOrderShare, NoAccount, NotEnoughPoints, ReferenceConflict
from loyalty.lock_objects import customer_account_with_programme_for_update
from loyalty.models import (
    Account,
    BonusType,
    EntryKind,
    OrderPoints,
    OrderPointsLine,
    PointsEntry,
    Programme,
    PromoUsage,
    PromoUsageStatus,
    SpendRecord,
    Tier,
    TierChangeReason,
)
from loyalty.services.accounts import account_open
from loyalty.services.checks import (
    CartLine,
    Cause,
    account_required,
    active_account_for_update,
    cart_total,
    check_account_active,
    check_channel,
    check_points,
    check_reference,
    money,
)
from loyalty.services.ledger import consumption_rows, fifo_plan, lot_add
from loyalty.services.otp import code_required, otp_consume, otp_verify
from loyalty.services.programme import (
    programme_current,
    qualifying_spend,
    tier_for_spend,
    tier_recalculate_locked,
    tiers_by_spend,
)
from omni.core.actors import SYSTEM, Actor
from omni.core.db import rows_write_together, service_atomic


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


def _floor(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_FLOOR))


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
    total = cart_total(lines)
    check_channel(channel)
    now = now or timezone.now()
    programme = programme_current()
    account = account_required(customer)
    available = selectors.balance(account, now=now).available if account.is_active else 0
    max_points = min(available, _max_points_for_total(programme, total))
    tier = _current_tier(account, programme) or tier_for_spend(
        tiers_by_spend(programme), qualifying_spend(account, programme=programme, now=now)
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


def _check_order_share(programme: Programme, *, points: int, total: Decimal) -> None:
    """Refuse (``ExceedsOrderShare``) more points than the programme's share of the order."""
    most = _max_points_for_total(programme, total)
    if points > most:
        raise ExceedsOrderShare(
            _("At most %(most)d points may pay for this order (%(share)s%% of it).")
            % {"most": most, "share": format(programme.max_redeem_percent.normalize(), "f")},
            details={"requested": points, "max_points": most, "order_total": str(total)},
        )


def _check_available(lots: list[PointsEntry], points: int) -> None:
    """Refuse (``NotEnoughPoints``) more points than these available lots hold."""
    available = sum(lot.remaining for lot in lots)
    if points > available:
        raise NotEnoughPoints(
            _("%(requested)d points requested, %(available)d available.")
            % {"requested": points, "available": available},
            details={"requested": points, "available": available},
        )


def _redemption_write(
    *,
    account: Account,
    programme: Programme,
    lots: list[PointsEntry],
    points: int,
    reference: str,
    total: Decimal,
    channel: str,
    store: Location | None,
    actor: Actor,
    now: datetime.datetime,
) -> PointsEntry:
    """Spend the points from the lots (first-in first-out) and open the order's ``OrderPoints``."""
    value = money(points * programme.point_value)
    plan = fifo_plan(lots, points)
    entry, allocations = consumption_rows(
        account=account,
        kind=EntryKind.REDEEM,
        plan=plan,
        cause=Cause("order", reference),
        key=f"redeem:{reference}",
        point_value=programme.point_value,
        amount=value,
        channel=channel,
        store=store,
        actor=actor,
        now=now,
    )
    order = OrderPoints(
        reference=reference,
        account=account,
        channel=channel,
        store=store,
        order_total=total,
        points_redeemed=points,
        redeemed_value=value,
        redemption=entry,
    )
    # The entry, its allocations, the lots' rest and the order's points: one statement on PostgreSQL.
    rows_write_together([entry], allocations, [order], updates=[([lot for lot, _points in plan], ["remaining"])])
    return entry


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
    new_reference: bool = False,
) -> Redemption:
    """Spend points on an order, once per reference: the same reference again returns the first
    redemption (and refuses with ``reference_conflict`` if it named other points or another customer).

    Refused with ``not_enough_points`` beyond the available balance and ``exceeds_order_share``
    beyond the programme's share of the cart; nothing changes then. In a store or by phone the
    programme may require the one-time code sent to the customer (``loyalty.services.otp``). The
    check of the code commits its failed attempts on its own: call this outside your own
    transaction, or check the code first (``otp_verify``, before your transaction) and pass
    ``verified_code``.

    ``new_reference``: the caller drew the reference from a sequence in its own transaction (an
    order being placed), so no redemption can exist under it: the look-ups for one are skipped and
    the account is found and locked in one statement (the reference's unique key still guards
    the rule).
    """
    check_points(points)
    reference = check_reference(reference)
    total = cart_total(lines)
    check_channel(channel)
    now = now or timezone.now()
    redeem = {"points": points, "reference": reference, "total": total, "channel": channel, "store": store}
    if new_reference:
        with service_atomic():
            account, programme = _account_and_programme_for_update(customer)
            otp_id = _verified_code(programme, channel, account, code, verified_code, now)
            entry = _redeem_locked(account, programme, otp_id=otp_id, actor=actor, now=now, **redeem)
        return _redemption_result(entry, created=True)
    account = account_required(customer)
    existing = redemption_of(reference)
    if existing is not None:
        return _same_redemption(existing, account, points, reference)
    programme = programme_current()
    otp_id = _verified_code(programme, channel, account, code, verified_code, now)
    try:
        with transaction.atomic():
            account = active_account_for_update(account.pk)
            existing = redemption_of(reference)
            if existing is not None:  # the same reference won the race for the lock
                return _same_redemption(existing, account, points, reference)
            if OrderPoints.objects.filter(reference=reference).exists():
                raise ReferenceConflict(details={"reference": reference})
            entry = _redeem_locked(account, programme, otp_id=otp_id, actor=actor, now=now, **redeem)
    except IntegrityError:
        # The same reference was redeemed on another account at the same moment.
        existing = redemption_of(reference)
        if existing is None:
            raise
        return _same_redemption(existing, account, points, reference)
    return _redemption_result(entry, created=True)


def _account_and_programme_for_update(customer: Customer) -> tuple[Account, Programme]:
    """The customer's active account, locked, and the active programme (``programme_current``),
    read in the same statement where a programme is active."""
    account, programme = customer_account_with_programme_for_update(customer.pk)
    if account is None:
        raise NoAccount(details={"customer_id": customer.pk})
    return check_account_active(account), programme or programme_current()


def _verified_code(programme: Programme, channel: str, account: Account, code: str, verified: int | None, now):
    """The one-time code that allows spending, where the programme wants one (checked now unless
    the caller checked it before its transaction)."""
    if not code_required(programme, channel):
        return None
    return verified if verified is not None else otp_verify(account=account, code=code, now=now)


def _redeem_locked(
    account: Account, programme: Programme, *, points, reference, total, channel, store, otp_id, actor, now
):
    """Check and write a redemption on the locked account."""
    _check_order_share(programme, points=points, total=total)
    lots = selectors.lots_available(account.pk, now)
    _check_available(lots, points)
    if otp_id is not None:
        otp_consume(account=account, otp_id=otp_id, now=now)
    entry = _redemption_write(
        account=account,
        programme=programme,
        lots=lots,
        points=points,
        reference=reference,
        total=total,
        channel=channel,
        store=store,
        actor=actor,
        now=now,
    )
    hooks.points_changed(account)
    return entry


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


def _kept_redeemed_value(order: OrderPoints | None) -> Decimal:
    """The value of the points spent on the order and not given back: it is not paid money."""
    if order is None or not order.points_redeemed:
        return Decimal(0)
    kept = order.points_redeemed - order.points_redeemed_returned
    return money(order.redeemed_value * kept / order.points_redeemed)


def _lines_earning(lines: Sequence[CartLine], programme: Programme) -> list[bool]:
    """For each line, whether it earns (its product and category are not excluded)."""
    excluded_categories = selectors.excluded_category_ids(programme)
    excluded_products = selectors.excluded_product_ids(programme)
    return [_line_earns(line, excluded_categories, excluded_products) for line in lines]


def _earning_tier(account: Account, programme: Programme, now: datetime.datetime) -> Tier | None:
    """The locked account's tier in this programme; one from a tier of another programme is
    recalculated first."""
    tier = _current_tier(account, programme)
    if tier is None:
        tier_recalculate_locked(account, programme=programme, now=now, reason=TierChangeReason.PURCHASE)
        tier = _current_tier(account, programme)
    return tier


@dataclass(frozen=True)
class _OrderEarning:
    """What a completed order earns; ``line_earns`` says for each of its lines whether it earns."""

    paid: Decimal
    line_earns: list[bool]
    eligible: Decimal
    tier: Tier | None
    rate: Decimal
    points: int


def _order_earning(
    account: Account,
    programme: Programme,
    *,
    order: OrderPoints | None,
    lines: Sequence[CartLine],
    total: Decimal,
    now: datetime.datetime,
) -> _OrderEarning:
    """The tier's rate of the paid share of the lines that earn, in points of the programme's value."""
    paid = max(total - _kept_redeemed_value(order), Decimal("0.00"))
    line_earns = _lines_earning(lines, programme)
    eligible = money(sum((line.amount for line, ok in zip(lines, line_earns, strict=True) if ok), Decimal(0)))
    base = eligible * paid / total if total else Decimal(0)
    tier = _earning_tier(account, programme, now)
    rate = tier.earn_rate if tier else Decimal("0")
    points = _points_for(base, rate, programme)
    return _OrderEarning(paid=paid, line_earns=line_earns, eligible=eligible, tier=tier, rate=rate, points=points)


def _earned_lots_add(
    *,
    account: Account,
    programme: Programme,
    reference: str,
    earned: _OrderEarning,
    spendable_from: datetime.datetime,
    expires_at: datetime.datetime,
    channel: str,
    store: Location | None,
    actor: Actor,
    now: datetime.datetime,
) -> int:
    """Write the lot of the points earned and one per promo code with extra points used on the
    order; return the promo codes' points."""
    lot_fields = {
        "spendable_from": spendable_from,
        "expires_at": expires_at,
        "cause": Cause("order", reference),
        "channel": channel,
        "store": store,
        "actor": actor,
        "now": now,
    }
    if earned.points > 0:
        lot_add(
            account=account,
            kind=EntryKind.EARN,
            points=earned.points,
            key=f"earn:{reference}",
            tier=earned.tier,
            earn_rate=earned.rate,
            point_value=programme.point_value,
            amount=earned.paid,
            **lot_fields,
        )
    promo_points = 0
    for usage in PromoUsage.objects.filter(reference=reference, status=PromoUsageStatus.APPLIED, points__gt=0):
        lot_add(
            account=account,
            kind=EntryKind.BONUS,
            bonus_type=BonusType.PROMO,
            points=usage.points,
            key=f"promo:{usage.pk}",
            note=usage.promo.code,
            **lot_fields,
        )
        promo_points += usage.points
    return promo_points


def _order_points_complete(
    order: OrderPoints,
    *,
    lines: Sequence[CartLine],
    earned: _OrderEarning,
    points: int,
    total: Decimal,
    channel: str,
    store: Location | None,
    now: datetime.datetime,
) -> None:
    """Keep the order's lines and figures, so that returns reverse in proportion."""
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
            for line, ok in zip(lines, earned.line_earns, strict=True)
        ]
    )
    order.completed_at, order.order_total, order.paid_amount = now, total, earned.paid
    order.eligible_amount, order.points_earned = earned.eligible, points
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


def order_spend_add(
    account: Account,
    amount: Decimal,
    *,
    occurred_at: datetime.datetime,
    cause: Cause,
    order: OrderPoints,
    now: datetime.datetime,
) -> None:
    """Record qualifying spend of the order (negative for a return), in its channel and store."""
    SpendRecord.objects.create(
        account=account,
        amount=amount,
        occurred_at=occurred_at,
        cause_type=cause.type,
        cause_id=cause.id,
        channel=order.channel,
        store=order.store,
        created_at=now,
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
    reference = check_reference(reference)
    total = cart_total(lines)
    check_channel(channel)
    now = completed_at or timezone.now()
    programme = programme_current()
    account, _opened = account_open(customer=customer, channel=channel, store=store, actor=actor, now=now)
    with transaction.atomic():
        account = active_account_for_update(account.pk)
        order = OrderPoints.objects.select_for_update().filter(reference=reference).first()
        if order is not None and order.account_id != account.pk:
            raise ReferenceConflict(details={"reference": reference})
        if order is not None and order.completed_at is not None:
            return _earning_of(order, created=False)
        earned = _order_earning(account, programme, order=order, lines=lines, total=total, now=now)
        spendable_from = now + datetime.timedelta(days=programme.holding_days)
        expires_at = spendable_from + datetime.timedelta(days=programme.expiry_days)
        if order is None:
            order = OrderPoints.objects.create(reference=reference, account=account, channel=channel, store=store)
        points = earned.points + _earned_lots_add(
            account=account,
            programme=programme,
            reference=reference,
            earned=earned,
            spendable_from=spendable_from,
            expires_at=expires_at,
            channel=channel,
            store=store,
            actor=actor,
            now=now,
        )
        _order_points_complete(
            order, lines=lines, earned=earned, points=points, total=total, channel=channel, store=store, now=now
        )
        if earned.paid > 0:
            order_spend_add(
                account, earned.paid, occurred_at=now, cause=Cause("order", reference), order=order, now=now
            )
        tier_recalculate_locked(account, programme=programme, now=now, reason=TierChangeReason.PURCHASE, actor=actor)
        if points:
            hooks.points_changed(account)
    return Earning(
        reference=reference,
        points=points,
        paid_amount=earned.paid,
        earn_rate=earned.rate,
        spendable_from=spendable_from if points else None,
        expires_at=expires_at if points else None,
        created=True,
    )
