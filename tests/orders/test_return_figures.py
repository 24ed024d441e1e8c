"""The figures of a return, computed from the order and the lines asked for, without the database."""

from decimal import Decimal

from loyalty import services as loyalty
from orders.models import Order, OrderLine, Payment, PaymentMethod, ReturnCondition
from orders.services.return_figures import ReturnRequest, loyalty_return_lines, return_figures

D = Decimal


def line(pk, *, quantity, unit_price, discount="0.00", points=0, points_value="0.00", returned=0):
    subtotal = D(unit_price) * quantity
    amount = subtotal - D(discount)
    return OrderLine(
        pk=pk,
        product_id=pk,
        sku=f"SKU-{pk}",
        quantity=quantity,
        unit_price=D(unit_price),
        subtotal=subtotal,
        discount=D(discount),
        amount=amount,
        points=points,
        points_value=D(points_value),
        total=amount - D(points_value),
        returned_quantity=returned,
    )


def payment(pk, method, amount, refunded="0.00"):
    return Payment(pk=pk, method=method, amount=D(amount), refunded=D(refunded))


def test_part_of_a_line_with_points_spent_and_earned():
    # given: 3 shirts at 1000, 300 off, 300 points spent (300.00): 2400 paid in cash and by card
    shirts = line(1, quantity=3, unit_price="1000.00", discount="300.00", points=300, points_value="300.00")
    order = Order(number="S-1", paid=D("2400.00"), refunded=D("0.00"))
    payments = [payment(1, PaymentMethod.CASH, "1000.00"), payment(2, PaymentMethod.CARD_IN_STORE, "1400.00")]
    requests = [ReturnRequest(shirts, 1, ReturnCondition.RESELLABLE)]
    # loyalty takes back 30 earned points (5 more were already spent) and gives back 100 spent
    reversal = loyalty.Reversal(
        reference="S-1",
        return_reference="",
        points_cancelled=20,
        points_taken_back=10,
        shortfall_points=5,
        shortfall_value=D("5.00"),
        points_given_back=100,
    )

    # when one comes back
    figures = return_figures(order=order, requests=requests, reversal=reversal, payments=payments)

    # then: its share of the line, what was paid for it less the shortfall, to both payments
    assert loyalty_return_lines(requests) == [loyalty.ReturnLine(1, 1, D("900.00"))]
    (only,) = figures.lines
    assert (only.quantity, only.amount, only.paid_amount, only.refund) == (1, D("900.00"), D("800.00"), D("795.00"))
    assert (figures.amount, figures.paid_amount, figures.refund_amount) == (D("900.00"), D("800.00"), D("795.00"))
    assert (figures.points_reversed, figures.points_given_back) == (30, 100)
    assert (figures.shortfall_points, figures.shortfall_value) == (5, D("5.00"))
    assert figures.refunds == [
        (PaymentMethod.CASH, D("331.25"), 0),
        (PaymentMethod.CARD_IN_STORE, D("463.75"), 0),
    ]
    assert figures.refund_points == 0


def test_a_line_already_partly_returned_takes_the_next_units_share():
    # given: 3 units at 100, 10.00 off and 10 points (10.00) spent; the first unit came back
    # (93.34 refunded), the anonymous sale paid in cash
    socks = line(2, quantity=3, unit_price="100.00", discount="10.00", points=10, points_value="10.00", returned=1)
    order = Order(number="S-2", paid=D("280.00"), refunded=D("93.34"))
    cash = payment(3, PaymentMethod.CASH, "280.00", refunded="93.34")

    # when the second and third come back, one faulty, to points (a point is worth 1.00)
    figures = return_figures(
        order=order,
        requests=[ReturnRequest(socks, 1, ReturnCondition.RESELLABLE), ReturnRequest(socks, 1, ReturnCondition.FAULTY)],
        reversal=None,
        payments=[cash],
        point_value=D("1.00"),
    )

    # then: cumulative shares, so the three units sum to the line (3.33 + 3.34 + 3.33 off)
    assert [(item.amount, item.paid_amount) for item in figures.lines] == [
        (D("96.66"), D("93.32")),
        (D("96.67"), D("93.34")),
    ]
    assert [item.condition for item in figures.lines] == [ReturnCondition.RESELLABLE, ReturnCondition.FAULTY]
    assert figures.paid_amount == D("186.66") == order.paid - order.refunded
    assert sum(item.refund for item in figures.lines) == figures.refund_amount == D("186.66")
    # whole points first, the cents that do not make a point to the cash
    assert figures.refunds == [(PaymentMethod.POINTS, D("186.00"), 186), (PaymentMethod.CASH, D("0.66"), 0)]
    assert figures.refund_points == 186
    assert (figures.points_reversed, figures.points_given_back, figures.shortfall_value) == (0, 0, D("0.00"))


def test_the_refund_never_exceeds_what_is_left_refundable():
    shirts = line(3, quantity=2, unit_price="500.00")
    order = Order(number="S-3", paid=D("1000.00"), refunded=D("800.00"))

    figures = return_figures(
        order=order,
        requests=[ReturnRequest(shirts, 1)],
        reversal=None,
        payments=[payment(4, PaymentMethod.SBP, "1000.00", refunded="800.00")],
    )

    assert (figures.amount, figures.paid_amount, figures.refund_amount) == (D("500.00"), D("200.00"), D("200.00"))
    assert figures.refunds == [(PaymentMethod.SBP, D("200.00"), 0)]
