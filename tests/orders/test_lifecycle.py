"""The state machine, cancelling, expiry and handover with partial acceptance."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from inventory.models import Stock, Transfer, TransferStatus
from inventory.selectors import stock_discrepancies
from inventory.services import transfer_receive, transfer_ship
from loyalty import selectors as loyalty_selectors
from loyalty.models import PromoCode, PromoUsage, PromoUsageStatus
from loyalty.selectors import points_discrepancies
from omni.core.errors import InvalidInput
from orders import services, states
from orders.errors import InvalidTransition, PaymentMismatch
from orders.models import (
    Fulfilment,
    OrderAllocation,
    OrderStatus,
    PaymentMethod,
    Refund,
    RefundStatus,
)
from orders.services import PaymentInput
from tests.loyalty.factories import PromoCodeFactory
from tests.orders.factories import cash, collect, customer, deliver, points_for, product, sell, stock, store, warehouse

pytestmark = pytest.mark.django_db


def figures(location, item):
    row = Stock.objects.get(location=location, product=item)
    return row.on_hand, row.reserved


@pytest.fixture
def shop_with_stock():
    shop, shirt, socks = store(), product("1000.00"), product("500.00")
    stock(shop, shirt, 10)
    stock(shop, socks, 10)
    return shop, shirt, socks


class TestStateMachine:
    def test_click_and_collect_path(self, shop_with_stock):
        shop, shirt, _socks = shop_with_stock
        order = collect(customer(), shop, (shirt, 1))

        services.order_mark_ready(order=order)
        order.refresh_from_db()
        assert order.status == OrderStatus.READY_FOR_PICKUP
        assert order.pickup_until - order.ready_at == datetime.timedelta(days=3)

        services.order_hand_over(order=order, payments=cash())
        order.refresh_from_db()
        assert order.status == OrderStatus.COLLECTED
        assert list(order.history.values_list("status_to", flat=True)) == ["placed", "ready_for_pickup", "collected"]

    def test_delivery_path(self):
        depot, shirt = warehouse(), product("1000.00")
        stock(depot, shirt, 5)
        order = deliver(customer(), (shirt, 1))

        services.order_pack(order=order)
        services.order_ship(order=order)
        services.order_hand_over(order=order, payments=[PaymentInput("courier_card")])

        order.refresh_from_db()
        assert order.status == OrderStatus.DELIVERED
        assert order.packed_at and order.shipped_at and order.completed_at
        assert figures(depot, shirt) == (4, 0)
        assert "order_shipped" in set(order.customer.messages.values_list("kind", flat=True))

    @pytest.mark.parametrize(
        ("fulfilment", "status", "action"),
        [
            ("click_and_collect", "placed", "hand_over"),
            ("click_and_collect", "placed", "ship"),
            ("click_and_collect", "awaiting_transfer", "ready"),
            ("click_and_collect", "awaiting_decision", "ready"),
            ("click_and_collect", "awaiting_decision", "hand_over"),
            ("click_and_collect", "ready_for_pickup", "accept_partial"),
            ("click_and_collect", "collected", "cancel"),
            ("click_and_collect", "cancelled", "ready"),
            ("click_and_collect", "expired", "hand_over"),
            ("delivery", "placed", "ship"),
            ("delivery", "placed", "hand_over"),
            ("delivery", "packed", "ready"),
            ("delivery", "delivered", "cancel"),
            ("delivery", "placed", "expire"),
            ("in_store", "sold", "cancel"),
        ],
    )
    def test_forbidden_transitions_name_the_current_status(self, fulfilment, status, action):
        order = type("O", (), {"number": "W-1", "fulfilment": fulfilment, "status": status})()
        with pytest.raises(InvalidTransition) as error:
            states.next_status(order, action)
        assert error.value.status == 409
        assert error.value.details["status"] == status
        assert str(OrderStatus(status).label) in str(error.value.message)

    def test_every_allowed_transition(self):
        expected = {
            ("click_and_collect", "placed"): {"await_transfer", "ready", "cancel"},
            ("click_and_collect", "awaiting_transfer"): {"transfer_arrived", "await_decision", "cancel"},
            ("click_and_collect", "awaiting_decision"): {"accept_partial", "cancel", "expire"},
            ("click_and_collect", "ready_for_pickup"): {"hand_over", "cancel", "expire"},
            ("delivery", "placed"): {"pack", "cancel"},
            ("delivery", "packed"): {"ship", "cancel"},
            ("delivery", "shipped"): {"hand_over", "cancel"},
        }
        for (fulfilment, status), actions in expected.items():
            order = type("O", (), {"fulfilment": fulfilment, "status": status})()
            assert set(states.allowed_actions(order)) == actions
        for status in ("collected", "delivered", "sold", "cancelled", "expired"):
            for fulfilment in Fulfilment.values:
                order = type("O", (), {"fulfilment": fulfilment, "status": status})()
                assert states.allowed_actions(order) == []

    def test_a_forbidden_action_on_a_real_order_changes_nothing(self, shop_with_stock):
        shop, shirt, _socks = shop_with_stock
        order = collect(customer(), shop, (shirt, 1))
        with pytest.raises(InvalidTransition):
            services.order_hand_over(order=order, payments=cash())
        with pytest.raises(InvalidTransition):
            services.order_ship(order=order)
        order.refresh_from_db()
        assert order.status == OrderStatus.PLACED
        assert figures(shop, shirt) == (10, 1)


class TestCancel:
    def test_releases_stock_points_promo_and_the_transfer_and_refunds_payment(self):
        # given: part at the store, part coming from the warehouse, promo, points, prepaid
        shop, depot, shirt = store(), warehouse(), product("1000.00")
        stock(shop, shirt, 1)
        stock(depot, shirt, 5)
        person = customer()
        account = points_for(person, 300)
        PromoCodeFactory(code="FIVE", kind="percent", value=Decimal("5"), max_uses=1)
        order = collect(
            person,
            shop,
            (shirt, 2),
            promo_code="FIVE",
            points=100,
            payments=[PaymentInput("card_online", transaction_id="tx")],
        )
        assert order.status == OrderStatus.AWAITING_TRANSFER
        assert loyalty_selectors.balance(account).available == 200

        # when
        services.order_cancel(order=order, reason="Changed my mind")

        # then
        order.refresh_from_db()
        assert order.status == OrderStatus.CANCELLED
        assert order.cancel_reason == "Changed my mind"
        assert figures(shop, shirt) == (1, 0)
        assert figures(depot, shirt) == (5, 0)
        assert Transfer.objects.get(cause_id=order.number).status == TransferStatus.CANCELLED
        assert loyalty_selectors.balance(account).available == 300
        assert PromoUsage.objects.get(reference=order.number).status == PromoUsageStatus.RELEASED
        assert PromoCode.objects.get(code="FIVE").used_count == 0
        refund = Refund.objects.get(order=order)
        assert (refund.method, refund.amount, refund.status) == ("card_online", order.paid, RefundStatus.PENDING)
        assert order.refunded == order.paid == Decimal("1800.00")
        assert "order_cancelled" in set(person.messages.values_list("kind", flat=True))
        assert stock_discrepancies() == []
        assert points_discrepancies() == []

    def test_goods_in_transit_are_released_when_they_arrive(self):
        shop, depot, shirt = store(), warehouse(), product()
        stock(depot, shirt, 5)
        order = collect(customer(), shop, (shirt, 2))
        transfer = Transfer.objects.get(cause_id=order.number)
        transfer_ship(transfer=transfer)

        services.order_cancel(order=order)
        transfer_receive(transfer=transfer)

        assert figures(shop, shirt) == (2, 0)
        assert figures(depot, shirt) == (3, 0)
        assert not OrderAllocation.objects.filter(pending=True).exists()
        assert stock_discrepancies() == []

    def test_a_shipped_delivery_can_still_be_cancelled(self):
        depot, shirt = warehouse(), product()
        stock(depot, shirt, 5)
        order = deliver(customer(), (shirt, 2))
        services.order_pack(order=order)
        services.order_ship(order=order)

        services.order_cancel(order=order)

        assert figures(depot, shirt) == (5, 0)

    def test_twice_is_refused(self, shop_with_stock):
        shop, shirt, _socks = shop_with_stock
        order = collect(customer(), shop, (shirt, 1))
        services.order_cancel(order=order)
        with pytest.raises(InvalidTransition) as error:
            services.order_cancel(order=order)
        assert error.value.details["status"] == "cancelled"
        assert figures(shop, shirt) == (10, 0)


class TestExpiry:
    def test_an_order_not_collected_in_time_expires(self, shop_with_stock):
        shop, shirt, _socks = shop_with_stock
        person = customer()
        account = points_for(person, 500)
        order = collect(person, shop, (shirt, 1), points=100)
        services.order_mark_ready(order=order)
        order.refresh_from_db()

        with pytest.raises(InvalidTransition):
            services.order_expire(order=order)

        services.order_expire(order=order, now=order.pickup_until + datetime.timedelta(minutes=1))

        order.refresh_from_db()
        assert order.status == OrderStatus.EXPIRED
        assert figures(shop, shirt) == (10, 0)
        assert loyalty_selectors.balance(account).available == 500
        assert "order_expired" in set(person.messages.values_list("kind", flat=True))


class TestHandover:
    def test_partial_acceptance_releases_the_refused_and_recomputes_everything(self):
        # given: three shirts, 100 points spent, to pay at the counter
        shop, shirt = store(), product("1000.00")
        stock(shop, shirt, 5)
        person = customer()
        account = points_for(person, 300)
        order = collect(person, shop, (shirt, 3), points=300)
        services.order_mark_ready(order=order)
        assert order.total == Decimal("2700.00")

        # when: the customer keeps two
        with pytest.raises(PaymentMismatch):
            services.order_hand_over(order=order, refused={shirt.sku: 1}, payments=cash("2700.00"))
        services.order_hand_over(order=order, refused={shirt.sku: 1}, payments=cash())

        # then
        order.refresh_from_db()
        line = order.lines.get()
        assert (line.refused_quantity, line.kept_quantity) == (1, 2)
        # the line shows what was kept, and apart what was refused: it still sums to the order
        assert (line.subtotal, line.points, line.points_value, line.total) == (
            Decimal("2000.00"),
            200,
            Decimal("200.00"),
            Decimal("1800.00"),
        )
        assert (line.refused_subtotal, line.refused_points, line.refused_points_value, line.refused_total) == (
            Decimal("1000.00"),
            100,
            Decimal("100.00"),
            Decimal("900.00"),
        )
        assert (order.subtotal, order.points_value, order.total, order.paid) == (
            Decimal("2000.00"),
            Decimal("200.00"),
            Decimal("1800.00"),
            Decimal("1800.00"),
        )
        assert figures(shop, shirt) == (3, 0)  # one back on the shelf, two sold
        balance = loyalty_selectors.balance(account)
        assert balance.available == 100  # the points of the refused shirt came back
        assert order.points_earned == 90  # 5 % of the 1800.00 paid in money
        assert balance.pending == 90
        assert stock_discrepancies() == []
        assert points_discrepancies() == []

    def test_refusal_of_a_prepaid_delivery_refunds_the_refused_part(self):
        depot, shirt, socks = warehouse(), product("1000.00"), product("500.00")
        stock(depot, shirt, 5)
        stock(depot, socks, 5)
        order = deliver(customer(), (shirt, 1), (socks, 2), payments=[PaymentInput("card_online", transaction_id="t")])
        services.order_pack(order=order)
        services.order_ship(order=order)

        services.order_hand_over(order=order, refused={socks.sku: 1})

        order.refresh_from_db()
        assert (order.total, order.paid, order.refunded) == (Decimal("1500.00"), Decimal("2000.00"), Decimal("500.00"))
        refund = order.refunds.get()
        assert (refund.method, refund.amount) == (PaymentMethod.CARD_ONLINE, Decimal("500.00"))
        assert figures(depot, socks) == (4, 0)

    def test_everything_refused_is_a_cancellation(self, shop_with_stock):
        shop, shirt, _socks = shop_with_stock
        order = collect(customer(), shop, (shirt, 2))
        services.order_mark_ready(order=order)
        with pytest.raises(InvalidInput):
            services.order_hand_over(order=order, refused={shirt.sku: 2})

    def test_refusing_what_is_not_on_the_order_or_more_than_ordered(self, shop_with_stock):
        shop, shirt, socks = shop_with_stock
        order = collect(customer(), shop, (shirt, 2))
        services.order_mark_ready(order=order)
        with pytest.raises(InvalidInput):
            services.order_hand_over(order=order, refused={socks.sku: 1}, payments=cash())
        with pytest.raises(InvalidInput):
            services.order_hand_over(order=order, refused={shirt.sku: 3}, payments=cash())
        order.refresh_from_db()
        assert order.status == OrderStatus.READY_FOR_PICKUP

    def test_store_payment_methods_only_at_the_counter(self, shop_with_stock):
        shop, shirt, _socks = shop_with_stock
        order = collect(customer(), shop, (shirt, 1))
        services.order_mark_ready(order=order)
        with pytest.raises(InvalidInput):
            services.order_hand_over(order=order, payments=[PaymentInput("courier_cash")])


def test_reminder_is_sent_once(shop_with_stock):
    shop, shirt, _socks = shop_with_stock
    order = collect(customer(), shop, (shirt, 1))
    services.order_mark_ready(order=order)
    assert services.order_remind_pickup(order=order) is True
    assert services.order_remind_pickup(order=order) is False
    order.refresh_from_db()
    assert order.reminded_at is not None
    assert list(order.customer.messages.filter(kind="order_pickup_reminder").values_list("kind", flat=True)) == [
        "order_pickup_reminder"
    ]


def test_a_sale_in_store_earns_points_pending_until_the_return_window(shop_with_stock):
    shop, shirt, _socks = shop_with_stock
    person = customer()
    order = sell(shop, (shirt, 1), person=person)
    account = loyalty_selectors.account_of(person)
    assert loyalty_selectors.balance(account).pending == order.points_earned == 50
    later = timezone.now() + datetime.timedelta(days=15)
    assert loyalty_selectors.balance(account, now=later).available == 50
