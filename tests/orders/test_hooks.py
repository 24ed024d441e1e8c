"""``orders.hooks``: every action that writes an order says so once, inside its transaction, after
its last write of the order; accepting a return says so too."""

import datetime

import pytest
from django.utils import timezone

from inventory.models import Transfer
from inventory.services import transfer_receive, transfer_ship
from orders import hooks, services
from orders.models import OrderStatus
from orders.services import PaymentInput, ReturnLineInput
from tests.orders.factories import cash, collect, customer, deliver, product, sell, stock, store, warehouse

pytestmark = pytest.mark.django_db


@pytest.fixture
def heard(monkeypatch):
    """What the hooks heard, as (what, number, status); the registered callbacks (the reports')
    keep running, and the recording ones are gone after the test."""
    monkeypatch.setattr(hooks.order_changed, "_callbacks", dict(hooks.order_changed._callbacks))
    monkeypatch.setattr(hooks.return_accepted, "_callbacks", dict(hooks.return_accepted._callbacks))
    calls = []

    def order_changed(order):
        calls.append(("order", order.number, order.status))

    def return_accepted(order_return):
        lines = [(line.order_line.sku, line.quantity) for line in order_return.lines.all()]
        calls.append(("return", order_return.order.number, lines))

    hooks.register_order_changed(order_changed)
    hooks.register_order_changed(order_changed)  # registering again replaces it
    hooks.register_return_accepted(return_accepted)
    return calls


@pytest.fixture
def shirt():
    return product("1000.00")


def test_a_sale_in_a_store_is_heard_once_complete(heard, shirt):
    shop = store()
    stock(shop, shirt, 1)

    order = sell(shop, (shirt, 1))

    assert heard == [("order", order.number, OrderStatus.SOLD)]


def test_a_return_is_heard_with_its_order(heard, shirt):
    shop, other = store(), store()
    stock(shop, shirt, 2)
    order = sell(shop, (shirt, 2), person=customer())
    del heard[:]

    services.return_accept(order=order, location=other, lines=[ReturnLineInput(shirt.sku, 1)], reason="size")

    assert heard == [
        ("order", order.number, OrderStatus.SOLD),
        ("return", order.number, [(shirt.sku, 1)]),
    ]


def test_placing_paying_ready_reminding_and_handing_over_are_heard(heard, shirt):
    shop = store()
    stock(shop, shirt, 1)

    order = collect(customer(), shop, (shirt, 1))
    services.payment_record(order=order, payment=PaymentInput(method="card_online"))
    services.order_mark_ready(order=order)
    services.order_remind_pickup(order=order)
    services.order_hand_over(order=order)

    n = order.number
    assert heard == [
        ("order", n, OrderStatus.PLACED),
        ("order", n, OrderStatus.PLACED),
        ("order", n, OrderStatus.READY_FOR_PICKUP),
        ("order", n, OrderStatus.READY_FOR_PICKUP),
        ("order", n, OrderStatus.COLLECTED),
    ]


def test_a_delivery_and_a_cancellation_are_heard(heard, shirt):
    depot = warehouse()
    stock(depot, shirt, 2)

    delivered = deliver(customer(), (shirt, 1), payments=[PaymentInput(method="card_online")])
    services.order_pack(order=delivered)
    services.order_ship(order=delivered)
    services.order_hand_over(order=delivered)
    cancelled = deliver(customer(), (shirt, 1))
    services.order_cancel(order=cancelled, reason="changed my mind")

    assert [status for _what, _number, status in heard] == [
        OrderStatus.PLACED,
        OrderStatus.PACKED,
        OrderStatus.SHIPPED,
        OrderStatus.DELIVERED,
        OrderStatus.PLACED,
        OrderStatus.CANCELLED,
    ]


def test_an_order_not_collected_in_time_is_heard(heard, shirt):
    shop = store()
    stock(shop, shirt, 1)
    order = collect(customer(), shop, (shirt, 1))
    services.order_mark_ready(order=order)

    services.order_expire(order=order, now=timezone.now() + datetime.timedelta(days=365))

    assert heard[-1] == ("order", order.number, OrderStatus.EXPIRED)


def test_goods_arriving_short_and_the_decision_are_heard(heard, shirt, django_capture_on_commit_callbacks):
    # given: the pickup store has none; the warehouse sends two, one arrives and none is elsewhere
    shop, depot = store(), warehouse()
    stock(depot, shirt, 2)
    order = collect(customer(), shop, (shirt, 2))
    transfer = Transfer.objects.get(cause_id=order.number)
    transfer_ship(transfer=transfer)
    del heard[:]

    # when
    with django_capture_on_commit_callbacks(execute=True):
        transfer_receive(transfer=transfer, received={shirt.pk: 1})
    services.order_accept_partial(order=order)
    services.order_hand_over(order=order, payments=cash())

    # then
    n = order.number
    assert heard == [
        ("order", n, OrderStatus.AWAITING_DECISION),
        ("order", n, OrderStatus.READY_FOR_PICKUP),
        ("order", n, OrderStatus.COLLECTED),
    ]


def test_goods_arriving_in_full_are_heard(heard, shirt):
    shop, depot = store(), warehouse()
    stock(depot, shirt, 1)
    order = collect(customer(), shop, (shirt, 1))
    transfer = Transfer.objects.get(cause_id=order.number)
    transfer_ship(transfer=transfer)

    transfer_receive(transfer=transfer)

    assert heard[-1] == ("order", order.number, OrderStatus.READY_FOR_PICKUP)


def test_a_failing_callback_refuses_the_action(monkeypatch, shirt):
    shop = store()
    stock(shop, shirt, 1)
    order = collect(customer(), shop, (shirt, 1))
    monkeypatch.setattr(hooks.order_changed, "_callbacks", {})

    def broken(order):
        raise RuntimeError("no")

    hooks.register_order_changed(broken)

    with pytest.raises(RuntimeError):
        services.order_mark_ready(order=order)

    order.refresh_from_db()
    assert (order.status, order.ready_at) == (OrderStatus.PLACED, None)
