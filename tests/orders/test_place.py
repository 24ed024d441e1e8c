"""Placing orders: click-and-collect (from the store, ship-to-store), delivery, sales in store."""

from decimal import Decimal

import pytest

from inventory.errors import InsufficientStock, UnknownProducts
from inventory.models import Stock, StockMovement, Transfer
from inventory.selectors import stock_discrepancies
from inventory.services import transfer_receive, transfer_ship
from loyalty import selectors as loyalty_selectors
from loyalty.errors import ExceedsOrderShare, NotEnoughPoints
from loyalty.models import PromoUsage, PromoUsageStatus
from omni.core.channels import SALES_CHANNELS
from omni.core.errors import InvalidInput
from orders import services
from orders.errors import CustomerRequired, InvalidLocation, PaymentMismatch
from orders.models import (
    Fulfilment,
    Order,
    OrderAllocation,
    OrderStatus,
    Payment,
    PaymentMethod,
    StatusChange,
)
from orders.services import LineInput, PaymentInput
from tests.loyalty.factories import PromoCodeFactory
from tests.orders.factories import (
    cash,
    collect,
    customer,
    deliver,
    lines,
    points_for,
    product,
    sell,
    stock,
    store,
    warehouse,
)

pytestmark = pytest.mark.django_db


def figures(location, item):
    row = Stock.objects.get(location=location, product=item)
    return row.on_hand, row.reserved


class TestClickAndCollect:
    def test_from_the_store_stock(self):
        # given
        shop, shirt, socks = store(), product("1500.00"), product("300.00")
        stock(shop, shirt, 5)
        stock(shop, socks, 5)
        person = customer()

        # when
        order = collect(person, shop, (shirt, 2), (socks, 1))

        # then
        assert order.number.startswith("W-")
        assert order.status == OrderStatus.PLACED
        assert (order.subtotal, order.discount, order.points_value, order.total) == (
            Decimal("3300.00"),
            Decimal("0.00"),
            Decimal("0.00"),
            Decimal("3300.00"),
        )
        assert [(line.sku, line.unit_price, line.quantity, line.total) for line in order.lines.all()] == [
            (shirt.sku, Decimal("1500.00"), 2, Decimal("3000.00")),
            (socks.sku, Decimal("300.00"), 1, Decimal("300.00")),
        ]
        assert figures(shop, shirt) == (5, 2)
        assert figures(shop, socks) == (5, 1)
        assert set(OrderAllocation.objects.values_list("location_id", "quantity", "pending")) == {
            (shop.pk, 2, False),
            (shop.pk, 1, False),
        }
        assert StockMovement.objects.filter(cause_type="order", cause_id=order.number).count() == 2
        assert list(order.history.values_list("status_from", "status_to")) == [("", "placed")]
        assert person.messages.get().kind == "order_placed"
        assert stock_discrepancies() == []

    def test_ship_to_store_reserves_the_rest_at_a_warehouse_and_waits_for_the_transfer(self):
        # given: the store has 1 of 3, the warehouse the rest
        shop, depot, shirt = store(), warehouse(), product("1000.00")
        stock(shop, shirt, 1)
        stock(depot, shirt, 10)

        # when
        order = collect(customer(), shop, (shirt, 3))

        # then
        assert order.status == OrderStatus.AWAITING_TRANSFER
        transfer = Transfer.objects.get(cause_type="order", cause_id=order.number)
        assert (transfer.source, transfer.destination, transfer.reserve_on_receipt) == (depot, shop, True)
        assert figures(shop, shirt) == (1, 1)
        assert figures(depot, shirt) == (10, 2)
        assert list(order.history.values_list("status_to", flat=True)) == ["placed", "awaiting_transfer"]

        # when the transfer arrives
        transfer_ship(transfer=transfer)
        transfer_receive(transfer=transfer)

        # then the goods are reserved for the order at the store and it is ready
        order.refresh_from_db()
        assert order.status == OrderStatus.READY_FOR_PICKUP
        assert order.pickup_until is not None
        assert figures(shop, shirt) == (3, 3)
        assert figures(depot, shirt) == (8, 0)
        assert not OrderAllocation.objects.filter(line__order=order, pending=True).exists()
        assert set(order.customer.messages.values_list("kind", flat=True)) == {"order_placed", "order_ready"}
        assert stock_discrepancies() == []

    def test_ship_to_store_prefers_one_source_for_the_whole_rest(self):
        shop, small, big, shirt, socks = store(), warehouse(code="a-wh"), warehouse(code="b-wh"), product(), product()
        stock(small, shirt, 5)
        stock(big, shirt, 5)
        stock(big, socks, 5)

        order = collect(customer(), shop, (shirt, 2), (socks, 2))

        transfer = Transfer.objects.get(cause_id=order.number)
        assert transfer.source == big
        assert sorted(transfer.lines.values_list("quantity", flat=True)) == [2, 2]

    def test_split_between_sources_when_none_has_it_all(self):
        shop, first, second, shirt = store(), warehouse(), warehouse(), product()
        stock(first, shirt, 2)
        stock(second, shirt, 2)

        order = collect(customer(), shop, (shirt, 3))

        assert Transfer.objects.filter(cause_id=order.number).count() == 2
        assert sum(a.quantity for a in OrderAllocation.objects.filter(line__order=order)) == 3
        assert stock_discrepancies() == []

    def test_too_little_anywhere_is_refused_naming_the_skus_and_changes_nothing(self):
        shop, depot, shirt, socks = store(), warehouse(), product(), product()
        stock(shop, shirt, 1)
        stock(depot, shirt, 1)
        stock(shop, socks, 5)
        movements = StockMovement.objects.count()

        with pytest.raises(InsufficientStock) as error:
            collect(customer(), shop, (shirt, 3), (socks, 1))

        assert error.value.status == 409
        assert error.value.details["skus"] == [shirt.sku]
        assert error.value.details["lines"] == [{"sku": shirt.sku, "requested": 3, "available": 2}]
        assert Order.objects.count() == 0
        assert Transfer.objects.count() == 0
        assert StockMovement.objects.count() == movements

    def test_a_store_that_is_not_a_pickup_point_is_refused(self):
        shop, shirt = store(is_pickup_point=False), product()
        stock(shop, shirt, 1)
        with pytest.raises(InvalidLocation):
            collect(customer(), shop, (shirt, 1))


class TestDelivery:
    def test_one_location_for_the_whole_order_when_one_has_it(self):
        first, second, shirt, socks = warehouse(code="w1"), warehouse(code="w2"), product(), product()
        stock(first, shirt, 5)
        stock(second, shirt, 5)
        stock(second, socks, 5)

        order = deliver(customer(), (shirt, 1), (socks, 1))

        assert order.status == OrderStatus.PLACED
        assert order.location == second
        assert set(OrderAllocation.objects.values_list("location_id", flat=True)) == {second.pk}
        assert figures(second, shirt) == (5, 1)
        assert figures(first, shirt) == (5, 0)

    def test_split_when_needed_and_stores_that_do_not_ship_are_not_used(self):
        shop, first, second, shirt = store(), warehouse(), warehouse(), product()
        stock(shop, shirt, 10)
        stock(first, shirt, 1)
        stock(second, shirt, 2)

        deliver(customer(), (shirt, 3))

        assert sorted(OrderAllocation.objects.values_list("quantity", flat=True)) == [1, 2]
        assert figures(shop, shirt) == (10, 0)

    def test_needs_an_address(self):
        depot, shirt = warehouse(), product()
        stock(depot, shirt, 1)
        with pytest.raises(InvalidInput) as error:
            deliver(customer(), (shirt, 1), delivery_address=" ")
        assert "delivery_address" in error.value.details["fields"]


class TestSaleInStore:
    def test_sold_at_once_and_paid(self):
        # given
        shop, shirt = store(), product("999.90")
        stock(shop, shirt, 3)
        person = customer()

        # when
        order = sell(shop, (shirt, 2), person=person, payments=[PaymentInput(method="card_in_store", terminal="T-1")])

        # then
        assert order.number.startswith("S-")
        assert order.status == OrderStatus.SOLD
        assert (order.total, order.paid) == (Decimal("1999.80"), Decimal("1999.80"))
        assert figures(shop, shirt) == (1, 0)
        payment = order.payments.get()
        assert (payment.method, payment.amount, payment.terminal) == ("card_in_store", Decimal("1999.80"), "T-1")
        assert order.completed_at is not None
        assert order.points_earned == 99  # 5 % of 1999.80, rounded down
        assert loyalty_selectors.balance(loyalty_selectors.account_of(person)).pending == 99
        assert person.interactions.filter(kind="order", subject_id=order.number).exists()

    def test_anonymous_sale(self):
        shop, shirt = store(), product()
        stock(shop, shirt, 1)
        order = sell(shop, (shirt, 1))
        assert order.customer is None and order.status == OrderStatus.SOLD

    def test_must_be_paid_in_full(self):
        shop, shirt = store(), product("100.00")
        stock(shop, shirt, 1)
        with pytest.raises(PaymentMismatch):
            sell(shop, (shirt, 1), payments=cash("99.99"))
        assert Order.objects.count() == 0
        assert figures(shop, shirt) == (1, 0)

    def test_split_tender(self):
        shop, shirt = store(), product("100.00")
        stock(shop, shirt, 1)
        order = sell(shop, (shirt, 1), payments=[PaymentInput("cash", Decimal("30.00")), PaymentInput("card_in_store")])
        assert list(order.payments.values_list("method", "amount")) == [
            ("cash", Decimal("30.00")),
            ("card_in_store", Decimal("70.00")),
        ]

    def test_not_enough_on_the_shelf(self):
        shop, shirt = store(), product()
        stock(shop, shirt, 1)
        with pytest.raises(InsufficientStock):
            sell(shop, (shirt, 2))


class TestPromoAndPoints:
    def test_discount_and_points_are_spread_over_lines_and_sum_to_the_order(self):
        # given
        shop, a, b, c = store(), product("333.33"), product("333.33"), product("333.34")
        for item in (a, b, c):
            stock(shop, item, 5)
        person = customer()
        points_for(person, 500)
        PromoCodeFactory(code="TEN", kind="percent", value=Decimal("10"))

        # when
        order = collect(person, shop, (a, 1), (b, 1), (c, 1), promo_code="ten", points=100)

        # then
        order_lines = list(order.lines.all())
        assert order.promo_code == "TEN"
        assert (order.subtotal, order.discount, order.points_redeemed, order.points_value, order.total) == (
            Decimal("1000.00"),
            Decimal("100.00"),
            100,
            Decimal("100.00"),
            Decimal("800.00"),
        )
        assert sum(line.discount for line in order_lines) == order.discount
        assert sum(line.points for line in order_lines) == 100
        assert sum(line.points_value for line in order_lines) == order.points_value
        assert sum(line.total for line in order_lines) == order.total
        assert [line.discount for line in order_lines] == [Decimal("33.33"), Decimal("33.33"), Decimal("33.34")]
        # equal amounts after the discount: the remainder goes to the first line
        assert [line.points for line in order_lines] == [34, 33, 33]
        assert order.payments.get(method=PaymentMethod.POINTS).amount == Decimal("100.00")
        assert PromoUsage.objects.get(reference=order.number).status == PromoUsageStatus.APPLIED

    def test_points_beyond_the_programme_share_are_refused(self):
        shop, shirt = store(), product("100.00")
        stock(shop, shirt, 1)
        person = customer()
        points_for(person, 500)
        with pytest.raises(ExceedsOrderShare):
            collect(person, shop, (shirt, 1), points=31)
        assert Order.objects.count() == 0
        assert figures(shop, shirt) == (1, 0)

    def test_points_beyond_the_balance_are_refused_and_nothing_changes(self):
        shop, shirt = store(), product("1000.00")
        stock(shop, shirt, 1)
        person = customer()
        account = points_for(person, 50)
        with pytest.raises(NotEnoughPoints):
            collect(person, shop, (shirt, 1), points=60)
        assert loyalty_selectors.balance(account).available == 50
        assert Order.objects.count() == 0


class TestBadInput:
    def test_unknown_sku(self):
        shop = store()
        with pytest.raises(UnknownProducts) as error:
            services.order_place(
                channel="site",
                fulfilment="click_and_collect",
                customer=customer(),
                location=shop,
                lines=[LineInput("NOPE", 1)],
            )
        assert (error.value.status, error.value.details["skus"]) == (400, ["NOPE"])

    @pytest.mark.parametrize("quantity", [0, -1, 1.5, "2", True, 10**6])
    def test_bad_quantities(self, quantity):
        shop, shirt = store(), product()
        stock(shop, shirt, 5)
        with pytest.raises(InvalidInput) as error:
            collect(customer(), shop, (shirt, quantity))
        assert error.value.status == 400
        assert Order.objects.count() == 0

    @pytest.mark.parametrize("channel", ["email", "system", "fax"])
    def test_only_a_sales_channel_places_an_order(self, channel):
        shop, shirt = store(), product()
        stock(shop, shirt, 5)
        with pytest.raises(InvalidInput) as error:
            collect(customer(), shop, (shirt, 1), channel=channel)
        assert error.value.details == {"field": "channel", "fields": {"channel": [f"{channel} is not a valid choice."]}}
        assert Order.objects.count() == 0

    def test_a_customer_is_required_except_for_a_sale_in_store(self):
        shop, shirt = store(), product()
        stock(shop, shirt, 5)
        with pytest.raises(CustomerRequired):
            services.order_place(channel="site", fulfilment="click_and_collect", location=shop, lines=lines((shirt, 1)))

    def test_same_sku_twice_is_one_line(self):
        shop, shirt = store(), product()
        stock(shop, shirt, 5)
        order = collect(customer(), shop, (shirt, 1), (shirt, 2))
        assert list(order.lines.values_list("quantity", flat=True)) == [3]

    def test_prepayment_must_be_the_whole_total(self):
        shop, shirt = store(), product("100.00")
        stock(shop, shirt, 5)
        order = collect(customer(), shop, (shirt, 1), payments=[PaymentInput("card_online", transaction_id="tx-1")])
        assert (order.paid, order.due) == (Decimal("100.00"), Decimal("0.00"))
        with pytest.raises(PaymentMismatch):
            collect(customer(), shop, (shirt, 1), payments=[PaymentInput("card_online", Decimal("50.00"))])
        with pytest.raises(InvalidInput):
            collect(customer(), shop, (shirt, 1), payments=[PaymentInput("cash")])


def test_order_numbers_have_a_prefix_per_channel():
    shop, shirt = store(), product()
    stock(shop, shirt, 10)
    numbers = [collect(customer(), shop, (shirt, 1), channel=channel).number for channel in SALES_CHANNELS]
    assert [number.split("-")[0] for number in numbers] == ["W", "A", "S", "C", "M", "N", "P"]
    assert Order.objects.filter(fulfilment=Fulfilment.CLICK_AND_COLLECT).count() == 7
    assert StatusChange.objects.count() == 7
    assert Payment.objects.count() == 0
