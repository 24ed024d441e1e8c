"""The whole dashboard: every section in the order the page shows them, in one read-only
transaction, kept in the cache for a while; and every table by its key for exports."""

import datetime
import hashlib
from collections import OrderedDict
from contextlib import contextmanager

from django.conf import settings
from django.core.cache import cache
from django.db import connections, transaction
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from omni.core.db import reporting_alias, reporting_reads
from omni.reports.figures import Column, Table
from omni.reports.filters import ReportFilters
from omni.reports.selectors.cube import sales_cube
from omni.reports.selectors.customers import customer_figures, customer_totals
from omni.reports.selectors.loyalty_figures import loyalty
from omni.reports.selectors.nps import nps
from omni.reports.selectors.pickups import click_and_collect
from omni.reports.selectors.products import product_sales, top_categories, top_products
from omni.reports.selectors.return_rates import returns
from omni.reports.selectors.sales import (
    fulfilment_shares,
    sales_by_channel,
    sales_by_employee,
    sales_by_period,
    sales_by_store,
    sales_figures,
)
from omni.reports.selectors.stock_now import stock
from omni.reports.summaries import summaries_refresh_pending


@contextmanager
def report_session():
    """Run report queries in one read-only transaction on the database they read from (the
    replica inside ``reporting_reads()``); on PostgreSQL with room to hash in memory
    (``REPORTS_DB_WORK_MEM``), preferring hash aggregation to sorts, and without JIT compilation,
    which costs more than it saves on these aggregate queries."""
    alias = reporting_alias()
    with transaction.atomic(using=alias):
        if connections[alias].vendor == "postgresql":
            with connections[alias].cursor() as cursor:
                cursor.execute("SELECT set_config('work_mem', %s, true)", [settings.REPORTS_DB_WORK_MEM])
                cursor.execute("SELECT set_config('jit', 'off', true)")
                cursor.execute("SET TRANSACTION READ ONLY")
        yield


def dashboard(filters: ReportFilters) -> "OrderedDict[str, dict]":
    """Every section, in the order the dashboard shows them, after folding any pending change to
    completed orders into the summaries (``omni.reports.summaries``, on the primary), read from
    the replica when there is one (``omni.core.db.reporting_reads``)."""
    summaries_refresh_pending()
    with reporting_reads(), report_session():
        return _dashboard(filters)


def dashboard_cached(
    filters: ReportFilters, *, refresh: bool = False
) -> tuple["OrderedDict[str, dict]", datetime.datetime]:
    """The dashboard and when it was computed, kept ``REPORTS_CACHE_SECONDS`` in the cache per
    filters, locations and language (0 turns the cache off); ``refresh`` computes it again."""
    seconds = settings.REPORTS_CACHE_SECONDS
    key_source = repr(
        (
            filters.date_from,
            filters.date_to,
            filters.channel,
            filters.store_id,
            filters.city,
            sorted(filters.location_ids) if filters.location_ids is not None else None,
            filters.bucket,
            filters.churn_days,
            get_language(),
        )
    )
    key = "reports:dashboard:" + hashlib.sha256(key_source.encode()).hexdigest()
    if seconds > 0 and not refresh:
        found = cache.get(key)
        if found is not None:
            return found
    result = (dashboard(filters), timezone.now())
    if seconds > 0:
        cache.set(key, result, seconds)
    return result


def dashboard_kept_until(computed_at: datetime.datetime) -> datetime.datetime | None:
    """Until when a dashboard computed at ``computed_at`` is shown from the cache (None: not kept)."""
    seconds = settings.REPORTS_CACHE_SECONDS
    return computed_at + datetime.timedelta(seconds=seconds) if seconds > 0 else None


def _dashboard(filters: ReportFilters) -> "OrderedDict[str, dict]":
    cube = sales_cube(filters)
    sales = product_sales(filters)
    customer_sums = customer_totals(filters)  # one pass for the customer and the membership figures
    customers, omnichannel = customer_figures(filters, customer_sums)
    collect_figures, collect_table = click_and_collect(filters)
    return_figures, return_tables = returns(filters, cube)
    loyalty_figures, loyalty_note = loyalty(filters, customer_sums)
    stock_figures, stock_tables = stock(filters)
    nps_figures, nps_tables = nps(filters)
    return OrderedDict(
        [
            (
                "sales",
                {
                    "title": _("Sales"),
                    "figures": [*sales_figures(filters, cube=cube), *fulfilment_shares(filters, cube)],
                    "tables": [
                        sales_by_period(filters, cube),
                        sales_by_channel(filters, cube),
                        sales_by_store(filters, cube),
                        sales_by_employee(filters, cube),
                        top_products(filters, sales=sales),
                        top_categories(filters, sales=sales),
                    ],
                },
            ),
            ("customers", {"title": _("Customers"), "figures": customers, "tables": [omnichannel]}),
            (
                "click_and_collect",
                {"title": _("Click-and-collect"), "figures": collect_figures, "tables": [collect_table]},
            ),
            ("returns", {"title": _("Returns"), "figures": return_figures, "tables": return_tables}),
            ("loyalty", {"title": _("Loyalty"), "figures": loyalty_figures, "tables": [], "note": loyalty_note}),
            ("stock", {"title": _("Stock"), "figures": stock_figures, "tables": stock_tables}),
            ("nps", {"title": _("Customer satisfaction (NPS)"), "figures": nps_figures, "tables": nps_tables}),
        ]
    )


def report_tables(filters: ReportFilters) -> dict[str, Table]:
    """Every table of the dashboard by its key (for exports), with the figures as a table too."""
    sections = dashboard(filters)
    tables: dict[str, Table] = {}
    figure_rows = []
    for section in sections.values():
        for figure in section["figures"]:
            figure_rows.append(
                {
                    "section": section["title"],
                    "label": figure.label,
                    "value": figure.value,
                    "unit": figure.unit,
                    "previous": figure.previous,
                    "definition": figure.definition,
                }
            )
        for table in section["tables"]:
            tables[table.key] = table
    tables["figures"] = Table(
        "figures",
        _("Key figures"),
        _("Every figure of the dashboard with its definition."),
        [
            Column("section", _("section")),
            Column("label", _("figure")),
            Column("value", _("value"), True),
            Column("unit", _("unit")),
            Column("previous", _("previous period"), True),
            Column("definition", _("definition")),
        ],
        figure_rows,
    )
    return tables
