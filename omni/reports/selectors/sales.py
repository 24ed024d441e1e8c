"""Sales: revenue, orders, units, average check and items per order, against the previous period;
the same by day, week or month, channel, store and employee; the shares of click-and-collect and
ship-to-store."""

import datetime

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _
from django.utils.translation import npgettext, pgettext

from omni.core import formats
from omni.reports.figures import Column, Figure, Table, ratio, sum_money
from omni.reports.filters import Granularity, ReportFilters
from omni.reports.selectors.common import channel_label, location_labels, report_currency
from omni.reports.selectors.cube import SalesCube, empty_cell, period_total, sales_cube
from orders.models import Fulfilment


def sales_totals(filters: ReportFilters, cube: SalesCube | None = None) -> dict:
    """Revenue, orders, units, average check and items per order."""
    total = (cube or sales_cube(filters)).total()
    return {
        "revenue": sum_money(total["revenue"]),
        "orders": total["orders"],
        "units": int(total["units"]),
        "average_check": ratio(total["revenue"], total["orders"]),
        "items_per_order": ratio(total["units"], total["orders"]),
    }


def _previous_totals(filters: ReportFilters) -> dict:
    """The previous period's totals: one query over the daily summary."""
    total = period_total(filters.previous())
    return {
        "revenue": sum_money(total["revenue"]),
        "orders": total["orders"],
        "average_check": ratio(total["revenue"], total["orders"]),
        "items_per_order": ratio(total["units"], total["orders"]),
    }


def sales_figures(filters: ReportFilters, *, compare: bool = True, cube: SalesCube | None = None) -> list[Figure]:
    now = sales_totals(filters, cube)
    before = _previous_totals(filters) if compare else {}
    currency = report_currency()
    return [
        Figure(
            "revenue",
            _("Revenue"),
            now["revenue"],
            currency,
            _(
                "What customers paid in money for orders completed in the period (collected, delivered or "
                "sold in store) less what was refunded on them."
            ),
            before.get("revenue"),
        ),
        Figure(
            "orders",
            _("Orders"),
            now["orders"],
            npgettext("unit after a count", "order", "orders", now["orders"]),
            _("Orders completed in the period."),
            before.get("orders"),
        ),
        Figure(
            "average_check",
            _("Average check"),
            now["average_check"],
            currency,
            _("Revenue ÷ orders completed in the period."),
            before.get("average_check"),
        ),
        Figure(
            "items_per_order",
            _("Items per order"),
            now["items_per_order"],
            pgettext("unit after a fractional number", "units"),
            _("Units sold (ordered − refused at handover − returned) ÷ orders completed in the period."),
            before.get("items_per_order"),
        ),
    ]


def _sales_columns(label: str) -> list[Column]:
    return [
        Column("label", label),
        Column("revenue", _("revenue"), True),
        Column("orders", _("orders"), True),
        Column("average_check", _("average check"), True),
        Column("units", _("units sold"), True),
        Column("items_per_order", _("items per order"), True),
    ]


def _sales_row(key, label, cell: dict) -> dict:
    return {
        "key": key,
        "label": label,
        "revenue": sum_money(cell["revenue"]),
        "orders": cell["orders"],
        "average_check": ratio(cell["revenue"], cell["orders"]),
        "units": int(cell["units"]),
        "items_per_order": ratio(cell["units"], cell["orders"]),
    }


def _by_revenue(rows: list[dict]) -> list[dict]:
    return sorted(rows, key=lambda row: (-row["revenue"], str(row["label"])))


def sales_by_period(filters: ReportFilters, cube: SalesCube | None = None) -> Table:
    """Revenue, orders and units per day, week or month of the period (empty buckets at zero).

    A row's ``label`` is the bucket's first day (a date in exports); ``period`` says it in words
    and ``short`` under the chart; ``first_day`` and ``last_day`` let the dashboard fold days
    without sales."""
    cube = cube or sales_cube(filters)
    cells = cube.rollup("bucket")
    rows = [
        {
            **_sales_row(day.isoformat(), day, cells.get(day, empty_cell())),
            **_period_words(day, cube.kind, spans_years=filters.date_from.year != filters.date_to.year),
        }
        for day in _buckets(filters.date_from, filters.date_to, cube.kind)
    ]
    titles = {
        Granularity.DAY: _("Sales by day"),
        Granularity.WEEK: _("Sales by week"),
        Granularity.MONTH: _("Sales by month"),
    }
    return Table(
        "sales_by_period",
        titles[cube.kind],
        _("Revenue, orders and units of the orders completed in each day, week (from Monday) or month."),
        [Column("label", _("period"), text_key="period"), *_sales_columns("")[1:]],
        rows,
        chart=("line", "short", "revenue"),
        fold_empty=True,
    )


def _period_words(day: datetime.date, kind: str, *, spans_years: bool) -> dict:
    """A bucket starting on ``day``: its last day, and how the dashboard and its chart name it."""
    if kind == Granularity.MONTH:
        last = (day.replace(day=28) + datetime.timedelta(days=4)).replace(day=1) - datetime.timedelta(days=1)
        return {
            "first_day": day,
            "last_day": last,
            "period": formats.format_month(day),
            "short": formats.format_month(day),
        }
    last = day + datetime.timedelta(days=6 if kind == Granularity.WEEK else 0)
    return {
        "first_day": day,
        "last_day": last,
        "period": formats.format_days(day, last, year=spans_years),
        "short": formats.format_day_short(day),
    }


def _buckets(date_from: datetime.date, date_to: datetime.date, kind: str) -> list[datetime.date]:
    if kind == Granularity.MONTH:
        day = date_from.replace(day=1)
    elif kind == Granularity.WEEK:
        day = date_from - datetime.timedelta(days=date_from.weekday())
    else:
        day = date_from
    result = []
    while day <= date_to:
        result.append(day)
        if kind == Granularity.MONTH:
            day = (day.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
        elif kind == Granularity.WEEK:
            day += datetime.timedelta(days=7)
        else:
            day += datetime.timedelta(days=1)
    return result


def sales_by_channel(filters: ReportFilters, cube: SalesCube | None = None) -> Table:
    cells = (cube or sales_cube(filters)).rollup("channel")
    return Table(
        "sales_by_channel",
        _("Sales by channel"),
        _("Revenue, orders and units of the orders completed in the period, by the channel they were placed through."),
        _sales_columns(_("channel")),
        _by_revenue([_sales_row(key, channel_label(key), cell) for key, cell in cells.items()]),
        chart=("bar", "label", "revenue"),
    )


def sales_by_store(filters: ReportFilters, cube: SalesCube | None = None) -> Table:
    cells = (cube or sales_cube(filters)).rollup("location")
    labels = location_labels(cells)
    return Table(
        "sales_by_store",
        _("Sales by store"),
        _(
            "Revenue, orders and units of the orders completed in the period, by the order's location: the "
            "pickup store, the store of a sale, or the location a delivery ships from."
        ),
        _sales_columns(_("store")),
        _by_revenue([_sales_row(key, labels.get(key, "—"), cell) for key, cell in cells.items()]),
        chart=("bar", "label", "revenue"),
    )


def sales_by_employee(filters: ReportFilters, cube: SalesCube | None = None) -> Table:
    cells = (cube or sales_cube(filters)).rollup("employee")
    names = dict(
        get_user_model().objects.filter(pk__in=[pk for pk in cells if pk is not None]).values_list("pk", "username")
    )
    nobody = _("no employee (placed by an integration)")
    return Table(
        "sales_by_employee",
        _("Sales by employee"),
        _(
            "Revenue, orders and units of the orders completed in the period, by the staff member who placed "
            "them (the cashier of a sale in store). Orders placed by an integration (the online shop, the "
            "app) have no employee."
        ),
        _sales_columns(_("employee")),
        _by_revenue([_sales_row(key, names.get(key, nobody), cell) for key, cell in cells.items()]),
        chart=("bar", "label", "revenue"),
    )


def fulfilment_shares(filters: ReportFilters, cube: SalesCube | None = None) -> list[Figure]:
    """Share of click-and-collect and of ship-to-store among completed orders."""
    cube = cube or sales_cube(filters)
    cells = cube.rollup("fulfilment")
    total = cube.total()["orders"]
    collect = cells.get(Fulfilment.CLICK_AND_COLLECT, empty_cell())["orders"]
    ship_to_store = cube.total()["ship_to_store"]
    return [
        Figure(
            "click_and_collect_share",
            _("Click-and-collect share"),
            ratio(collect, total, percent=True),
            "%",
            _("Click-and-collect orders completed in the period ÷ all orders completed in the period × 100 %."),
        ),
        Figure(
            "ship_to_store_share",
            _("Ship-to-store share"),
            ratio(ship_to_store, total, percent=True),
            "%",
            _(
                "Click-and-collect orders whose goods were brought to the pickup store by a transfer from "
                "another location ÷ all orders completed in the period × 100 %."
            ),
        ),
    ]
