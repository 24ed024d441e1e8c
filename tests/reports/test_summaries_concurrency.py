"""The report summaries stay right when changes and refreshes race. PostgreSQL only."""

import pytest
from django.db.models import Sum

from omni.reports.models import CustomerSales, DailySales, SummaryChange
from omni.reports.summaries import day_of, summaries_refresh_pending
from orders.hooks import order_changed
from tests.loyalty.factories import ProgrammeFactory
from tests.orders.factories import customer, product, sell, stock, store
from tests.orders.test_concurrency import race
from tests.reports.test_summaries import assert_summaries_equal_a_rebuild

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_racing_sales_and_refreshes_count_every_order_once():
    # given: one store, so every sale lands in the same day's summary cell
    ProgrammeFactory()
    shop, shirt = store(), product("100.00")
    stock(shop, shirt, 100)
    people = [customer() for _ in range(5)]

    # when: 30 sales (each queues a refresh as it commits; Celery runs it in-process here) race
    # with 10 more refreshes, half of which wait for the lock and half give up if it is taken
    def act(i):
        if i % 4 == 3:
            return summaries_refresh_pending(wait=i % 8 == 3)
        return sell(shop, (shirt, 1), person=people[i % 5]).number

    outcomes = race(40, act)

    # then: nothing failed, and once what is left is folded in, each order is counted once
    assert [o for o in outcomes if isinstance(o, Exception)] == []
    summaries_refresh_pending()
    assert not SummaryChange.objects.exists()
    assert DailySales.objects.aggregate(n=Sum("orders"))["n"] == 30
    assert CustomerSales.objects.aggregate(n=Sum("orders"))["n"] == 30
    assert_summaries_equal_a_rebuild()


def test_racing_refreshes_of_the_same_cell_write_it_once():
    # given: ten sales at one store, whose summaries are gone and whose changes are pending
    ProgrammeFactory()
    shop, shirt = store(), product("100.00")
    stock(shop, shirt, 100)
    person = customer()
    orders = [sell(shop, (shirt, 1), person=person) for _ in range(10)]
    summaries_refresh_pending()
    DailySales.objects.all().delete()
    CustomerSales.objects.all().delete()
    for order in orders:
        order_changed(order)  # as a service does: queues a refresh, which is run here and then...
    DailySales.objects.all().delete()  # ...undone, so the racing refreshes below start from nothing
    CustomerSales.objects.all().delete()
    SummaryChange.objects.all().delete()
    day = day_of(orders[0].completed_at)
    SummaryChange.objects.bulk_create(
        [SummaryChange(day=day, location_id=shop.pk, customer_id=person.pk) for _ in range(20)]
    )

    # when: twenty refreshes race over the same cell and customer
    outcomes = race(20, lambda i: summaries_refresh_pending())

    # then: none failed, and the cell and the customer were written once (no later refresh to mend them)
    assert [o for o in outcomes if isinstance(o, Exception)] == []
    assert not SummaryChange.objects.exists()
    assert DailySales.objects.aggregate(n=Sum("orders"))["n"] == 10
    assert CustomerSales.objects.get().orders == 10
