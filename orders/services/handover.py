"""Handing an order over at the pickup counter or at the door, refused units included."""

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from inventory.services import (
    Cause,
    StockLine,
    stock_release,
    stock_sell_reserved,
)
from loyalty import services as loyalty
from omni.core.actors import SYSTEM, Actor
from omni.core.errors import InvalidInput
from orders import hooks, states
from orders.errors import (
    InvalidOrder,
    PaymentMismatch,
)
from orders.lock_objects import stock_rows
from orders.models import (
    Fulfilment,
    Order,
    OrderAllocation,
    OrderLine,
)
from orders.services.fulfilment import completion_record, open_allocations
from orders.services.inputs import PaymentInput, check_quantity
from orders.services.lines import line_part, lines_take_off
from orders.services.payments import (
    COURIER_METHODS,
    REFUNDED_AT_ONCE,
    STORE_METHODS,
    ZERO,
    payment_shares,
    payments_check,
    payments_create,
    refund_to_payments,
    refundable_payments,
)
from orders.services.transitions import order_customer_locked, order_locked, status_move
from orders.states import Action


def order_hand_over(
    *,
    order: Order,
    refused: Mapping[str, int] | None = None,
    payments: Sequence[PaymentInput] = (),
    actor: Actor = SYSTEM,
) -> Order:
    """Hand the goods over at the pickup counter or at the door.

    ``refused`` maps SKUs to the units the customer does not take: they go back to available stock
    where they were reserved, their share of the order (discount, points, money) is taken off, and
    the points spent on them come back. The rest is sold; what is left to pay is paid now
    (``payments``), an overpayment is refunded. The order is complete: points are earned.
    """
    refused = dict(refused or {})
    with transaction.atomic():
        order = order_locked(order)
        states.next_status(order, Action.HAND_OVER)
        lines = list(order.lines.select_related("product").order_by("id"))
        refused_check(order, lines, refused)
        order_customer_locked(order)
        lines_take_off(
            order,
            lines,
            {line.pk: refused.get(line.sku, 0) for line in lines},
            actor,
            reference=f"{order.number}-refused",
        )

        allocations = open_allocations(order)
        to_release, to_sell = _split_allocations(allocations, refused)
        stock_rows([(a.line.product_id, a.location_id) for a, _q in to_release + to_sell])
        cause = Cause("order", order.number)
        if to_release:
            stock_release(
                lines=[StockLine(a.line.product_id, a.location_id, q) for a, q in to_release], cause=cause, actor=actor
            )
        if to_sell:
            stock_sell_reserved(
                lines=[StockLine(a.line.product_id, a.location_id, q) for a, q in to_sell], cause=cause, actor=actor
            )
        for allocation, quantity in to_release:
            allocation.released += quantity
        for allocation, quantity in to_sell:
            allocation.sold += quantity
        OrderAllocation.objects.bulk_update(allocations, ["sold", "released"])

        methods = handover_methods(order)
        due = order.total - (order.paid - order.refunded)
        if due >= 0:
            checked = payments_check(payments, due, methods, required=True)
            order.paid += payments_create(order, checked, actor)
        else:
            if payments:
                raise PaymentMismatch(_("Nothing is due: the order was paid in advance."), details={"due": "0.00"})
            refunds = refund_to_payments(order, -due, actor, reason=_("Goods refused at handover."))
            order.refunded += sum((r.amount for r in refunds), ZERO)
        order.save(update_fields=["subtotal", "discount", "points_value", "total", "paid", "refunded", "updated_at"])
        status_move(order, Action.HAND_OVER, actor)
        completion_record(order, lines, actor, timezone.now())
        hooks.order_changed(order)
    return order


@dataclass(frozen=True)
class HandoverLinePreview:
    """One line at the handover: units taken and refused, and the money of each."""

    line: OrderLine
    taken: int
    refused: int
    total: Decimal
    refused_total: Decimal


@dataclass(frozen=True)
class HandoverPreview:
    """What ``order_hand_over`` would record for these refused units, computed without writing.

    ``due`` is what the customer pays now; ``refund`` what goes back when a prepaid order loses
    refused goods (``refund_pending``: some of it goes back through the bank, not at once)."""

    order: Order
    lines: list[HandoverLinePreview]
    total: Decimal
    paid: Decimal
    due: Decimal
    refund: Decimal
    refund_pending: bool
    points_given_back: int
    methods: tuple[str, ...]

    @property
    def refused_units(self) -> int:
        return sum(line.refused for line in self.lines)

    @property
    def refused_total(self) -> Decimal:
        return sum((line.refused_total for line in self.lines), ZERO)


def order_hand_over_preview(*, order: Order, refused: Mapping[str, int] | None = None) -> HandoverPreview:
    """The figures of a handover with ``refused`` (SKUs to units), read and written nowhere: the
    same checks and the same line shares as ``order_hand_over``, so the desk shows what it records."""
    refused = dict(refused or {})
    states.next_status(order, Action.HAND_OVER)
    lines = list(order.lines.select_related("product").order_by("id"))
    refused_check(order, lines, refused)
    previews, parts = [], []
    for line in lines:
        part = line_part(line, done=line.refused_quantity, count=refused.get(line.sku, 0))
        parts.append((line, part))
        previews.append(
            HandoverLinePreview(
                line=line,
                taken=line.quantity - line.refused_quantity - part.quantity,
                refused=part.quantity,
                total=line.total - part.total,
                refused_total=part.total,
            )
        )
    total = sum((p.total for p in previews), ZERO)
    paid = order.paid - order.refunded
    refund = max(paid - total, ZERO)
    shares = payment_shares(refund, refundable_payments(order, lock=False))
    points_back = 0
    if order.points_redeemed and any(part.quantity for _line, part in parts):
        points_back = loyalty.points_reverse_preview(
            reference=order.number,
            lines=[
                loyalty.ReturnLine(line.product_id, part.quantity, part.amount) for line, part in parts if part.quantity
            ],
        ).points_given_back
    return HandoverPreview(
        order=order,
        lines=previews,
        total=total,
        paid=paid,
        due=max(total - paid, ZERO),
        refund=refund,
        refund_pending=any(share.method not in REFUNDED_AT_ONCE for share in shares),
        points_given_back=points_back,
        methods=handover_methods(order),
    )


def handover_methods(order: Order) -> tuple[str, ...]:
    """How the rest is paid: at the store's counter, or to the courier at the door."""
    return STORE_METHODS if order.fulfilment == Fulfilment.CLICK_AND_COLLECT else COURIER_METHODS


def refused_check(order: Order, lines: Sequence[OrderLine], refused: Mapping[str, int]) -> None:
    """Refused units name lines of the order, within what is left of each, and leave something."""
    by_sku = {line.sku: line for line in lines}
    for sku, quantity in refused.items():
        line = by_sku.get(sku)
        if line is None:
            raise InvalidInput.for_field(
                "refused", _("%(sku)s is not on order %(number)s.") % {"sku": sku, "number": order.number}
            )
        check_quantity(quantity, "refused", allow_zero=True)
        if quantity > line.quantity - line.refused_quantity:
            raise InvalidInput.for_field(
                "refused",
                _("%(sku)s: %(refused)d refused but %(bought)d ordered.")
                % {"sku": sku, "refused": quantity, "bought": line.quantity - line.refused_quantity},
            )
    if lines and all(refused.get(line.sku, 0) == line.quantity - line.refused_quantity for line in lines):
        raise InvalidOrder.for_field("refused", _("Everything is refused: cancel the order instead."))


def _split_allocations(allocations, refused: Mapping[str, int]):
    """Which reserved units are released (the refused ones, taken from the last allocations of
    each line first) and which are sold."""
    to_release, to_sell = [], []
    by_line = defaultdict(list)
    for allocation in allocations:
        if allocation.open_quantity:
            by_line[allocation.line_id].append(allocation)
    for line_allocations in by_line.values():
        left = refused.get(line_allocations[0].line.sku, 0)
        for allocation in reversed(line_allocations):
            release = min(left, allocation.open_quantity)
            left -= release
            if release:
                to_release.append((allocation, release))
            if allocation.open_quantity - release:
                to_sell.append((allocation, allocation.open_quantity - release))
    return to_release, to_sell
