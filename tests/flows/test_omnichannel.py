"""Journeys across apps: stock, points, money and the customer's timeline stay right at every step."""

from decimal import Decimal

import pytest

from customers.models import InteractionKind
from inventory.models import Stock, Transfer
from inventory.selectors import stock_discrepancies
from inventory.services import transfer_receive, transfer_ship
from loyalty import selectors as loyalty_selectors
from loyalty.selectors import points_discrepancies
from orders import services
from orders.models import OrderStatus
from orders.services import PaymentInput, ReturnLineInput
from tests.flows.consistency import assert_lines_sum_to_orders
from tests.orders.factories import cash, collect, customer, deliver, points_for, product, stock, store, warehouse

pytestmark = pytest.mark.django_db


def on_hand(location, item) -> int:
    row = Stock.objects.filter(location=location, product=item).first()
    return row.on_hand if row else 0


def test_a_web_order_returned_in_a_store():
    # given: a site order delivered from the warehouse, 300 points spent, the rest paid online
    depot, shop = warehouse(), store(code="tver")
    shirt, jeans = product("1000.00"), product("2500.00")
    stock(depot, shirt, 5)
    stock(depot, jeans, 5)
    person = customer()
    account = points_for(person, 300)
    order = deliver(
        person, (shirt, 1), (jeans, 1), points=300, payments=[PaymentInput("card_online", transaction_id="tx-9")]
    )
    assert (order.total, order.paid) == (Decimal("3200.00"), Decimal("3200.00"))
    services.order_pack(order=order)
    services.order_ship(order=order)
    services.order_hand_over(order=order)
    order.refresh_from_db()
    assert order.points_earned == 160  # 5 % of the 3200 paid in money
    assert loyalty_selectors.balance(account).pending == 160

    # when: everything comes back in a store
    order_return = services.return_accept(
        order=order,
        location=shop,
        lines=[ReturnLineInput(shirt.sku, 1), ReturnLineInput(jeans.sku, 1)],
        reason="Changed my mind",
    )

    # then: stock is up in that store, not at the warehouse
    assert (on_hand(shop, shirt), on_hand(shop, jeans)) == (1, 1)
    assert (on_hand(depot, shirt), on_hand(depot, jeans)) == (4, 4)
    # the refund is what was paid, to the card it was paid with
    order.refresh_from_db()
    assert order_return.refund_amount == order.paid == order.refunded == Decimal("3200.00")
    assert list(order_return.refunds.values_list("method", "amount")) == [("card_online", Decimal("3200.00"))]
    # points: the earned ones are reversed, the spent ones come back
    assert (order_return.points_reversed, order_return.points_given_back) == (160, 300)
    balance = loyalty_selectors.balance(account)
    assert (balance.available, balance.pending) == (300, 0)
    # the timeline has the sale and the return; the customer was told of the refund
    kinds = set(person.interactions.filter(subject_id=order.number).values_list("kind", flat=True))
    assert {InteractionKind.ORDER, InteractionKind.RETURN} <= kinds
    assert person.messages.filter(kind="refund_made").exists()
    assert stock_discrepancies() == []
    assert points_discrepancies() == []
    assert_lines_sum_to_orders()


def test_a_courier_customer_keeps_two_shirts_of_three_and_returns_one_later():
    depot, shop = warehouse(), store()
    blue, white, black = product("1200.00"), product("1200.00"), product("1500.00")
    for item in (blue, white, black):
        stock(depot, item, 3)
    person = customer()
    order = deliver(person, (blue, 1), (white, 1), (black, 1), channel="app")
    services.order_pack(order=order)
    services.order_ship(order=order)

    services.order_hand_over(order=order, refused={black.sku: 1}, payments=[PaymentInput("courier_card")])

    order.refresh_from_db()
    assert (order.status, order.total, order.paid) == (OrderStatus.DELIVERED, Decimal("2400.00"), Decimal("2400.00"))
    assert (on_hand(depot, black), Stock.objects.get(location=depot, product=black).reserved) == (3, 0)
    assert order.points_earned == 120

    order_return = services.return_accept(order=order, location=shop, lines=[ReturnLineInput(white.sku, 1)], reason="x")
    assert order_return.refund_amount == Decimal("1200.00")
    assert order_return.points_reversed == 60
    assert stock_discrepancies() == []
    assert points_discrepancies() == []
    assert_lines_sum_to_orders()


def test_the_call_centre_reserves_in_a_store_the_goods_come_from_the_warehouse():
    depot, shop = warehouse(), store()
    kettle = product("3000.00")
    stock(depot, kettle, 2)
    person = customer()

    order = collect(person, shop, (kettle, 1), channel="call_centre")
    assert order.number.startswith("C-") and order.status == OrderStatus.AWAITING_TRANSFER
    transfer = Transfer.objects.get(cause_id=order.number)
    transfer_ship(transfer=transfer)
    transfer_receive(transfer=transfer)
    order.refresh_from_db()
    assert order.status == OrderStatus.READY_FOR_PICKUP
    services.order_hand_over(order=order, payments=cash())

    order.refresh_from_db()
    assert order.status == OrderStatus.COLLECTED
    assert (on_hand(shop, kettle), on_hand(depot, kettle)) == (0, 1)
    assert stock_discrepancies() == []
    assert_lines_sum_to_orders()
