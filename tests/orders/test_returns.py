"""Returns at any location that accepts them, and refunds of what was actually paid."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inventory.models import MovementReason, Stock, StockMovement
from inventory.selectors import stock_discrepancies
from loyalty import selectors as loyalty_selectors
from loyalty import services as loyalty
from loyalty.selectors import points_discrepancies
from omni.core.actors import Actor
from omni.core.models import NumberSequence
from omni.core.roles import STORE_MANAGER, STORE_STAFF
from orders import services
from orders.errors import (
    InvalidReturn,
    InvalidTransition,
    RefundToPointsNotAllowed,
    ReturnExceedsPurchase,
    ReturnsNotAccepted,
    ReturnWindowClosed,
)
from orders.models import OrderReturn, PaymentMethod, RefundStatus
from orders.services import PaymentInput, ReturnLineInput
from tests.inventory.factories import EmployeeFactory
from tests.orders.factories import cash, collect, customer, points_for, product, sell, stock, store

pytestmark = pytest.mark.django_db


def figures(location, item):
    row = Stock.objects.get(location=location, product=item)
    return row.on_hand, row.reserved


def collected(person, shop, *items, **kwargs):
    order = collect(person, shop, *items, **kwargs)
    services.order_mark_ready(order=order)
    services.order_hand_over(order=order, payments=cash())
    order.refresh_from_db()
    return order


def give_back(order, location, *items, **kwargs):
    return services.return_accept(
        order=order,
        location=location,
        lines=[ReturnLineInput(item.sku, quantity, condition) for item, quantity, condition in items],
        reason=kwargs.pop("reason", "Does not fit"),
        **kwargs,
    )


@pytest.fixture
def setting():
    shop, other, shirt, socks = store(), store(), product("1000.00"), product("500.00")
    stock(shop, shirt, 10)
    stock(shop, socks, 10)
    return shop, other, shirt, socks


class TestReturn:
    def test_resellable_goods_go_back_on_hand_where_returned(self, setting):
        shop, other, shirt, socks = setting
        order = collected(customer(), shop, (shirt, 2), (socks, 1))

        result = give_back(order, other, (shirt, 1, "resellable"))

        assert result.number.startswith("R-")
        assert figures(other, shirt) == (1, 0)
        assert figures(shop, shirt) == (8, 0)
        assert (result.amount, result.paid_amount, result.refund_amount) == (
            Decimal("1000.00"),
            Decimal("1000.00"),
            Decimal("1000.00"),
        )
        refund = result.refunds.get()
        assert (refund.method, refund.amount, refund.status) == ("cash", Decimal("1000.00"), RefundStatus.DONE)
        order.refresh_from_db()
        assert order.refunded == Decimal("1000.00")
        assert order.lines.get(sku=shirt.sku).returned_quantity == 1
        assert order.customer.interactions.filter(kind="return", subject_id=order.number).exists()
        assert order.customer.messages.filter(kind="refund_made").exists()

    def test_faulty_goods_are_returned_and_written_off(self, setting):
        shop, other, shirt, _socks = setting
        order = collected(customer(), shop, (shirt, 1))

        result = give_back(order, other, (shirt, 1, "faulty"))

        assert figures(other, shirt) == (0, 0)
        reasons = list(
            StockMovement.objects.filter(location=other, product=shirt)
            .order_by("id")
            .values_list("reason", "on_hand_delta")
        )
        assert reasons == [(MovementReason.RETURN, 1), (MovementReason.WRITE_OFF, -1)]
        assert result.refund_amount == Decimal("1000.00")
        assert stock_discrepancies() == []

    def test_over_return_is_refused(self, setting):
        shop, other, shirt, _socks = setting
        order = collected(customer(), shop, (shirt, 2))
        give_back(order, other, (shirt, 1, "resellable"))

        with pytest.raises(ReturnExceedsPurchase) as error:
            give_back(order, other, (shirt, 2, "resellable"))

        assert error.value.details["lines"] == [{"sku": shirt.sku, "requested": 2, "returnable": 1}]
        assert OrderReturn.objects.count() == 1
        assert figures(other, shirt) == (1, 0)

    def test_refused_units_cannot_be_returned(self, setting):
        shop, other, shirt, _socks = setting
        order = collect(customer(), shop, (shirt, 2))
        services.order_mark_ready(order=order)
        services.order_hand_over(order=order, refused={shirt.sku: 1}, payments=cash())
        with pytest.raises(ReturnExceedsPurchase):
            give_back(order, other, (shirt, 2, "resellable"))

    def test_refund_is_what_was_paid_after_discount_and_points(self, setting):
        # given: 2 shirts, 10 % promo, 300 points: paid 1500 in money
        from tests.loyalty.factories import PromoCodeFactory

        shop, other, shirt, _socks = setting
        person = customer()
        account = points_for(person, 300)
        PromoCodeFactory(code="TEN", kind="percent", value=Decimal("10"))
        order = collected(person, shop, (shirt, 2), promo_code="TEN", points=300)
        assert (order.total, order.paid) == (Decimal("1500.00"), Decimal("1500.00"))

        # when one shirt comes back
        result = give_back(order, other, (shirt, 1, "resellable"))

        # then: its share of the money, and its share of the points back
        assert result.refund_amount == Decimal("750.00")
        assert result.points_given_back == 150
        assert result.points_reversed == 37  # half of the 75 pending points earned on 1500
        now = timezone.now()
        assert loyalty_selectors.balance(account, now=now).available == 150
        assert loyalty_selectors.balance(account, now=now).pending == 38

        # and the rest
        last = give_back(order, other, (shirt, 1, "resellable"))
        order.refresh_from_db()
        assert last.refund_amount == Decimal("750.00")
        assert order.refunded == order.paid
        assert loyalty_selectors.balance(account).available == 300
        assert loyalty_selectors.balance(account).pending == 0
        assert points_discrepancies() == []

    def test_a_points_shortfall_is_deducted_from_the_refund(self, setting, programme):
        # given: points held a day only; a sale earned 100, they became spendable and were spent
        programme.holding_days = 1
        programme.save()
        shop, other, shirt, _socks = setting
        expensive = product("2000.00")
        stock(shop, expensive, 1)
        person = customer()
        order = sell(shop, (expensive, 1), person=person)
        assert order.points_earned == 100
        later = timezone.now() + datetime.timedelta(days=1)
        loyalty.points_redeem(
            customer=person,
            points=100,
            reference="OTHER-1",
            lines=[loyalty.CartLine(None, None, 1, Decimal("1000.00"))],
            channel="site",
            now=later + datetime.timedelta(days=2),
        )

        # when
        result = give_back(order, other, (expensive, 1, "resellable"), now=later + datetime.timedelta(days=2))

        # then
        assert (result.shortfall_points, result.shortfall_value) == (100, Decimal("100.00"))
        assert result.refund_amount == Decimal("1900.00")
        assert points_discrepancies() == []

    def test_refund_to_points(self, setting, settings):
        shop, other, shirt, _socks = setting
        person = customer()
        order = collected(person, shop, (shirt, 1))

        result = give_back(order, other, (shirt, 1, "resellable"), refund_method="points")

        assert (result.refund_amount, result.refund_points) == (Decimal("1000.00"), 1000)
        refund = result.refunds.get()
        assert (refund.method, refund.points, refund.status) == (PaymentMethod.POINTS, 1000, RefundStatus.DONE)
        account = loyalty_selectors.account_of(person)
        assert loyalty_selectors.balance(account).available == 1000

    def test_refund_to_points_can_be_switched_off(self, setting, settings):
        settings.ORDERS_REFUND_TO_POINTS = False
        shop, other, shirt, _socks = setting
        order = collected(customer(), shop, (shirt, 1))
        with pytest.raises(RefundToPointsNotAllowed):
            give_back(order, other, (shirt, 1, "resellable"), refund_method="points")

    def test_anonymous_sale_cannot_be_refunded_to_points(self, setting):
        shop, other, shirt, _socks = setting
        order = sell(shop, (shirt, 1))
        with pytest.raises(RefundToPointsNotAllowed):
            give_back(order, other, (shirt, 1, "resellable"), refund_method="points")
        result = give_back(order, other, (shirt, 1, "resellable"))
        assert result.refund_amount == Decimal("1000.00")

    def test_refund_to_the_original_payments_in_proportion(self, setting):
        shop, other, shirt, _socks = setting
        order = sell(shop, (shirt, 2), payments=[PaymentInput("cash", Decimal("500.00")), PaymentInput("sbp")])

        result = give_back(order, other, (shirt, 1, "resellable"))

        assert sorted(result.refunds.values_list("method", "amount")) == [
            ("cash", Decimal("250.00")),
            ("sbp", Decimal("750.00")),
        ]


class TestRules:
    def test_only_completed_orders(self, setting):
        shop, other, shirt, _socks = setting
        order = collect(customer(), shop, (shirt, 1))
        with pytest.raises(InvalidTransition):
            give_back(order, other, (shirt, 1, "resellable"))

    def test_only_at_a_location_that_accepts_returns(self, setting):
        shop, _other, shirt, _socks = setting
        order = collected(customer(), shop, (shirt, 1))
        with pytest.raises(ReturnsNotAccepted):
            give_back(order, store(accepts_returns=False), (shirt, 1, "resellable"))

    def test_a_reason_and_known_lines(self, setting):
        shop, other, shirt, socks = setting
        order = collected(customer(), shop, (shirt, 1))
        with pytest.raises(InvalidReturn):
            give_back(order, other, (shirt, 1, "resellable"), reason=" ")
        with pytest.raises(InvalidReturn):
            give_back(order, other, (socks, 1, "resellable"))

    def test_windows(self, setting):
        shop, other, shirt, _socks = setting
        distance = collected(customer(), shop, (shirt, 1))
        in_store = sell(shop, (shirt, 1), person=customer())
        after_ten_days = timezone.now() + datetime.timedelta(days=10)

        with pytest.raises(ReturnWindowClosed) as error:
            give_back(distance, other, (shirt, 1, "resellable"), now=after_ten_days)
        assert error.value.details["days"] == 7
        assert give_back(in_store, other, (shirt, 1, "resellable"), now=after_ten_days).late_accepted is False

    def test_a_store_manager_may_accept_a_late_faulty_return(self, setting):
        shop, other, shirt, _socks = setting
        order = collected(customer(), shop, (shirt, 2))
        late = timezone.now() + datetime.timedelta(days=30)
        staff = EmployeeFactory(locations=[other]).user
        staff.groups.add(Group.objects.get(name=STORE_STAFF))
        manager = EmployeeFactory(locations=[other]).user
        manager.groups.add(Group.objects.get(name=STORE_MANAGER))

        with pytest.raises(ReturnWindowClosed):
            give_back(order, other, (shirt, 1, "faulty"), now=late, accept_late=True, actor=Actor(user=staff))
        with pytest.raises(ReturnWindowClosed):
            give_back(order, other, (shirt, 1, "resellable"), now=late, accept_late=True, actor=Actor(user=manager))

        result = give_back(order, other, (shirt, 1, "faulty"), now=late, accept_late=True, actor=Actor(user=manager))

        assert result.late_accepted is True
        assert result.created_by == manager


def test_preview_computes_the_same_figures_and_changes_nothing(setting):
    shop, other, shirt, _socks = setting
    person = customer()
    points_for(person, 300)
    order = collected(person, shop, (shirt, 2), points=200)

    preview = services.return_preview(
        order=order, location=other, lines=[ReturnLineInput(shirt.sku, 1)], reason="Too small"
    )

    assert OrderReturn.objects.count() == 0
    assert figures(other, shirt) == (0, 0) if Stock.objects.filter(location=other, product=shirt).exists() else True
    result = give_back(order, other, (shirt, 1, "resellable"))
    assert (preview.refund_amount, preview.points_given_back) == (result.refund_amount, result.points_given_back)
    assert preview.refunds == [(r.method, r.amount, r.points) for r in result.refunds.all()]


def accepted_figures(order_return):
    return (
        order_return.amount,
        order_return.paid_amount,
        order_return.shortfall_points,
        order_return.shortfall_value,
        order_return.refund_amount,
        order_return.refund_points,
        order_return.points_reversed,
        order_return.points_given_back,
        order_return.late_accepted,
        [(r.method, r.amount, r.points) for r in order_return.refunds.all()],
    )


def previewed_figures(preview):
    return (
        preview.amount,
        preview.paid_amount,
        preview.shortfall_points,
        preview.shortfall_value,
        preview.refund_amount,
        preview.refund_points,
        preview.points_reversed,
        preview.points_given_back,
        preview.late,
        preview.refunds,
    )


class TestPreview:
    def test_it_takes_no_lock_no_number_and_writes_nothing(self, setting):
        # given: an order with points spent and earned, one shirt of two already returned
        shop, other, shirt, _socks = setting
        person = customer()
        points_for(person, 300)
        order = collected(person, shop, (shirt, 3), points=200)
        first = give_back(order, other, (shirt, 1, "resellable"))
        sequences = list(NumberSequence.objects.values_list("name", "last_value"))
        stock_rows = list(Stock.objects.values_list("pk", "on_hand", "reserved"))

        # when
        with CaptureQueriesContext(connection) as queries:
            services.return_preview(
                order=order, location=other, lines=[ReturnLineInput(shirt.sku, 1)], reason="Too small"
            )

        # then: reads only
        sql = [query["sql"].upper() for query in queries.captured_queries]
        assert not [q for q in sql if "FOR UPDATE" in q or "NEXTVAL" in q]
        assert not [q for q in sql if q.startswith(("INSERT", "UPDATE", "DELETE", "SAVEPOINT"))]
        assert list(NumberSequence.objects.values_list("name", "last_value")) == sequences
        assert list(Stock.objects.values_list("pk", "on_hand", "reserved")) == stock_rows
        # and the next return takes the number right after the first one
        second = give_back(order, other, (shirt, 1, "resellable"))
        assert int(second.number.removeprefix("R-")) == int(first.number.removeprefix("R-")) + 1

    def test_it_shows_what_the_return_then_does(self, setting):
        shop, other, shirt, socks = setting
        person = customer()
        points_for(person, 300)
        order = collected(person, shop, (shirt, 3), (socks, 1), points=250)
        give_back(order, other, (shirt, 1, "resellable"))
        asked = {
            "order": order,
            "location": other,
            "lines": [
                ReturnLineInput(shirt.sku, 1),
                ReturnLineInput(socks.sku, 1),
                ReturnLineInput(shirt.sku, 1, "faulty"),
            ],
            "reason": "Too small",
        }

        preview = services.return_preview(**asked)

        assert previewed_figures(preview) == accepted_figures(services.return_accept(**asked))

    def test_it_shows_the_shortfall_and_a_refund_to_points(self, setting, programme):
        # given: the 100 points earned on a sale were spent elsewhere
        programme.holding_days = 1
        programme.save()
        shop, other, _shirt, _socks = setting
        expensive = product("2000.00")
        stock(shop, expensive, 1)
        person = customer()
        order = sell(shop, (expensive, 1), person=person)
        later = timezone.now() + datetime.timedelta(days=3)
        loyalty.points_redeem(
            customer=person,
            points=100,
            reference="OTHER-1",
            lines=[loyalty.CartLine(None, None, 1, Decimal("1000.00"))],
            channel="site",
            now=later,
        )
        asked = {
            "order": order,
            "location": other,
            "lines": [ReturnLineInput(expensive.sku, 1)],
            "reason": "Broken",
            "refund_method": "points",
            "now": later,
        }

        preview = services.return_preview(**asked)

        assert (preview.shortfall_points, preview.refund_amount, preview.refund_points) == (
            100,
            Decimal("1900.00"),
            1900,
        )
        assert previewed_figures(preview) == accepted_figures(services.return_accept(**asked))

    def test_it_refuses_what_the_return_refuses(self, setting):
        shop, other, shirt, _socks = setting
        order = collected(customer(), shop, (shirt, 1))

        with pytest.raises(ReturnExceedsPurchase):
            services.return_preview(order=order, location=other, lines=[ReturnLineInput(shirt.sku, 2)], reason="x")
        with pytest.raises(RefundToPointsNotAllowed):
            services.return_preview(
                order=sell(shop, (shirt, 1)),
                location=other,
                lines=[ReturnLineInput(shirt.sku, 1)],
                reason="x",
                refund_method="points",
            )
