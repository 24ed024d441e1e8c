"""Returns of completed orders, and their preview at the return desk."""

import datetime
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from customers.models import Customer, InteractionKind
from inventory.models import Location
from inventory.services import (
    Cause,
    ProductQuantity,
    StockLine,
    stock_return,
    stock_write_off,
)
from loyalty import selectors as loyalty_selectors
from loyalty import services as loyalty
from loyalty.models import BonusType
from omni.actors import SYSTEM, Actor
from omni.services import sequence_next
from orders.errors import (
    InvalidReturn,
    InvalidTransition,
    RefundToPointsNotAllowed,
    ReturnExceedsPurchase,
    ReturnsNotAccepted,
    ReturnWindowClosed,
)
from orders.lock_objects import stock_rows
from orders.models import (
    COMPLETED_STATUSES,
    Fulfilment,
    Order,
    OrderLine,
    OrderReturn,
    OrderStatus,
    PaymentMethod,
    Refund,
    RefundMethod,
    RefundStatus,
    ReturnCondition,
    ReturnLine,
)
from orders.money import money
from orders.services.inputs import ReturnLineInput, check_choice, check_quantity
from orders.services.lines import line_part
from orders.services.notices import customer_notify, money_text, timeline_record
from orders.services.payments import ZERO, points_payment_given_back, refund_to_payments
from orders.services.transitions import order_customer_locked, order_locked


@dataclass
class ReturnFigures:
    """What a return does, as the return desk previews it before confirming."""

    amount: Decimal = ZERO
    paid_amount: Decimal = ZERO
    shortfall_points: int = 0
    shortfall_value: Decimal = ZERO
    refund_amount: Decimal = ZERO
    refund_points: int = 0
    points_reversed: int = 0
    points_given_back: int = 0
    late: bool = False
    refunds: list[tuple[str, Decimal, int]] = field(default_factory=list)  # (method, amount, points)


def return_window_days(order: Order) -> int:
    """14 days (by default) for goods bought in a store, 7 for distance sales."""
    if order.fulfilment == Fulfilment.IN_STORE:
        return settings.ORDERS_RETURN_DAYS_STORE
    return settings.ORDERS_RETURN_DAYS_DISTANCE


def return_deadline(order: Order) -> datetime.datetime | None:
    if order.completed_at is None:
        return None
    return order.completed_at + datetime.timedelta(days=return_window_days(order))


def return_accept(
    *,
    order: Order,
    location: Location,
    lines: Sequence[ReturnLineInput],
    reason: str,
    refund_method: str = RefundMethod.ORIGINAL,
    accept_late: bool = False,
    actor: Actor = SYSTEM,
    now: datetime.datetime | None = None,
) -> OrderReturn:
    """Take goods of a completed order back at any location that accepts returns.

    Never more than bought less already refused or returned (checked with the order row locked,
    so racing returns cannot exceed it). Resellable goods go back on hand at the receiving
    location; faulty ones are returned and written off there (the ledger shows both). The refund
    is what was paid in money for exactly these units, less the value of earned points the
    customer already spent (loyalty's shortfall); to the original payments in proportion, or to
    points where the customer chooses it and the programme allows it. Within the return window,
    or later for faulty goods when a store manager accepts it (recorded on the return).
    """
    reason = (reason or "").strip()
    if not reason:
        raise InvalidReturn.for_field("reason", _("A return needs a reason."))
    check_choice(refund_method, RefundMethod, "refund_method")
    if not lines:
        raise InvalidReturn.for_field("lines", _("Name at least one line to return."))
    wanted: dict[str, list[ReturnLineInput]] = defaultdict(list)
    for index, line in enumerate(lines):
        check_quantity(line.quantity, f"lines.{index}.quantity")
        check_choice(line.condition, ReturnCondition, f"lines.{index}.condition")
        wanted[str(line.sku).strip()].append(line)
    if not location.accepts_returns or not location.is_active:
        raise ReturnsNotAccepted(
            _("%(location)s does not accept returns.") % {"location": location.code},
            details={"location": location.code},
        )
    now = now or timezone.now()
    with transaction.atomic():
        order = order_locked(order)
        if order.status not in COMPLETED_STATUSES:
            raise InvalidTransition(
                _("Order %(number)s is %(status)s: only goods handed over can be returned.")
                % {"number": order.number, "status": OrderStatus(order.status).label},
                details={"number": order.number, "status": order.status},
            )
        late = now > return_deadline(order)
        if late:
            _check_late(order, lines, accept_late, actor)
        order_lines = {line.sku: line for line in order.lines.select_related("product").order_by("id")}
        unknown = sorted(sku for sku in wanted if sku not in order_lines)
        if unknown:
            raise InvalidReturn(
                _("Not on order %(number)s: %(skus)s.") % {"number": order.number, "skus": ", ".join(unknown)},
                details={"skus": unknown},
            )
        over = []
        for sku, items in wanted.items():
            line = order_lines[sku]
            quantity = sum(item.quantity for item in items)
            if quantity > line.kept_quantity:
                over.append({"sku": sku, "requested": quantity, "returnable": line.kept_quantity})
        if over:
            raise ReturnExceedsPurchase(
                _("More than was bought: %(skus)s.") % {"skus": ", ".join(item["sku"] for item in over)},
                details={"lines": over},
            )
        customer = order_customer_locked(order)
        if refund_method == RefundMethod.POINTS:
            _check_refund_to_points(order, customer)

        number = f"R-{sequence_next('order_return'):06d}"
        order_return = OrderReturn.objects.create(
            number=number,
            order=order,
            location=location,
            reason=reason[:255],
            refund_method=refund_method,
            late_accepted=late,
            **actor.audit_fields,
        )
        return_lines, loyalty_lines = [], []
        for sku, items in wanted.items():
            line = order_lines[sku]
            done = line.refused_quantity + line.returned_quantity
            for item in items:
                part = line_part(line, done=done, count=item.quantity)
                done += item.quantity
                return_lines.append(
                    ReturnLine(
                        order_return=order_return,
                        order_line=line,
                        quantity=item.quantity,
                        condition=item.condition,
                        amount=part.amount,
                        paid_amount=part.total,
                    )
                )
                loyalty_lines.append(loyalty.ReturnLine(line.product_id, item.quantity, part.amount))
            line.returned_quantity += sum(item.quantity for item in items)
        ReturnLine.objects.bulk_create(return_lines)
        OrderLine.objects.bulk_update([order_lines[sku] for sku in wanted], ["returned_quantity"])

        amount = sum((rl.amount for rl in return_lines), ZERO)
        paid_amount = sum((rl.paid_amount for rl in return_lines), ZERO)
        if customer is not None:
            reversal = loyalty.points_reverse(
                reference=order.number, return_reference=number, lines=loyalty_lines, actor=actor, now=now
            )
            points_payment_given_back(order, reversal.value_given_back)
            order_return.points_reversed = reversal.points_cancelled + reversal.points_taken_back
            order_return.points_given_back = reversal.points_given_back
            order_return.shortfall_points = reversal.shortfall_points
            order_return.shortfall_value = reversal.shortfall_value
        refundable = max(order.paid - order.refunded, ZERO)
        paid_amount = min(paid_amount, refundable)
        refund = max(paid_amount - order_return.shortfall_value, ZERO)
        order_return.amount, order_return.paid_amount, order_return.refund_amount = amount, paid_amount, refund

        _return_stock(order_return, return_lines, location, actor)
        refunds = []
        if refund > 0 and refund_method == RefundMethod.POINTS:
            refunds += _refund_to_points(order, order_return, refund, actor, now)
        in_points = sum((r.amount for r in refunds), ZERO)
        refunds += refund_to_payments(
            order,
            refund - in_points,
            actor,
            order_return=order_return,
            reason=_("Return %(number)s") % {"number": number},
        )
        order_return.refund_points = sum(r.points for r in refunds)
        order_return.save()
        order.refunded += refund
        order.save(update_fields=["refunded", "updated_at"])

        items = sum(rl.quantity for rl in return_lines)
        timeline_record(
            order,
            kind=InteractionKind.RETURN,
            summary=_("Return %(number)s of order %(order)s: %(items)d items, refund %(refund)s.")
            % {"number": number, "order": order.number, "items": items, "refund": money_text(refund)},
            details=reason,
            location=location,
            actor=actor,
        )
        customer_notify(
            order,
            kind="refund_made",
            key=number,
            subject=_("Refund for order %(number)s") % {"number": order.number},
            text=_refund_text(order, order_return, refunds),
            actor=actor,
        )
    return order_return


def _check_late(order: Order, lines: Sequence[ReturnLineInput], accept_late: bool, actor: Actor) -> None:
    deadline = return_deadline(order)
    details = {"number": order.number, "deadline": deadline.isoformat(), "days": return_window_days(order)}
    refusal = _("The return window of order %(number)s ended on %(date)s.") % {
        "number": order.number,
        "date": date_format(timezone.localtime(deadline), "DATE_FORMAT"),
    }
    if not accept_late:
        raise ReturnWindowClosed(refusal, details=details)
    if any(line.condition != ReturnCondition.FAULTY for line in lines):
        raise ReturnWindowClosed(
            refusal + " " + _("Only faulty goods may be accepted after it."), details={**details, "late": True}
        )
    if actor.user is None or not actor.user.has_perm("orders.accept_late_return"):
        raise ReturnWindowClosed(
            refusal + " " + _("Only a store manager may accept a late return of faulty goods."),
            details={**details, "late": True},
        )


def _check_refund_to_points(order: Order, customer: Customer | None) -> None:
    if not settings.ORDERS_REFUND_TO_POINTS or customer is None:
        raise RefundToPointsNotAllowed()
    account = loyalty_selectors.account_of(customer)
    if account is None or not account.is_active:
        raise RefundToPointsNotAllowed(_("The customer has no active loyalty account."))


def _refund_to_points(order: Order, order_return: OrderReturn, amount: Decimal, actor: Actor, now) -> list[Refund]:
    """Credit the refund as points at the programme's value (whole points; the cents that do not
    make a point go back to the payments).

    Granted as a refund bonus caused by ``refund``/<return number>, once per return
    (``points_bonus`` is idempotent per cause); the loyalty KPIs do not count it as earned.
    """
    programme = loyalty.programme_current()
    points = int(amount // programme.point_value)
    if points <= 0:
        return []
    account = loyalty_selectors.account_of(order.customer)
    loyalty.points_bonus(
        account=account,
        points=points,
        bonus_type=BonusType.REFUND,
        cause=loyalty.Cause("refund", order_return.number),
        actor=actor,
        now=now,
    )
    refund = Refund.objects.create(
        order=order,
        order_return=order_return,
        method=PaymentMethod.POINTS,
        amount=money(points * programme.point_value),
        points=points,
        status=RefundStatus.DONE,
        completed_at=now or timezone.now(),
        reason=_("Return %(number)s") % {"number": order_return.number},
        **actor.audit_fields,
    )
    return [refund]


def _return_stock(order_return: OrderReturn, lines: Sequence[ReturnLine], location: Location, actor: Actor) -> None:
    quantities, faulty = defaultdict(int), defaultdict(int)
    for line in lines:
        quantities[line.order_line.product_id] += line.quantity
        if line.condition == ReturnCondition.FAULTY:
            faulty[line.order_line.product_id] += line.quantity
    stock_rows([(pid, location.pk) for pid in quantities], create_missing=True)
    stock_return(
        lines=[StockLine(pid, location.pk, qty) for pid, qty in quantities.items()],
        cause=Cause("return", order_return.number),
        actor=actor,
    )
    if faulty:
        stock_write_off(
            location=location,
            lines=[ProductQuantity(pid, qty) for pid, qty in faulty.items()],
            number=order_return.number,
            note=_("Faulty goods of return %(number)s") % {"number": order_return.number},
            actor=actor,
        )


def _refund_text(order: Order, order_return: OrderReturn, refunds: Sequence[Refund]) -> str:
    parts = []
    for refund in refunds:
        if refund.method == PaymentMethod.POINTS:
            parts.append(_("%(points)d points") % {"points": refund.points})
        else:
            parts.append(
                _("%(amount)s by %(method)s")
                % {"amount": money_text(refund.amount), "method": PaymentMethod(refund.method).label}
            )
    if not parts:
        return _("Your return %(number)s of order %(order)s is accepted; nothing is left to refund.") % {
            "number": order_return.number,
            "order": order.number,
        }
    return _("Your return %(number)s of order %(order)s is accepted. Refund: %(refunds)s.") % {
        "number": order_return.number,
        "order": order.number,
        "refunds": "; ".join(parts),
    }


def return_preview(**kwargs) -> ReturnFigures:
    """What ``return_accept`` would do with this input, computed by it in a transaction that is
    then rolled back (loyalty's reversal and its shortfall included): the return desk shows it
    before the cashier confirms."""
    with transaction.atomic():
        order_return = return_accept(**kwargs)
        figures = ReturnFigures(
            amount=order_return.amount,
            paid_amount=order_return.paid_amount,
            shortfall_points=order_return.shortfall_points,
            shortfall_value=order_return.shortfall_value,
            refund_amount=order_return.refund_amount,
            refund_points=order_return.refund_points,
            points_reversed=order_return.points_reversed,
            points_given_back=order_return.points_given_back,
            late=order_return.late_accepted,
            refunds=[(r.method, r.amount, r.points) for r in order_return.refunds.all()],
        )
        transaction.set_rollback(True)
    return figures
