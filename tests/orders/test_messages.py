"""What the customer is told, through the customers' messaging service (the outbox)."""

import pytest

from customers.models import MessageStatus
from orders import services
from orders.services import ReturnLineInput
from tests.customers.factories import CustomerFactory
from tests.orders.factories import cash, collect, customer, deliver, product, stock, store, warehouse

pytestmark = pytest.mark.django_db


def kinds(person) -> list[str]:
    return list(person.messages.order_by("id").values_list("kind", flat=True))


def test_the_click_and_collect_journey(django_capture_on_commit_callbacks):
    shop = store(name="Tverskaya", address="Tverskaya 1, Moscow", opening_hours="Mon-Sun 10:00-22:00")
    shirt = product("1000.00")
    stock(shop, shirt, 5)
    person = customer()

    with django_capture_on_commit_callbacks(execute=True):
        order = collect(person, shop, (shirt, 2))
        services.order_mark_ready(order=order)
        services.order_remind_pickup(order=order)
        services.order_hand_over(order=order, payments=cash())
        services.return_accept(order=order, location=shop, lines=[ReturnLineInput(shirt.sku, 1)], reason="Small")

    assert kinds(person) == ["order_placed", "order_ready", "order_pickup_reminder", "refund_made"]
    ready = person.messages.get(kind="order_ready")
    assert order.number in ready.subject
    for text in ("Tverskaya", "Tverskaya 1, Moscow", "Mon-Sun 10:00-22:00", "2000.00 RUB"):
        assert text in ready.body
    refund = person.messages.get(kind="refund_made")
    assert "1000.00 RUB" in refund.body
    # delivered after commit by the Celery task (in-process in tests)
    assert set(person.messages.values_list("status", flat=True)) == {MessageStatus.STORED}


def test_shipped_and_cancelled():
    depot, shirt = warehouse(), product()
    stock(depot, shirt, 5)
    person = customer()
    order = deliver(person, (shirt, 1), delivery_address="Arbat 5")
    services.order_pack(order=order)
    services.order_ship(order=order)
    services.order_cancel(order=order, reason="Refused at the door")
    assert kinds(person) == ["order_placed", "order_shipped", "order_cancelled"]
    assert "Arbat 5" in person.messages.get(kind="order_shipped").body


def test_a_customer_who_cannot_be_reached_still_gets_the_order():
    shop, shirt = store(), product()
    stock(shop, shirt, 5)
    unreachable = CustomerFactory()  # no phone, no e-mail

    order = collect(unreachable, shop, (shirt, 1))
    services.order_mark_ready(order=order)

    assert kinds(unreachable) == []
    assert order.number
