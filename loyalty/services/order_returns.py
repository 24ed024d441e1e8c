"""Points when goods come back: a return (some lines) or a cancellation (all that is left).

Earned points of the returned goods are reversed in proportion of the amount that earned, spent
points come back in proportion of the amount returned, and what the customer already spent of
the earned points is the shortfall the return deducts from the refund. ``points_reverse_preview``
reckons the same without a lock, for the return desk to show before the cashier confirms.
"""

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

from django.db import transaction
from django.utils import timezone

from loyalty import hooks, selectors
from loyalty.lock_objects import account_for_update
from loyalty.models import EntryKind, OrderPoints, OrderPointsReturn, PointsEntry, TierChangeReason
from loyalty.services.checks import Cause, ReturnLine, cart_total, check_reference
from loyalty.services.ledger import fifo_plan, lots_consume, redeemed_give_back
from loyalty.services.order_points import order_spend_add
from loyalty.services.programme import programme_current, tier_recalculate_locked
from omni.core.actors import SYSTEM, Actor
from omni.core.money import money


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


def _proportion(points: int, part: Decimal, whole: Decimal) -> int:
    """The points of ``part`` of ``whole``, rounded down; all of them once the whole is reached."""
    if points <= 0:
        return 0
    if whole <= 0 or part >= whole:
        return points
    return int((Decimal(points) * part / whole).to_integral_value(rounding=ROUND_FLOOR))


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
    own_ids = {lot.pk for lot in own}
    if missing and account.is_active:
        others = [lot for lot in selectors.lots_available(account.pk, now) if lot.pk not in own_ids]
        plan += fifo_plan(others, missing)
    moved = sum(taken for _lot, taken in plan)
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
        order_spend_add(order.account, -spend, occurred_at=order.completed_at, cause=cause, order=order, now=now)


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
        if earned_back.cancelled or earned_back.taken or given_back:
            hooks.points_changed(account)
    return _reversal_of(row, order, created=True)
