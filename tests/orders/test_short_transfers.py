"""A ship-to-store order whose transfer is received short: the missing units are sourced again
(the store's own stock, then another location by a new transfer), or, when nothing has them, the
order waits for staff to decide (hand over what is there, or cancel) and the customer is told."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from inventory.models import Stock, Transfer, TransferStatus
from inventory.selectors import stock_discrepancies
from inventory.services import transfer_receive, transfer_ship
from loyalty import selectors as loyalty_selectors
from loyalty.selectors import points_discrepancies
from omni.core.roles import STORE_STAFF
from orders import services, tasks
from orders.errors import InvalidTransition
from orders.models import OrderAllocation, OrderStatus, RefundStatus
from orders.services import PaymentInput
from tests.flows.consistency import assert_lines_sum_to_orders
from tests.orders.factories import cash, collect, customer, points_for, product, stock, store, warehouse

pytestmark = pytest.mark.django_db


def figures(location, item):
    row = Stock.objects.filter(location=location, product=item).first()
    return (row.on_hand, row.reserved) if row else (0, 0)


def receive_short(order, capture, received=0):
    """Ship the order's transfer and receive ``received`` of its one line (the rest is lost),
    running what the receipt schedules after commit."""
    transfer = Transfer.objects.get(cause_id=order.number, status=TransferStatus.REQUESTED)
    transfer_ship(transfer=transfer)
    line = transfer.lines.get()
    with capture(execute=True):
        transfer_receive(transfer=transfer, received={line.product_id: received})
    order.refresh_from_db()
    return transfer


@pytest.fixture
def capture(django_capture_on_commit_callbacks):
    return django_capture_on_commit_callbacks


def test_the_stores_own_stock_covers_what_did_not_arrive(capture):
    # given: the store had none when the order was placed; the warehouse sends one
    shop, depot, shirt = store(), warehouse(), product("1000.00")
    stock(depot, shirt, 1)
    order = collect(customer(), shop, (shirt, 1))
    assert order.status == OrderStatus.AWAITING_TRANSFER
    stock(shop, shirt, 2)  # the store received goods of its own meanwhile

    # when: the transfer arrives empty
    receive_short(order, capture)

    # then: the store's own unit is reserved for the order, which is ready
    assert order.status == OrderStatus.READY_FOR_PICKUP
    assert figures(shop, shirt) == (2, 1)
    assert not OrderAllocation.objects.filter(line__order=order, pending=True).exists()
    services.order_hand_over(order=order, payments=cash())
    order.refresh_from_db()
    assert order.status == OrderStatus.COLLECTED
    assert figures(shop, shirt) == (1, 0)
    assert stock_discrepancies() == []
    assert_lines_sum_to_orders()


def test_another_location_sends_what_did_not_arrive(capture):
    # given: two warehouses; the first one's transfer is lost on the way
    shop, first, second, shirt = store(), warehouse(code="a-wh"), warehouse(code="b-wh"), product("1000.00")
    stock(first, shirt, 1)
    stock(second, shirt, 1)
    order = collect(customer(), shop, (shirt, 1))
    lost = Transfer.objects.get(cause_id=order.number)
    assert lost.source == first  # by code when they hold as much

    # when
    receive_short(order, capture)

    # then: a new transfer brings it from the other warehouse; the order still waits
    assert order.status == OrderStatus.AWAITING_TRANSFER
    again = Transfer.objects.get(cause_id=order.number, status=TransferStatus.REQUESTED)
    assert (again.source, again.destination, again.reserve_on_receipt) == (second, shop, True)
    assert figures(first, shirt) == (0, 0)
    assert figures(second, shirt) == (1, 1)

    # when it arrives, the order is ready
    transfer_ship(transfer=again)
    with capture(execute=True):
        transfer_receive(transfer=again)
    order.refresh_from_db()
    assert order.status == OrderStatus.READY_FOR_PICKUP
    assert figures(shop, shirt) == (1, 1)
    assert stock_discrepancies() == []


@pytest.fixture
def short_order(capture):
    """Two lines: the socks are at the store, the shirt comes from the warehouse and is lost; no
    other location has a shirt. Prepaid by card, 100 points spent."""
    shop, depot, shirt, socks = store(), warehouse(), product("1000.00"), product("500.00")
    stock(shop, socks, 5)
    stock(depot, shirt, 1)
    person = customer()
    account = points_for(person, 300)
    order = collect(
        person, shop, (shirt, 1), (socks, 1), points=150, payments=[PaymentInput("card_online", transaction_id="t")]
    )
    assert (order.total, order.paid) == (Decimal("1350.00"), Decimal("1350.00"))
    receive_short(order, capture)
    return order, shop, depot, shirt, socks, account


def test_when_nothing_has_it_the_order_waits_for_a_decision_and_the_customer_is_told(short_order):
    order, shop, depot, shirt, socks, _account = short_order

    assert order.status == OrderStatus.AWAITING_DECISION
    assert order.pickup_until is not None
    message = order.customer.messages.get(kind="order_short")
    assert order.number in message.body and shirt.name in message.body
    assert list(order.history.values_list("status_to", flat=True))[-1] == OrderStatus.AWAITING_DECISION
    # the socks stay reserved at the store; nothing else is held
    assert figures(shop, socks) == (5, 1)
    assert figures(depot, shirt) == (0, 0)
    # a ready-for-pickup or a handover is refused: staff decide first
    with pytest.raises(InvalidTransition):
        services.order_mark_ready(order=order)
    with pytest.raises(InvalidTransition):
        services.order_hand_over(order=order, payments=cash())
    assert stock_discrepancies() == []


def test_handing_over_what_is_there(short_order):
    order, shop, _depot, shirt, socks, account = short_order

    services.order_accept_partial(order=order)

    order.refresh_from_db()
    assert order.status == OrderStatus.READY_FOR_PICKUP
    shirt_line = order.lines.get(sku=shirt.sku)
    socks_line = order.lines.get(sku=socks.sku)
    assert (socks_line.refused_quantity, socks_line.total) == (0, Decimal("450.00"))
    assert (shirt_line.refused_quantity, shirt_line.total, shirt_line.refused_total) == (
        1,
        Decimal("0.00"),
        Decimal("900.00"),
    )
    assert (order.subtotal, order.points_value, order.total) == (
        Decimal("500.00"),
        Decimal("50.00"),
        Decimal("450.00"),
    )
    # the shirt's money goes back to the card, its points to the account
    assert order.refunded == Decimal("900.00")
    refund = order.refunds.get()
    assert (refund.method, refund.amount, refund.status) == ("card_online", Decimal("900.00"), RefundStatus.PENDING)
    assert loyalty_selectors.balance(account).available == 250
    assert order.customer.messages.filter(kind="order_ready").exists()

    services.order_hand_over(order=order)
    order.refresh_from_db()
    assert (order.status, order.paid, order.refunded) == (
        OrderStatus.COLLECTED,
        Decimal("1350.00"),
        Decimal("900.00"),
    )
    assert figures(shop, socks) == (4, 0)
    assert stock_discrepancies() == []
    assert points_discrepancies() == []
    assert_lines_sum_to_orders()


def test_cancelling_it(short_order):
    order, shop, _depot, _shirt, socks, account = short_order

    services.order_cancel(order=order, reason="Wanted both")

    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert figures(shop, socks) == (5, 0)
    assert order.refunded == order.paid == Decimal("1350.00")
    assert loyalty_selectors.balance(account).available == 300
    assert stock_discrepancies() == []
    assert points_discrepancies() == []


def test_it_expires_when_nobody_decides(short_order):
    order, shop, _depot, _shirt, socks, _account = short_order

    assert tasks.expire_uncollected_orders() == 0
    later = order.pickup_until + datetime.timedelta(minutes=1)
    services.order_expire(order=order, now=later)

    order.refresh_from_db()
    assert order.status == OrderStatus.EXPIRED
    assert figures(shop, socks) == (5, 0)
    assert order.refunded == order.paid
    assert stock_discrepancies() == []


def test_the_expiry_task_takes_it(short_order, monkeypatch):
    order, *_rest = short_order
    later = order.pickup_until + datetime.timedelta(minutes=1)
    monkeypatch.setattr(timezone, "now", lambda: later)

    assert tasks.expire_uncollected_orders() == 1

    order.refresh_from_db()
    assert order.status == OrderStatus.EXPIRED


def test_a_shortfall_left_unsourced_is_sourced_by_the_periodic_task(capture):
    # given: the receipt committed but what it scheduled after commit was lost
    shop, depot, shirt = store(), warehouse(), product()
    stock(depot, shirt, 1)
    order = collect(customer(), shop, (shirt, 1))
    transfer = Transfer.objects.get(cause_id=order.number)
    transfer_ship(transfer=transfer)
    with capture(execute=False):
        transfer_receive(transfer=transfer, received={shirt.pk: 0})
    order.refresh_from_db()
    assert order.status == OrderStatus.AWAITING_TRANSFER

    tasks.expire_uncollected_orders()

    order.refresh_from_db()
    assert order.status == OrderStatus.AWAITING_DECISION


def test_the_desk_shows_it_with_both_choices(client, staff_in_role, short_order):
    order, shop, *_rest = short_order
    client.force_login(staff_in_role(STORE_STAFF, locations=[shop]))

    desk = client.get(reverse("admin:orders_order_desk"))
    sections = {key: [o.number for o in orders] for key, _title, orders in desk.context["sections"]}
    assert sections["awaiting_decision"] == [order.number]
    assert reverse("admin:orders_order_partial", args=[order.pk]).encode() in desk.content
    listed = client.get(reverse("admin:orders_order_changelist"), {"status": OrderStatus.AWAITING_DECISION})
    assert order.number.encode() in listed.content

    response = client.post(reverse("admin:orders_order_partial", args=[order.pk]))

    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.READY_FOR_PICKUP


def test_the_api_hands_over_what_is_there(client_with_scopes, short_order):
    order, *_rest = short_order
    writer = client_with_scopes("orders:read", "orders:write")
    body = writer.get(f"/api/v1/orders/{order.number}/").json()
    assert body["status"] == "awaiting_decision"
    assert body["allowed_actions"] == ["accept_partial", "cancel"]

    response = writer.post(f"/api/v1/orders/{order.number}/accept-partial/")

    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["total"]) == ("ready_for_pickup", "450.00")
    again = writer.post(f"/api/v1/orders/{order.number}/accept-partial/")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "invalid_transition"


def test_part_arrived_and_the_rest_is_nowhere(capture):
    # given: two shirts from the warehouse, one arrives
    shop, depot, shirt = store(), warehouse(), product("1000.00")
    stock(depot, shirt, 2)
    order = collect(customer(), shop, (shirt, 2))
    receive_short(order, capture, received=1)
    assert order.status == OrderStatus.AWAITING_DECISION
    assert figures(shop, shirt) == (1, 1)

    # when: staff go ahead with the one that is there
    services.order_accept_partial(order=order)
    services.order_hand_over(order=order, payments=cash())

    # then: one shirt sold and paid for; the line shows it, and the missing one apart
    order.refresh_from_db()
    line = order.lines.get()
    assert (line.quantity, line.refused_quantity, line.total, line.refused_total) == (
        2,
        1,
        Decimal("1000.00"),
        Decimal("1000.00"),
    )
    assert (order.status, order.total, order.paid, order.refunded) == (
        OrderStatus.COLLECTED,
        Decimal("1000.00"),
        Decimal("1000.00"),
        Decimal("0.00"),
    )
    assert figures(shop, shirt) == (0, 0)
    assert stock_discrepancies() == []
    assert_lines_sum_to_orders()


def test_the_decision_waits_for_the_other_transfer_on_its_way(capture):
    # given: the shirt comes from one warehouse, the socks from another; the shirt is lost
    shop, first, second = store(), warehouse(code="a-wh"), warehouse(code="b-wh")
    shirt, socks = product("1000.00"), product("500.00")
    stock(first, shirt, 1)
    stock(second, socks, 1)
    order = collect(customer(), shop, (shirt, 1), (socks, 1))
    shirts = Transfer.objects.get(cause_id=order.number, source=first)
    socks_transfer = Transfer.objects.get(cause_id=order.number, source=second)
    transfer_ship(transfer=socks_transfer)

    receive_short(order, capture)

    # then: the socks are still coming, so nothing is decided yet
    assert shirts.lines.get().product == shirt
    assert order.status == OrderStatus.AWAITING_TRANSFER

    # when the socks arrive, the shirt is still nowhere: staff decide
    with capture(execute=True):
        transfer_receive(transfer=socks_transfer)
    order.refresh_from_db()
    assert order.status == OrderStatus.AWAITING_DECISION
    assert figures(shop, socks) == (1, 1)
    assert stock_discrepancies() == []
