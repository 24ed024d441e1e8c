"""generate_load_data with tiny N: the shape is there and what it writes is consistent."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import F, Sum

from inventory.selectors import stock_discrepancies
from loyalty.models import Account, PointsEntry
from omni.reports import selectors
from omni.reports.filters import ReportFilters, default_period
from orders.models import COMPLETED_STATUSES, Order, OrderLine, OrderReturn, Refund, ReturnLine

pytestmark = pytest.mark.django_db


def generate(**options):
    err = StringIO()
    call_command(
        "generate_load_data",
        customers=options.get("customers", 60),
        orders=options.get("orders", 400),
        products=30,
        stores=3,
        days=60,
        stdout=StringIO(),
        stderr=err,
    )
    return err.getvalue()


def test_generates_a_consistent_shop_with_a_progress_bar():
    progress = generate()

    assert "orders" in progress and "100 %" in progress
    assert Order.objects.count() == 400
    assert set(Order.objects.values_list("channel", flat=True)) >= {"store", "site", "app"}
    assert set(Order.objects.values_list("fulfilment", flat=True)) == {"in_store", "click_and_collect", "delivery"}
    assert OrderReturn.objects.exists() and Account.objects.exists() and PointsEntry.objects.exists()
    # the stock ledger sums to the stock rows
    assert stock_discrepancies() == []
    # every order's money comes from its lines; refunds within what was paid
    for order in Order.objects.prefetch_related("lines"):
        kept = sum(line.unit_price * (line.quantity - line.refused_quantity) for line in order.lines.all())
        assert order.subtotal == order.total == kept
        assert order.refunded <= order.paid
        if order.status in COMPLETED_STATUSES:
            assert order.paid == order.total and order.completed_at is not None
    returned = OrderLine.objects.aggregate(n=Sum("returned_quantity"))["n"]
    assert returned == ReturnLine.objects.aggregate(n=Sum("quantity"))["n"]
    assert Refund.objects.aggregate(s=Sum("amount"))["s"] == Order.objects.aggregate(s=Sum("refunded"))["s"]
    assert not OrderLine.objects.filter(refused_quantity__gt=F("quantity") - F("returned_quantity")).exists()
    # points: every entry is an unspent earned lot, so a balance is the sum of its ledger
    assert not PointsEntry.objects.exclude(remaining=F("points")).exists()


def test_runs_twice_and_the_dashboard_reads_it():
    generate(orders=100)
    generate(orders=100)

    assert Order.objects.count() == 200
    assert stock_discrepancies() == []
    date_from, date_to = default_period()
    sections = selectors.dashboard(ReportFilters(date_from=date_from, date_to=date_to))
    revenue = sections["sales"]["figures"][0]
    assert revenue.value > 0
