"""Checks a flow test runs at its end: figures that must agree wherever an order is shown."""

import csv
import datetime
import io
from collections import defaultdict
from decimal import Decimal

from django.utils import timezone
from rest_framework.test import APIClient

from omni.core.services import api_key_create
from omni.reports.exports.resources import OrderLineExportResource
from orders.models import Order, OrderLine

FIGURES = ("subtotal", "discount", "points_value", "total")
ONE_DAY = datetime.timedelta(days=1)


def assert_lines_sum_to_orders() -> None:
    """Every order's lines sum to the order, figure by figure: in the database, in the API, in the
    admin list export and in the orders CSV report."""
    orders = list(Order.objects.prefetch_related("lines").order_by("pk"))
    assert orders, "no orders to check"
    for order in orders:
        for figure in FIGURES:
            lines = sum((getattr(line, figure) for line in order.lines.all()), Decimal("0.00"))
            assert lines == getattr(order, figure), (order.number, figure, lines, getattr(order, figure))

    _, raw = api_key_create(name="consistency-check", scopes=["orders:read", "reports:read"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    for order in orders:
        body = client.get(f"/api/v1/orders/{order.number}/").json()
        for figure in FIGURES:
            lines = sum((Decimal(line[figure]) for line in body["lines"]), Decimal("0.00"))
            assert lines == Decimal(body[figure]), (order.number, figure, body)

    dataset = OrderLineExportResource().export(queryset=OrderLine.objects.order_by("order_id", "id"))
    _assert_rows_add_up(list(csv.DictReader(io.StringIO(dataset.csv))))

    days = sorted(timezone.localdate(order.created_at) for order in orders)
    period = {"date_from": (days[0] - ONE_DAY).isoformat(), "date_to": (days[-1] + ONE_DAY).isoformat()}
    response = client.get("/api/v1/reports/orders.csv", period)
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert {row["order"] for row in rows} == {order.number for order in orders}
    _assert_rows_add_up(rows)


def _assert_rows_add_up(rows) -> None:
    by_order, totals = defaultdict(Decimal), {}
    for row in rows:
        by_order[row["order"]] += Decimal(row["line_total"])
        totals[row["order"]] = Decimal(row["order_total"])
    assert by_order == totals
