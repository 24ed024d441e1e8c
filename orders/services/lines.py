"""A line's figures for some of its units, and taking units off the lines (refused, or missing)."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from loyalty import services as loyalty
from omni.core.actors import Actor
from omni.core.money import money, unit_share, unit_share_points
from orders.models import (
    Order,
    OrderLine,
)
from orders.services.payments import ZERO, points_payment_given_back


@dataclass(frozen=True)
class Part:
    """The share of a line's figures for some of its units."""

    quantity: int
    subtotal: Decimal
    discount: Decimal
    points: int
    points_value: Decimal

    @property
    def amount(self) -> Decimal:
        return self.subtotal - self.discount

    @property
    def total(self) -> Decimal:
        return self.amount - self.points_value


def line_part(line: OrderLine, *, done: int, count: int) -> Part:
    """The figures of ``count`` units of the line after its first ``done`` ones (refused first,
    then returned), each a cumulative share of the line as ordered, so the parts sum to it."""
    return Part(
        quantity=count,
        subtotal=money(line.unit_price * count),
        discount=unit_share(line.ordered_discount, quantity=line.quantity, done=done, count=count),
        points=unit_share_points(line.ordered_points, quantity=line.quantity, done=done, count=count),
        points_value=unit_share(line.ordered_points_value, quantity=line.quantity, done=done, count=count),
    )


def lines_take_off(
    order: Order, lines: Sequence[OrderLine], refused: Mapping[int, int], actor: Actor, *, reference: str
):
    """Units the customer will not have (refused at handover, or that could not be brought):
    ``refused`` maps line ids to units. Each line moves their share of its figures into its
    ``refused_*`` ones, the points spent on them come back, and the order's figures become the
    sum of its lines. Returns the parts taken off."""
    parts = [
        (line, line_part(line, done=line.refused_quantity, count=refused[line.pk]))
        for line in lines
        if refused.get(line.pk)
    ]
    if parts and order.points_redeemed:
        reversal = loyalty.points_reverse(
            reference=order.number,
            return_reference=reference,
            lines=[loyalty.ReturnLine(line.product_id, part.quantity, part.amount) for line, part in parts],
            actor=actor,
        )
        points_payment_given_back(order, reversal.value_given_back)
    for line, part in parts:
        line.refused_quantity += part.quantity
        line.refused_subtotal += part.subtotal
        line.refused_discount += part.discount
        line.refused_points += part.points
        line.refused_points_value += part.points_value
        line.refused_total += part.total
        line.subtotal -= part.subtotal
        line.discount -= part.discount
        line.amount = line.subtotal - line.discount
        line.points -= part.points
        line.points_value -= part.points_value
        line.total = line.amount - line.points_value
    OrderLine.objects.bulk_update(
        [line for line, _part in parts],
        [
            "refused_quantity",
            "refused_subtotal",
            "refused_discount",
            "refused_points",
            "refused_points_value",
            "refused_total",
            "subtotal",
            "discount",
            "amount",
            "points",
            "points_value",
            "total",
        ],
    )
    order.subtotal = sum((line.subtotal for line in lines), ZERO)
    order.discount = sum((line.discount for line in lines), ZERO)
    order.points_value = sum((line.points_value for line in lines), ZERO)
    order.total = order.subtotal - order.discount - order.points_value
    return parts


def cart_line(line: OrderLine, amount: Decimal, quantity: int | None = None) -> loyalty.CartLine:
    return loyalty.CartLine(
        product_id=line.product_id,
        category_id=line.product.category_id,
        quantity=line.quantity if quantity is None else quantity,
        amount=amount,
    )
