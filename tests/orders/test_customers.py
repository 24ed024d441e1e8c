"""Orders as the customers app sees them: merge, anonymisation, export, segment conditions."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from customers.merge import customer_merge
from customers.models import Segment, SegmentCondition
from customers.personal_data import customer_anonymise, customer_data_export
from customers.segments import segment_members, validate_condition
from loyalty.models import OrderPoints, PointsEntry
from omni.core.channels import Channel
from omni.core.errors import InvalidInput
from orders import services
from orders.models import Order
from orders.services import PaymentInput
from tests.inventory.factories import CategoryFactory
from tests.orders.factories import (
    cash,
    collect,
    customer,
    deliver,
    points_for,
    product,
    sell,
    stock,
    store,
    warehouse,
)

pytestmark = pytest.mark.django_db


def test_a_merge_moves_the_orders_to_the_survivor():
    shop, shirt = store(), product()
    stock(shop, shirt, 5)
    survivor, duplicate = customer(), customer()
    kept = collect(survivor, shop, (shirt, 1))
    moved = sell(shop, (shirt, 1), person=duplicate)

    customer_merge(survivor=survivor, merged=duplicate)

    assert set(Order.objects.filter(customer=survivor).values_list("number", flat=True)) == {kept.number, moved.number}
    assert not Order.objects.filter(customer=duplicate).exists()


def test_anonymisation_keeps_the_orders_without_personal_data():
    depot, shirt = warehouse(), product()
    stock(depot, shirt, 5)
    person = customer()
    order = deliver(person, (shirt, 1), delivery_address="Arbat 5, flat 7", contact_name="Anna", contact_phone="+7916")
    cancelled = deliver(person, (shirt, 1), contact_name="Anna")
    services.order_cancel(order=cancelled, reason="Anna Petrova moved to Omsk")

    customer_anonymise(customer=person)

    order.refresh_from_db()
    assert (order.delivery_address, order.contact_name, order.contact_phone) == ("", "", "")
    assert order.customer == person and order.total > 0
    cancelled.refresh_from_db()
    assert cancelled.cancel_reason == "" and cancelled.total == order.total
    assert not cancelled.history.exclude(note="").exists()


def test_the_export_lists_the_orders():
    shop, shirt = store(), product("10.00")
    stock(shop, shirt, 5)
    person = customer()
    order = sell(shop, (shirt, 2), person=person)
    exported = customer_data_export(customer=person)
    assert exported["orders"][0]["number"] == order.number
    assert exported["orders"][0]["lines"][0]["quantity"] == 2


def members(*conditions) -> set[int]:
    segment = Segment.objects.create(name=f"segment {Segment.objects.count()}")
    for key, value, date_from, date_to in conditions:
        validate_condition(key, value, date_from, date_to)
        SegmentCondition.objects.create(
            segment=segment, condition=key, value=value, date_from=date_from, date_to=date_to
        )
    return set(segment_members(segment).values_list("pk", flat=True))


class TestSegments:
    @pytest.fixture
    def buyers(self):
        shoes, socks = CategoryFactory(code="shoes"), CategoryFactory(code="socks")
        boots = CategoryFactory(code="boots", parent=shoes)
        shop, depot = store(), warehouse()
        boot, sock = product("5000.00", category=boots), product("100.00", category=socks)
        for location in (shop, depot):
            stock(location, boot, 10)
            stock(location, sock, 10)
        big, small, none, cancelled = customer(), customer(), customer(), customer()
        sell(shop, (boot, 1), person=big)
        sell(shop, (boot, 1), person=big)
        order = collect(small, shop, (sock, 1), channel="app")
        services.order_mark_ready(order=order)
        services.order_hand_over(order=order, payments=cash())
        services.order_cancel(order=collect(cancelled, shop, (boot, 1)))
        return big, small, none, cancelled

    def test_total_spent_and_number_of_orders(self, buyers):
        big, small, _none, _cancelled = buyers
        today = timezone.localdate()
        assert members(("orders.total_spent_at_least", "9000", None, None)) == {big.pk}
        assert members(("orders.total_spent_at_least", "100", today, today)) == {big.pk, small.pk}
        assert members(("orders.orders_at_least", "2", None, None)) == {big.pk}
        assert members(("orders.orders_at_least", "1", None, today - datetime.timedelta(days=1))) == set()

    def test_refunds_do_not_count_as_spent(self, buyers):
        big, _small, _none, _cancelled = buyers
        for order in Order.objects.filter(customer=big):
            services.return_accept(
                order=order,
                location=order.location,
                lines=[services.ReturnLineInput(order.lines.get().sku, 1)],
                reason="x",
            )
        assert big.pk not in members(("orders.total_spent_at_least", "1", None, None))

    def test_last_purchase_channel_and_category(self, buyers):
        big, small, _none, _cancelled = buyers
        tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
        yesterday = (timezone.localdate() - datetime.timedelta(days=1)).isoformat()
        assert members(("orders.last_purchase_before", tomorrow, None, None)) == {big.pk, small.pk}
        assert members(("orders.last_purchase_after", yesterday, None, None)) == {big.pk, small.pk}
        assert members(("orders.last_purchase_after", tomorrow, None, None)) == set()
        assert members(("orders.bought_through", "app", None, None)) == {small.pk}
        assert members(("orders.bought_through", "store", None, None)) == {big.pk}
        assert members(("orders.bought_in_category", "shoes", None, None)) == {big.pk}  # boots are below shoes
        assert members(("orders.bought_in_category", "socks", None, None)) == {small.pk}

    def test_conditions_combine(self, buyers):
        big, _small, _none, _cancelled = buyers
        assert members(
            ("orders.bought_in_category", "shoes", None, None), ("orders.total_spent_at_least", "9000", None, None)
        ) == {big.pk}

    @pytest.mark.parametrize(
        ("key", "value"),
        [
            ("orders.total_spent_at_least", "lots"),
            ("orders.orders_at_least", "-1"),
            ("orders.last_purchase_before", "31.12.2025"),
            ("orders.bought_through", "pigeon"),
            ("orders.bought_in_category", "no-such-category"),
        ],
    )
    def test_bad_values_are_refused(self, key, value):
        with pytest.raises(InvalidInput):
            validate_condition(key, value)


def test_one_query_whatever_the_number_of_customers(django_assert_num_queries):
    CategoryFactory(code="shoes")
    segment = Segment.objects.create(name="spenders")
    SegmentCondition.objects.create(segment=segment, condition="orders.total_spent_at_least", value=str(Decimal("1")))
    SegmentCondition.objects.create(segment=segment, condition="orders.bought_in_category", value="shoes")
    queryset = segment_members(segment)
    with django_assert_num_queries(1):  # the conditions were built into one query
        list(queryset)


def test_a_marketplace_order_is_recorded_through_the_marketplace_channel():
    depot, shirt = warehouse(), product("1000.00")
    stock(depot, shirt, 5)
    person = customer()
    points_for(person, 100)

    order = deliver(person, (shirt, 1), channel="marketplace", points=100)
    services.order_pack(order=order)
    services.order_ship(order=order)
    services.order_hand_over(order=order, payments=[PaymentInput(method="courier_card")])

    assert order.number.startswith("P-")
    assert set(person.interactions.filter(subject_id=order.number).values_list("channel", flat=True)) == {
        Channel.MARKETPLACE
    }
    assert OrderPoints.objects.get(reference=order.number).channel == Channel.MARKETPLACE
    channels = set(PointsEntry.objects.filter(account__customer=person).values_list("channel", flat=True))
    assert Channel.MARKETPLACE in channels and Channel.SYSTEM not in channels  # spent and earned on the order
