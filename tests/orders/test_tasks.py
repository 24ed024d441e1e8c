"""The beat tasks: expiry of uncollected orders and the pickup reminder."""

import datetime

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from inventory.models import Stock, Transfer
from inventory.services import transfer_receive, transfer_ship
from orders import services, tasks
from orders.models import OrderAllocation, OrderStatus
from tests.orders.factories import collect, customer, product, stock, store, warehouse

pytestmark = pytest.mark.django_db


def ready_order(shop, item, *, ready_days_ago: float):
    order = collect(customer(), shop, (item, 1))
    services.order_mark_ready(order=order)
    order.refresh_from_db()
    shift = datetime.timedelta(days=ready_days_ago)
    order.ready_at -= shift
    order.pickup_until -= shift
    order.save(update_fields=["ready_at", "pickup_until"])
    return order


def test_orders_past_their_pickup_days_expire_and_the_others_stay():
    shop, shirt = store(), product()
    stock(shop, shirt, 5)
    late = ready_order(shop, shirt, ready_days_ago=django_settings.ORDERS_PICKUP_DAYS + 0.1)
    fresh = ready_order(shop, shirt, ready_days_ago=1)

    assert tasks.expire_uncollected_orders.delay().get() == 1

    late.refresh_from_db()
    fresh.refresh_from_db()
    assert (late.status, fresh.status) == (OrderStatus.EXPIRED, OrderStatus.READY_FOR_PICKUP)
    assert Stock.objects.get(location=shop, product=shirt).reserved == 1
    assert late.customer.messages.filter(kind="order_expired").exists()


def test_pickup_days_come_from_the_settings(settings):
    settings.ORDERS_PICKUP_DAYS = 5
    shop, shirt = store(), product()
    stock(shop, shirt, 5)
    order = collect(customer(), shop, (shirt, 1))
    services.order_mark_ready(order=order)
    order.refresh_from_db()
    assert order.pickup_until - order.ready_at == datetime.timedelta(days=5)


def test_a_reminder_one_day_before():
    shop, shirt = store(), product()
    stock(shop, shirt, 5)
    due = ready_order(shop, shirt, ready_days_ago=django_settings.ORDERS_PICKUP_DAYS - 0.5)
    not_yet = ready_order(shop, shirt, ready_days_ago=0.5)

    assert tasks.remind_pickup.delay().get() == 1
    assert tasks.remind_pickup.delay().get() == 0

    reminder = due.customer.messages.get(kind="order_pickup_reminder")
    assert due.number in reminder.body
    assert shop.address in reminder.body
    assert not not_yet.customer.messages.filter(kind="order_pickup_reminder").exists()


def test_a_received_transfer_left_unsettled_is_settled_by_the_task():
    shop, depot, shirt = store(), warehouse(), product()
    stock(depot, shirt, 5)
    order = collect(customer(), shop, (shirt, 1))
    transfer = Transfer.objects.get(cause_id=order.number)
    transfer_ship(transfer=transfer)
    transfer_receive(transfer=transfer)
    # as if the receipt had found the order locked and the update after commit had been lost
    OrderAllocation.objects.filter(line__order=order).update(pending=True)
    order.status = OrderStatus.AWAITING_TRANSFER
    order.save(update_fields=["status"])

    tasks.expire_uncollected_orders.delay()

    order.refresh_from_db()
    assert order.status == OrderStatus.READY_FOR_PICKUP
    assert timezone.now() < order.pickup_until
