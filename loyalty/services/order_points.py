"""Points on orders, the services the orders app calls with plain values:

- ``points_quote``: how many points this customer may spend on this cart and their value;
- ``points_redeem``: spend points on an order (once per reference);
- ``points_earn_for_order``: earn for a completed order (tier rate on the paid amount);
- ``points_reverse``: a return or a cancellation (proportional, with the shortfall reported).

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
from loyalty import selectors
from loyalty.errors import ExceedsOrderShare, NotEnoughPoints, ReferenceConflict
from loyalty.lock_objects import account_for_update
from loyalty.models import (
    Account,
    BonusType,
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
    TierChangeReason,
)
from loyalty.services.accounts import account_open
from loyalty.services.checks import (
    CartLine,
    Cause,
    ReturnLine,
    account_required,
    active_account_for_update,
    cart_total,
    check_channel,
    check_points,
    check_reference,
    money,
)
from loyalty.services.ledger import fifo_plan, lot_add, lots_consume, redeemed_give_back
from loyalty.services.otp import code_required, otp_consume, otp_verify
from loyalty.services.programme import (
    programme_current,
    qualifying_spend,
    tier_for_spend,
    tier_recalculate_locked,
    tiers_by_spend,
)
from omni.core.actors import SYSTEM, Actor


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
    entry = lots_consume(
        account=account,
        kind=EntryKind.REDEEM,
        plan=fifo_plan(lots, points),
        cause=Cause("order", reference),
        key=f"redeem:{reference}",
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
) -> Redemption:
    """Spend points on an order, once per reference: the same reference again returns the first
    redemption (and refuses with ``reference_conflict`` if it named other points or another customer).

    Refused with ``not_enough_points`` beyond the available balance and ``exceeds_order_share``
    beyond the programme's share of the cart; nothing changes then. In a store or by phone the
    programme may require the one-time code sent to the customer (``loyalty.services.otp``). The
    check of the code commits its failed attempts on its own: call this outside your own
    transaction, or check the code first (``otp_verify``, before your transaction) and pass
    ``verified_code``.
    """
    check_points(points)
    reference = check_reference(reference)
    total = cart_total(lines)
    check_channel(channel)
    now = now or timezone.now()
    account = account_required(customer)
    existing = redemption_of(reference)
    if existing is not None:
        return _same_redemption(existing, account, points, reference)
    programme = programme_current()
    otp_id = None
    if code_required(programme, channel):
        otp_id = verified_code if verified_code is not None else otp_verify(account=account, code=code, now=now)
    try:
        with transaction.atomic():
            account = active_account_for_update(account.pk)
            existing = redemption_of(reference)
            if existing is not None:  # the same reference won the race for the lock
                return _same_redemption(existing, account, points, reference)
            if OrderPoints.objects.filter(reference=reference).exists():
                raise ReferenceConflict(details={"reference": reference})
            _check_order_share(programme, points=points, total=total)
            lots = list(selectors.lots_available(account.pk, now))
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
    except IntegrityError:
        # The same reference was redeemed on another account at the same moment.
        existing = redemption_of(reference)
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


def _spend_add(
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
            _spend_add(account, earned.paid, occurred_at=now, cause=Cause("order", reference), order=order, now=now)
        tier_recalculate_locked(account, programme=programme, now=now, reason=TierChangeReason.PURCHASE, actor=actor)
    return Earning(
        reference=reference,
        points=points,
        paid_amount=earned.paid,
        earn_rate=earned.rate,
        spendable_from=spendable_from if points else None,
        expires_at=expires_at if points else None,
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


def _amounts_back(order: OrderPoints, lines: Sequence[ReturnLine] | None) -> tuple[Decimal, Decimal]:
    """The amount that comes back and the part of it that earned, capped by what is left of the
    order; all that is left for a cancellation (``lines=None``)."""
    amount_left = order.order_total - order.returned_amount
    eligible_left = order.eligible_amount - order.returned_eligible_amount
    if lines is None:
        return amount_left, eligible_left
    earning = {line.product_id for line in order.lines.all() if line.eligible}
    amount = money(sum((Decimal(line.amount) for line in lines), Decimal(0)))
    eligible = money(sum((Decimal(line.amount) for line in lines if line.product_id in earning), Decimal(0)))
    return min(amount, amount_left), min(eligible, eligible_left, amount)


def _earned_to_reverse(order: OrderPoints, *, returned: Decimal, returned_eligible: Decimal) -> int:
    """The earned points of all that came back so far (in proportion of the amount that earned),
    less those already reversed."""
    if order.eligible_amount > 0:
        target = _proportion(order.points_earned, returned_eligible, order.eligible_amount)
    else:
        target = _proportion(order.points_earned, returned, order.order_total)
    return max(target - order.points_earn_reversed, 0)


@dataclass(frozen=True)
class _EarnedBack:
    """Earned points reversed: ``cancelled`` (still pending), ``taken`` back (spendable), and the
    ``shortfall`` the customer had already spent and has no other points for."""

    cancelled: int = 0
    taken: int = 0
    shortfall: int = 0


def _earned_back_plan(
    order: OrderPoints, points: int, now: datetime.datetime
) -> tuple[list[tuple[PointsEntry, int]], _EarnedBack]:
    """Where ``points`` earned on the order come back from, read only: the lots it earned first,
    then the account's other available points (an active account's only); what is missing is the
    shortfall."""
    if not points:
        return [], _EarnedBack()
    account = order.account
    own = list(
        PointsEntry.objects.filter(
            account=account,
            cause_type="order",
            cause_id=order.reference,
            kind__in=[EntryKind.EARN, EntryKind.BONUS],
            remaining__gt=0,
        ).order_by("spendable_from", "expires_at", "id")
    )
    plan = fifo_plan(own, points)
    missing = points - sum(taken for _lot, taken in plan)
    if missing and account.is_active:
        others = selectors.lots_available(account.pk, now).exclude(pk__in=[lot.pk for lot in own])
        plan += fifo_plan(list(others), missing)
    moved = sum(taken for _lot, taken in plan)
    own_ids = {lot.pk for lot in own}
    cancelled = sum(taken for lot, taken in plan if lot.pk in own_ids and lot.spendable_from > now)
    return plan, _EarnedBack(cancelled=cancelled, taken=moved - cancelled, shortfall=points - moved)


def _earned_take_back(
    order: OrderPoints, points: int, *, cause: Cause, actor: Actor, now: datetime.datetime
) -> _EarnedBack:
    """Take back ``points`` earned on the order, as ``_earned_back_plan`` says."""
    plan, earned_back = _earned_back_plan(order, points, now)
    if plan:
        lots_consume(
            account=order.account,
            kind=EntryKind.REVERSAL,
            plan=plan,
            cause=cause,
            reverses=PointsEntry.objects.filter(key=f"earn:{order.reference}").first(),
            channel=order.channel,
            store=order.store,
            actor=actor,
            now=now,
        )
    return earned_back


def _redeemed_to_give_back(order: OrderPoints, *, returned: Decimal) -> int:
    """The points spent on the order that come back: in proportion of all that came back so far,
    less those already given back."""
    if not order.points_redeemed:
        return 0
    target = _proportion(order.points_redeemed, returned, order.order_total)
    return max(target - order.points_redeemed_returned, 0)


def _redeemed_give_back(
    order: OrderPoints, *, returned: Decimal, cause: Cause, actor: Actor, now: datetime.datetime
) -> tuple[int, Decimal]:
    """Give back the points spent on the order (``_redeemed_to_give_back``); return them and their value."""
    points = _redeemed_to_give_back(order, returned=returned)
    if not points:
        return 0, Decimal("0.00")
    value = redeemed_give_back(
        order.redemption,
        points,
        already_given_back=order.points_redeemed_returned,
        account=order.account,
        cause=cause,
        channel=order.channel,
        store=order.store,
        actor=actor,
        now=now,
    )
    return points, value


def _spend_take_back(order: OrderPoints, amount: Decimal, *, cause: Cause, now: datetime.datetime) -> None:
    """The paid share of what came back leaves the qualifying spend, dated at the purchase."""
    if order.completed_at is None or order.order_total <= 0 or amount <= 0:
        return
    spend = money(amount * order.paid_amount / order.order_total)
    if spend:
        _spend_add(order.account, -spend, occurred_at=order.completed_at, cause=cause, order=order, now=now)


def points_reverse_preview(
    *, reference: str, lines: Sequence[ReturnLine], now: datetime.datetime | None = None
) -> Reversal:
    """What ``points_reverse`` would do for a new return of ``lines``, read without a lock and
    written nowhere (the return desk shows it before the cashier confirms)."""
    reference = check_reference(reference)
    cart_total(lines)
    now = now or timezone.now()
    order = OrderPoints.objects.filter(reference=reference).select_related("account", "redemption").first()
    if order is None:
        return Reversal(reference=reference, return_reference="")
    amount, eligible = _amounts_back(order, lines)
    returned = order.returned_amount + amount
    to_reverse = _earned_to_reverse(
        order, returned=returned, returned_eligible=order.returned_eligible_amount + eligible
    )
    _plan, earned_back = _earned_back_plan(order, to_reverse, now)
    given_back = _redeemed_to_give_back(order, returned=returned)
    return Reversal(
        reference=reference,
        return_reference="",
        points_cancelled=earned_back.cancelled,
        points_taken_back=earned_back.taken,
        shortfall_points=earned_back.shortfall,
        shortfall_value=money(earned_back.shortfall * programme_current().point_value),
        points_given_back=given_back,
        value_given_back=money(given_back * order.redemption.point_value) if given_back else Decimal("0.00"),
    )


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
    reference = check_reference(reference)
    return_reference = check_reference(return_reference, "return_reference")
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
        amount, eligible = _amounts_back(order, lines)
        returned = order.returned_amount + amount
        returned_eligible = order.returned_eligible_amount + eligible
        to_reverse = _earned_to_reverse(order, returned=returned, returned_eligible=returned_eligible)
        earned_back = _earned_take_back(order, to_reverse, cause=cause, actor=actor, now=now)
        given_back, value_back = _redeemed_give_back(order, returned=returned, cause=cause, actor=actor, now=now)
        _spend_take_back(order, amount, cause=cause, now=now)
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
            points_cancelled=earned_back.cancelled,
            points_taken_back=earned_back.taken,
            shortfall_points=earned_back.shortfall,
            shortfall_value=money(earned_back.shortfall * programme.point_value),
            points_given_back=given_back,
            value_given_back=value_back,
            created_at=now,
        )
        if order.completed_at is not None and account.is_active:
            tier_recalculate_locked(account, programme=programme, now=now, reason=TierChangeReason.RETURN, actor=actor)
    return _reversal_of(row, order, created=True)
