"""The figures of a return, computed without touching the database, so that the return desk's
preview and the return itself show the same numbers from the same function.

Each returned unit takes its share of its line as ordered (``line_part``), after the units already
refused or returned, so all the returns of a line never move more than the line. The refund is
what was paid in money for those units (never more than is left refundable on the order), less the
value of earned points the customer already spent (loyalty's shortfall); credited as whole points
when the customer chooses it, the cents that do not make a point and the rest going back to the
payments in proportion to what is left of each.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from loyalty import services as loyalty
from omni.core.money import money, spread_money
from orders.models import Order, OrderLine, Payment, PaymentMethod, ReturnCondition
from orders.services.lines import Part, line_part
from orders.services.payments import ZERO, RefundShare, payment_shares


@dataclass(frozen=True)
class ReturnRequest:
    """Units of an order line asked back, in one condition."""

    line: OrderLine
    quantity: int
    condition: str = ReturnCondition.RESELLABLE


@dataclass(frozen=True)
class ReturnLineFigures:
    """One request's figures: ``amount`` is what the units cost on the order (after discount,
    before points), ``paid_amount`` what was paid for them in money, ``refund`` their share of the
    return's refund (the refund spread over the lines in proportion to ``paid_amount``)."""

    line: OrderLine
    quantity: int
    condition: str
    amount: Decimal
    paid_amount: Decimal
    refund: Decimal


@dataclass(frozen=True)
class ReturnFigures:
    """What a return does, as the return desk previews it before confirming. The points are the
    return's as a whole: loyalty reckons them on the cumulative amount returned, not per line."""

    amount: Decimal = ZERO
    paid_amount: Decimal = ZERO
    shortfall_points: int = 0
    shortfall_value: Decimal = ZERO
    refund_amount: Decimal = ZERO
    refund_points: int = 0
    points_reversed: int = 0
    points_given_back: int = 0
    late: bool = False
    lines: tuple[ReturnLineFigures, ...] = ()
    shares: tuple[RefundShare, ...] = ()

    @property
    def refunds(self) -> list[tuple[str, Decimal, int]]:
        """(method, amount, points) of each refund, in the order they are recorded."""
        return [(share.method, share.amount, share.points) for share in self.shares]


def return_parts(requests: Sequence[ReturnRequest]) -> list[Part]:
    """Each request's share of its line: the units after those already refused or returned, and
    after the earlier requests on the same line."""
    done: dict[int, int] = {}
    parts = []
    for request in requests:
        line = request.line
        start = done.get(line.pk, line.refused_quantity + line.returned_quantity)
        parts.append(line_part(line, done=start, count=request.quantity))
        done[line.pk] = start + request.quantity
    return parts


def loyalty_return_lines(requests: Sequence[ReturnRequest]) -> list[loyalty.ReturnLine]:
    """What loyalty is told comes back: each request's product, units and amount on the order."""
    return [
        loyalty.ReturnLine(request.line.product_id, request.quantity, part.amount)
        for request, part in zip(requests, return_parts(requests), strict=True)
    ]


def refund_shares(refund: Decimal, payments: Sequence[Payment], point_value: Decimal | None) -> list[RefundShare]:
    """How ``refund`` is paid back: as whole points first when ``point_value`` is given (the
    refund goes to points), the rest to ``payments`` in proportion to what is left of each."""
    shares = []
    if refund > 0 and point_value is not None:
        points = int(refund // point_value)
        if points > 0:
            shares.append(RefundShare(method=PaymentMethod.POINTS, amount=money(points * point_value), points=points))
    in_points = sum((share.amount for share in shares), ZERO)
    return shares + payment_shares(refund - in_points, payments)


def return_figures(
    *,
    order: Order,
    requests: Sequence[ReturnRequest],
    reversal: loyalty.Reversal | None,
    payments: Sequence[Payment],
    point_value: Decimal | None = None,
    late: bool = False,
) -> ReturnFigures:
    """The figures of returning ``requests`` of ``order``. ``reversal`` is what loyalty does (or
    would do) with the points of these goods, None for an order without a customer; ``payments``
    the order's refundable payments (``refundable_payments``); ``point_value`` the value of a
    point when the refund is credited as points, else None. Reads nothing from the database."""
    parts = return_parts(requests)
    amount = sum((part.amount for part in parts), ZERO)
    paid_amount = min(sum((part.total for part in parts), ZERO), max(order.paid - order.refunded, ZERO))
    reversal = reversal or loyalty.Reversal(reference=order.number, return_reference="")
    refund = max(paid_amount - reversal.shortfall_value, ZERO)
    paid = [part.total for part in parts]
    line_refunds = spread_money(refund, paid, caps=paid)
    shares = refund_shares(refund, payments, point_value)
    return ReturnFigures(
        amount=amount,
        paid_amount=paid_amount,
        shortfall_points=reversal.shortfall_points,
        shortfall_value=reversal.shortfall_value,
        refund_amount=refund,
        refund_points=sum(share.points for share in shares),
        points_reversed=reversal.points_cancelled + reversal.points_taken_back,
        points_given_back=reversal.points_given_back,
        late=late,
        lines=tuple(
            ReturnLineFigures(
                line=request.line,
                quantity=request.quantity,
                condition=request.condition,
                amount=part.amount,
                paid_amount=part.total,
                refund=line_refund,
            )
            for request, part, line_refund in zip(requests, parts, line_refunds, strict=True)
        ),
        shares=tuple(shares),
    )
