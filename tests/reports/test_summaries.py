"""The report summaries follow every change to completed orders, through the services, and always
equal what a rebuild from the orders gives; the summarised figures equal those computed from the
orders."""

import datetime
from collections import defaultdict
from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models.signals import post_save
from django.utils import timezone

from customers.merge import customer_merge
from loyalty import services as loyalty
from loyalty.models import Account
from omni.core.channels import Channel
from omni.reports import selectors
from omni.reports.filters import ReportFilters
from omni.reports.models import (
    CustomerSales,
    DailyPickups,
    DailyProductSales,
    DailyReturns,
    DailySales,
    MonthlyProductSales,
    SummaryChange,
)
from omni.reports.summaries import (
    day_of,
    day_start,
    summaries_note_order,
    summaries_rebuild,
    summaries_refresh_pending,
)
from orders import services
from orders.models import COMPLETED_STATUSES, Order, OrderReturn
from orders.services import PaymentInput, ReturnLineInput
from tests.loyalty.factories import ProgrammeFactory
from tests.orders.factories import collect, customer, product, sell, stock, store

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture(autouse=True)
def programme(db):
    return ProgrammeFactory()


def snapshot() -> tuple[list, ...]:
    """Every summary row, in an order that does not depend on how the rows were written."""

    def rows(model, *fields):
        return sorted(model.objects.values_list(*fields), key=repr)

    return (
        rows(
            DailySales,
            "day",
            "channel",
            "location_id",
            "employee_id",
            "fulfilment",
            "orders",
            "customer_orders",
            "customer_revenue",
            "member_orders",
            "member_revenue",
            "ship_to_store_orders",
            "revenue",
            "units",
            "handed_over",
            "returned",
        ),
        rows(DailyProductSales, "day", "channel", "location_id", "product_id", "units", "value"),
        rows(MonthlyProductSales, "month", "product_id", "units", "value"),
        rows(
            DailyPickups, "day", "channel", "location_id", "ready", "time_to_ready", "collected", "expired", "cancelled"
        ),
        rows(DailyReturns, "day", "location_id", "order_channel", "reason", "returns", "units", "value"),
        rows(
            CustomerSales,
            "customer_id",
            "orders",
            "revenue",
            "first_completed_at",
            "last_completed_at",
            "channels",
            "joined_at",
            "last_as_guest_at",
        ),
    )


def assert_summaries_equal_a_rebuild() -> None:
    summaries_refresh_pending()
    assert not SummaryChange.objects.exists()
    kept = snapshot()
    summaries_rebuild()
    assert snapshot() == kept


def today_filters(**kwargs) -> ReportFilters:
    today = timezone.localdate()
    return ReportFilters(date_from=today - datetime.timedelta(days=29), date_to=today, **kwargs)


def test_summaries_follow_sales_handovers_returns_and_payments():
    # given
    shop, other = store(), store()
    shirt, socks = product("1000.00"), product("200.00")
    for location in (shop, other):
        stock(location, shirt, 10)
        stock(location, socks, 10)
    anna, boris = customer(), customer()

    # when: a sale, a collected order, a partial return at another store, a payment after placing
    sell(shop, (shirt, 1), (socks, 2), person=anna)
    order = collect(boris, shop, (shirt, 2), payments=[PaymentInput(method="card_online")])
    services.order_mark_ready(order=order)
    services.order_hand_over(order=order)
    services.return_accept(
        order=order, location=other, lines=[ReturnLineInput(sku=shirt.sku, quantity=1)], reason="size"
    )
    not_wanted = collect(anna, other, (socks, 1))
    services.order_mark_ready(order=not_wanted)
    services.order_cancel(order=not_wanted, reason="changed my mind")
    paid_later = collect(anna, shop, (socks, 1))
    services.payment_record(order=paid_later, payment=PaymentInput(method="card_online"))
    services.order_mark_ready(order=paid_later)
    services.order_hand_over(order=paid_later)

    # then
    assert_summaries_equal_a_rebuild()
    totals = selectors.sales_totals(today_filters())
    # 1400 + (2000 − 1000 refunded) + 200
    assert (totals["revenue"], totals["orders"], totals["units"]) == (D("2600.00"), 3, 5)
    boris_sales = CustomerSales.objects.get(customer=boris)
    assert (boris_sales.orders, boris_sales.revenue, boris_sales.channels) == (1, D("1000.00"), 1)
    products = {row["product"]: row["units"] for row in selectors.product_sales(today_filters())}
    assert products == {shirt.pk: 2, socks.pk: 3}
    pickups, by_store = selectors.click_and_collect(today_filters())
    assert {row["key"]: (row["ready"], row["collected"], row["cancelled"]) for row in by_store.rows} == {
        shop.pk: (2, 2, 0),
        other.pk: (1, 0, 1),
    }
    return_figures, return_tables = selectors.returns(today_filters())
    cross = {table.key: table for table in return_tables}["cross_channel_returns"]
    assert [(row["key"], row["returns"], row["units"], row["value"]) for row in cross.rows] == [
        (other.pk, 1, 1, D("1000.00"))
    ]


def test_a_change_is_recorded_in_the_transaction_of_the_change():
    shop, shirt = store(), product()
    stock(shop, shirt, 5)

    with transaction.atomic():
        sell(shop, (shirt, 1))
        assert SummaryChange.objects.count() == 1
        transaction.set_rollback(True)

    assert not SummaryChange.objects.exists()


def test_orders_before_joining_are_guest_orders_and_after_it_members_orders():
    # given: an order from before the customer joined (as imported history would be; a sale to an
    # identified customer opens their account as it completes, so its points are a member's)
    shop, shirt = store(), product("100.00")
    stock(shop, shirt, 5)
    person = customer()
    first = sell(shop, (shirt, 1), person=person)
    first.completed_at -= datetime.timedelta(days=10)
    first.save(update_fields=["completed_at"])
    summaries_rebuild()  # history written around the services is summed by a rebuild

    # when
    sell(shop, (shirt, 2), person=person)

    # then
    assert_summaries_equal_a_rebuild()
    summary = CustomerSales.objects.get(customer=person)
    assert summary.joined_at is not None
    assert summary.last_as_guest_at == first.completed_at
    figures = {figure.key: figure.value for figure in selectors.membership(today_filters())}
    assert figures["members_average_check"] == D("200.00")
    assert figures["non_members_average_check"] == D("100.00")
    assert figures["members_purchase_frequency"] == D("1.00")
    assert figures["non_members_purchase_frequency"] == D("1.00")
    assert figures["participation_rate"] == D("100.00")


def test_merging_customers_moves_their_history():
    shop, shirt = store(), product("100.00")
    stock(shop, shirt, 5)
    survivor, merged = customer(), customer()
    sell(shop, (shirt, 1), person=survivor)
    sell(shop, (shirt, 1), person=merged)
    summaries_refresh_pending()

    customer_merge(survivor=survivor, merged=merged)

    assert_summaries_equal_a_rebuild()
    assert CustomerSales.objects.get(customer=survivor).orders == 2
    assert not CustomerSales.objects.filter(customer=merged).exists()


def test_an_order_whose_completion_moves_to_another_day_leaves_its_old_day():
    shop, shirt = store(), product("100.00")
    stock(shop, shirt, 5)
    order = sell(shop, (shirt, 1))
    summaries_refresh_pending()
    yesterday = order.completed_at - datetime.timedelta(days=1)

    # Only a correction in the database would do this; the summaries must still follow it once
    # told of the order (as the services tell them) and of the day it left.
    old_day = day_of(order.completed_at)
    order.completed_at = yesterday
    order.save(update_fields=["completed_at"])
    summaries_note_order(order)
    SummaryChange.objects.create(day=old_day, location_id=shop.pk)

    assert_summaries_equal_a_rebuild()
    assert list(DailySales.objects.values_list("day", flat=True)) == [day_of(yesterday)]


def completed_on(order: Order, day: datetime.date) -> None:
    """Move the order's completion to noon of ``day``, and tell the summaries of both days (as a
    correction in the database would have to)."""
    old_day = day_of(order.completed_at)
    order.completed_at = day_start(day) + datetime.timedelta(hours=12)
    order.save(update_fields=["completed_at"])
    summaries_note_order(order)
    SummaryChange.objects.create(day=old_day, location_id=order.location_id)


def test_the_whole_business_s_top_products_read_whole_months_from_their_summary():
    # given sales at two stores on the last day of January, in February and on the first of March
    shop, other = store(), store()
    shirt, socks = product("1000.00"), product("200.00")
    for location in (shop, other):
        stock(location, shirt, 20)
        stock(location, socks, 20)
    sales = [
        (datetime.date(2026, 1, 31), shop, [(shirt, 1)]),
        (datetime.date(2026, 2, 1), shop, [(shirt, 2), (socks, 1)]),
        (datetime.date(2026, 2, 28), other, [(socks, 4)]),
        (datetime.date(2026, 3, 1), other, [(shirt, 3)]),
    ]
    for day, location, items in sales:
        completed_on(sell(location, *items), day)

    # when the changes are folded in
    summaries_refresh_pending()

    # then February's month sums both stores' days, and equals a rebuild
    february = MonthlyProductSales.objects.filter(month=datetime.date(2026, 2, 1))
    assert sorted(february.values_list("product_id", "units", "value")) == [
        (shirt.pk, 2, D("2000.00")),
        (socks.pk, 5, D("1000.00")),
    ]
    assert_summaries_equal_a_rebuild()
    # and every period's products, whole months or not, are the units sold in it
    for first, last in [((1, 31), (3, 1)), ((2, 1), (2, 28)), ((1, 1), (3, 31)), ((2, 2), (2, 28)), ((1, 1), (2, 1))]:
        date_from, date_to = datetime.date(2026, *first), datetime.date(2026, *last)
        expected: dict = defaultdict(int)
        for day, _location, items in sales:
            for item, units in items:
                if date_from <= day <= date_to:
                    expected[item.pk] += units
        filters = ReportFilters(date_from=date_from, date_to=date_to)
        assert {row["product"]: row["units"] for row in selectors.product_sales(filters)} == expected
    at_other = ReportFilters(date_from=datetime.date(2026, 2, 1), date_to=datetime.date(2026, 2, 28), store_id=other.pk)
    assert {row["product"]: row["units"] for row in selectors.product_sales(at_other)} == {socks.pk: 4}


@pytest.mark.parametrize("channel", ["", Channel.STORE, Channel.SITE])
def test_customer_figures_from_summaries_equal_those_from_the_orders(channel):
    # given: customers with histories over several channels, months and stores
    shops = [store(), store()]
    shirt = product("100.00")
    for shop in shops:
        stock(shop, shirt, 50)
    people = [customer() for _ in range(5)]
    loyalty.account_open(customer=people[0])
    for i, person in enumerate(people):
        for months_ago in range(i + 1):
            order = sell(shops[i % 2], (shirt, 1), person=person)
            order.completed_at -= datetime.timedelta(days=45 * months_ago)
            order.save(update_fields=["completed_at"])
        if i % 2:
            order = collect(person, shops[0], (shirt, 1), payments=[PaymentInput(method="card_online")])
            services.order_mark_ready(order=order)
            services.order_hand_over(order=order)
    summaries_refresh_pending()
    filters = today_filters(channel=channel, churn_days=60)
    assert selectors.whole_history_summarised(filters)

    # then
    # (the membership counts are among them: participants, member_buyers, guest_buyers)
    assert selectors.customer_totals_from_summaries(filters) == selectors.customer_totals_from_orders(filters)


def reference_customer_totals(filters: ReportFilters) -> dict:
    """The customer figures counted one order at a time in Python, as their definitions say."""
    orders = (
        Order.objects.filter(status__in=COMPLETED_STATUSES, customer__isnull=False, completed_at__lt=filters.end)
        .filter(filters.place(channel=False))
        .values("customer_id", "completed_at", "channel", "paid", "refunded")
    )
    histories = defaultdict(list)
    for order in orders:
        histories[order["customer_id"]].append(order)
    joined = dict(Account.objects.values_list("customer_id", "opened_at"))
    cutoff = filters.end - datetime.timedelta(days=filters.churn_days)
    figures = defaultdict(int, total_spent=D("0.00"), one_spent=D("0.00"), several_spent=D("0.00"))
    for customer_id, history in histories.items():
        spent = sum((order["paid"] - order["refunded"] for order in history), D("0.00"))
        first = min(order["completed_at"] for order in history)
        channels = "several" if len({order["channel"] for order in history}) > 1 else "one"
        period = [
            order
            for order in history
            if order["completed_at"] >= filters.start and filters.channel in ("", order["channel"])
        ]
        opened = joined.get(customer_id)
        figures["buyers"] += 1
        figures["repeaters"] += len(history) >= 2
        figures["churned"] += max(order["completed_at"] for order in history) < cutoff
        figures["total_spent"] += spent
        figures[f"{channels}_customers"] += 1
        figures[f"{channels}_orders"] += len(history)
        figures[f"{channels}_spent"] += spent
        figures["period_customers"] += bool(period)
        figures["period_orders"] += len(period)
        figures["new"] += bool(period) and first >= filters.start
        figures["returning"] += bool(period) and first < filters.start
        figures["participants"] += bool(period) and opened is not None and opened < filters.end
        figures["member_buyers"] += any(opened is not None and opened <= order["completed_at"] for order in period)
        figures["guest_buyers"] += any(opened is None or opened > order["completed_at"] for order in period)
    return dict(figures)


@pytest.mark.parametrize("place", [{}, {"channel": Channel.SITE}, {"store": 1}])
def test_customer_figures_of_an_ended_period_equal_a_count_order_by_order(place):
    # given: customers buying in two stores and two channels before, during and after the period,
    # members who joined before it, in it (between two of their orders) and after it
    shops = [store(), store()]
    shirt = product("100.00")
    for shop in shops:
        stock(shop, shirt, 100)
    now = timezone.now()
    people = [customer() for _ in range(6)]
    for i, person in enumerate(people):
        for days_ago in range(5 + 11 * i, 160, 30 + 5 * i):
            order = sell(shops[(i + days_ago) % 2], (shirt, 1 + days_ago % 2), person=person)
            order.completed_at = now - datetime.timedelta(days=days_ago)
            order.save(update_fields=["completed_at"])
        if i % 2:
            order = collect(person, shops[i % 2], (shirt, 1), payments=[PaymentInput(method="card_online")])
            services.order_mark_ready(order=order)
            services.order_hand_over(order=order)
            Order.objects.filter(pk=order.pk).update(completed_at=now - datetime.timedelta(days=40 + i))
    for person, days_ago in zip(people, (150, 45, 70, 1), strict=False):
        account, _created = loyalty.account_open(customer=person)
        Account.objects.filter(pk=account.pk).update(opened_at=now - datetime.timedelta(days=days_ago))
    newcomer = sell(shops[1], (shirt, 1), person=customer())  # the first order ever, in the period
    Order.objects.filter(pk=newcomer.pk).update(completed_at=now - datetime.timedelta(days=50))
    sell(shops[0], (shirt, 1))  # a guest's sale counts for no customer
    today = timezone.localdate()
    filters = ReportFilters(
        date_from=today - datetime.timedelta(days=90),
        date_to=today - datetime.timedelta(days=20),
        channel=place.get("channel", ""),
        store_id=shops[place["store"]].pk if "store" in place else None,
        churn_days=30,
    )
    assert not selectors.whole_history_summarised(filters)

    # then
    figures = selectors.customer_totals(filters)
    assert figures == reference_customer_totals(filters)
    assert figures["member_buyers"] and figures["guest_buyers"] and figures["returning"]
    assert figures["new"] or place  # the newcomer bought in a store, at the second shop


def test_a_period_that_has_ended_or_a_store_is_computed_from_the_orders(shop):
    # the hand-built shop of conftest.py is in March 2026: its figures come from the orders
    assert not selectors.whole_history_summarised(
        ReportFilters(date_from=shop.o1.created_at.date(), date_to=shop.o1.created_at.date())
    )
    assert not selectors.whole_history_summarised(today_filters(store_id=shop.store_a.pk))
    assert not selectors.whole_history_summarised(today_filters(location_ids=frozenset({shop.store_a.pk})))
    assert selectors.whole_history_summarised(today_filters())


def test_rebuild_command_reports(capsys):
    from django.core.management import call_command

    shop, shirt = store(), product("100.00")
    stock(shop, shirt, 5)
    sell(shop, (shirt, 1))
    DailySales.objects.all().delete()

    call_command("rebuild_report_summaries")

    assert "Report summaries rebuilt" in capsys.readouterr().out
    assert DailySales.objects.get().revenue == D("100.00")


def test_rebuild_command_refuses_a_bad_date():
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("rebuild_report_summaries", "--from", "yesterday")


def test_no_signal_keeps_the_summaries():
    # The services tell the summaries through the hooks of orders and loyalty (``ReportsConfig.ready``).
    assert not [model for model in (Order, OrderReturn, Account) if post_save.has_listeners(model)]


def test_a_change_written_around_the_services_is_not_heard():
    # given
    shop, shirt = store(), product("100.00")
    stock(shop, shirt, 5)
    order = sell(shop, (shirt, 1))
    summaries_refresh_pending()

    # when: a queryset update, as an import or a correction in the database would write
    Order.objects.filter(pk=order.pk).update(paid=0)

    # then: nothing is recorded; the services are the only writers, and a rebuild
    # (``manage.py rebuild_report_summaries``) sums what was written around them
    assert not SummaryChange.objects.exists()
    assert DailySales.objects.get().revenue == D("100.00")
    summaries_rebuild()
    assert DailySales.objects.get().revenue == D("0.00")
