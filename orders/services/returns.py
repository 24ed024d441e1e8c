"""Returns of completed orders, and their preview at the return desk."""

import datetime
from collections import defaultdict
from collections.abc import Mapping, Sequence
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
from omni.core.actors import SYSTEM, Actor
from omni.core.services import sequence_next
from orders import hooks
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
from orders.services.inputs import ReturnLineInput, check_choice, check_quantity
from orders.services.notices import customer_notify, money_text, timeline_record
from orders.services.payments import (
    RefundShare,
    points_payment_given_back,
    refundable_payments,
    refunds_to_payments_create,
)
from orders.services.return_figures import ReturnFigures, ReturnRequest, loyalty_return_lines, return_figures
from orders.services.transitions import order_customer_locked, order_locked


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
    points where the customer chooses it and the programme allows it (``return_figures``).
    Within the return window, or later for faulty goods when a store manager accepts it
    (recorded on the return).
    """
    reason, wanted = _check_return_input(location=location, lines=lines, reason=reason, refund_method=refund_method)
    now = now or timezone.now()
    with transaction.atomic():
        order = order_locked(order)
        late = _check_returnable(order, lines, accept_late=accept_late, actor=actor, now=now)
        requests = _requests(order, wanted)
        customer = order_customer_locked(order)
        if refund_method == RefundMethod.POINTS:
            _check_refund_to_points(order, customer)
        number = f"R-{sequence_next('order_return'):06d}"
        reversal = None
        if customer is not None:
            reversal = loyalty.points_reverse(
                reference=order.number,
                return_reference=number,
                lines=loyalty_return_lines(requests),
                actor=actor,
                now=now,
            )
            points_payment_given_back(order, reversal.value_given_back)
        figures = return_figures(
            order=order,
            requests=requests,
            reversal=reversal,
            payments=refundable_payments(order, lock=True),
            point_value=_refund_point_value(refund_method),
            late=late,
        )
        order_return, return_lines = _return_record(
            order, figures, number=number, location=location, reason=reason, refund_method=refund_method, actor=actor
        )
        _return_stock(order_return, return_lines, location, actor)
        refunds = _refunds_create(order, order_return, figures, actor, now)
        order.refunded += figures.refund_amount
        order.save(update_fields=["refunded", "updated_at"])
        _announce_return(order, order_return, figures, refunds, reason=reason, actor=actor)
        hooks.order_changed(order)
        hooks.return_accepted(order_return)
    return order_return


def return_preview(
    *,
    order: Order,
    location: Location,
    lines: Sequence[ReturnLineInput],
    reason: str,
    refund_method: str = RefundMethod.ORIGINAL,
    accept_late: bool = False,
    actor: Actor = SYSTEM,
    now: datetime.datetime | None = None,
) -> ReturnFigures:
    """What ``return_accept`` would do with this input (loyalty's reversal and its shortfall
    included), refused for the same reasons: the return desk shows it before the cashier
    confirms. It only reads: no row is locked, no return number is taken, nothing is written."""
    _reason, wanted = _check_return_input(location=location, lines=lines, reason=reason, refund_method=refund_method)
    now = now or timezone.now()
    order = Order.objects.select_related("customer", "location").get(pk=order.pk)
    late = _check_returnable(order, lines, accept_late=accept_late, actor=actor, now=now)
    requests = _requests(order, wanted)
    if refund_method == RefundMethod.POINTS:
        _check_refund_to_points(order, order.customer)
    reversal = None
    if order.customer is not None:
        reversal = loyalty.points_reverse_preview(reference=order.number, lines=loyalty_return_lines(requests), now=now)
    return return_figures(
        order=order,
        requests=requests,
        reversal=reversal,
        payments=refundable_payments(order, lock=False),
        point_value=_refund_point_value(refund_method),
        late=late,
    )


def _check_return_input(
    *, location: Location, lines: Sequence[ReturnLineInput], reason: str, refund_method: str
) -> tuple[str, dict[str, list[ReturnLineInput]]]:
    """The shape of a return: a reason, lines with valid quantities and conditions, a location
    that takes returns. Returns the reason and the lines by SKU (in the order first named)."""
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
    return reason, wanted


def _check_returnable(
    order: Order, lines: Sequence[ReturnLineInput], *, accept_late: bool, actor: Actor, now: datetime.datetime
) -> bool:
    """The order's goods were handed over, and the return is in time or accepted late (then
    returns True)."""
    if order.status not in COMPLETED_STATUSES:
        raise InvalidTransition(
            _("Order %(number)s is %(status)s: only goods handed over can be returned.")
            % {"number": order.number, "status": OrderStatus(order.status).label},
            details={"number": order.number, "status": order.status},
        )
    late = now > return_deadline(order)
    if late:
        _check_late(order, lines, accept_late, actor)
    return late


def _requests(order: Order, wanted: Mapping[str, Sequence[ReturnLineInput]]) -> list[ReturnRequest]:
    """The lines asked for, on the order's lines: every SKU on the order, never more units than
    the customer kept."""
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
    return [
        ReturnRequest(line=order_lines[sku], quantity=item.quantity, condition=item.condition)
        for sku, items in wanted.items()
        for item in items
    ]


def _refund_point_value(refund_method: str) -> Decimal | None:
    """The value of a point when the refund is credited as points."""
    if refund_method != RefundMethod.POINTS:
        return None
    return loyalty.programme_current().point_value


def _return_record(
    order: Order,
    figures: ReturnFigures,
    *,
    number: str,
    location: Location,
    reason: str,
    refund_method: str,
    actor: Actor,
) -> tuple[OrderReturn, list[ReturnLine]]:
    """The return, its lines, and the units returned on the order's lines."""
    order_return = OrderReturn.objects.create(
        number=number,
        order=order,
        location=location,
        reason=reason[:255],
        refund_method=refund_method,
        late_accepted=figures.late,
        amount=figures.amount,
        paid_amount=figures.paid_amount,
        refund_amount=figures.refund_amount,
        refund_points=figures.refund_points,
        points_reversed=figures.points_reversed,
        points_given_back=figures.points_given_back,
        shortfall_points=figures.shortfall_points,
        shortfall_value=figures.shortfall_value,
        **actor.audit_fields,
    )
    return_lines = ReturnLine.objects.bulk_create(
        [
            ReturnLine(
                order_return=order_return,
                order_line=item.line,
                quantity=item.quantity,
                condition=item.condition,
                amount=item.amount,
                paid_amount=item.paid_amount,
            )
            for item in figures.lines
        ]
    )
    order_lines = {}
    for item in figures.lines:
        order_lines[item.line.pk] = item.line
        item.line.returned_quantity += item.quantity
    OrderLine.objects.bulk_update(list(order_lines.values()), ["returned_quantity"])
    return order_return, return_lines


def _refunds_create(
    order: Order, order_return: OrderReturn, figures: ReturnFigures, actor: Actor, now: datetime.datetime
) -> list[Refund]:
    """The refunds of the figures: the points credited first, then the payments paid back."""
    refunds = []
    to_points = [share for share in figures.shares if share.payment is None]
    for share in to_points:
        refunds.append(_refund_to_points(order, order_return, share, actor, now))
    refunds += refunds_to_payments_create(
        order,
        [share for share in figures.shares if share.payment is not None],
        actor,
        order_return=order_return,
        reason=_("Return %(number)s") % {"number": order_return.number},
    )
    return refunds


def _refund_to_points(
    order: Order, order_return: OrderReturn, share: RefundShare, actor: Actor, now: datetime.datetime
) -> Refund:
    """Credit the points of the refund, granted as a refund bonus caused by ``refund``/<return
    number>, once per return (``points_bonus`` is idempotent per cause); the loyalty KPIs do not
    count it as earned."""
    loyalty.points_bonus(
        account=loyalty_selectors.account_of(order.customer),
        points=share.points,
        bonus_type=BonusType.REFUND,
        cause=loyalty.Cause("refund", order_return.number),
        actor=actor,
        now=now,
    )
    return Refund.objects.create(
        order=order,
        order_return=order_return,
        method=PaymentMethod.POINTS,
        amount=share.amount,
        points=share.points,
        status=RefundStatus.DONE,
        completed_at=now,
        reason=_("Return %(number)s") % {"number": order_return.number},
        **actor.audit_fields,
    )


def _announce_return(
    order: Order,
    order_return: OrderReturn,
    figures: ReturnFigures,
    refunds: Sequence[Refund],
    *,
    reason: str,
    actor: Actor,
) -> None:
    timeline_record(
        order,
        kind=InteractionKind.RETURN,
        event="return.accepted",
        params={
            "number": order_return.number,
            "order": order.number,
            "items": sum(item.quantity for item in figures.lines),
            "refund": str(order_return.refund_amount),
        },
        details=reason,
        location=order_return.location,
        actor=actor,
    )
    customer_notify(
        order,
        kind="refund_made",
        key=order_return.number,
        subject=_("Refund for order %(number)s") % {"number": order.number},
        text=_refund_text(order, order_return, refunds),
        actor=actor,
    )


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
