"""Products: units sold and their value per product, the top products and the top categories."""

import datetime
import itertools

from django.db.models import Q, QuerySet, Sum
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from inventory.models import Product
from omni.reports.figures import Column, Table, sum_money
from omni.reports.filters import ReportFilters
from omni.reports.models import DailyProductSales, MonthlyProductSales
from omni.reports.selectors.common import ZERO
from omni.reports.summaries import next_month


def product_sales(filters: ReportFilters) -> list[dict]:
    """Units sold and their value per product in the period, from the daily product summary at the
    places of the filters; for the whole business, the period's whole months from the monthly one
    (``MonthlyProductSales``) and only the days around them from the daily one."""
    first_month, after_months = _whole_months(filters) if filters.everywhere else (None, None)
    days = Q(day__gte=filters.date_from, day__lte=filters.date_to)
    if first_month is not None:
        days &= Q(day__lt=first_month) | Q(day__gte=after_months)
    rows = [_sums(DailyProductSales.objects.filter(days).filter(filters.place()))]
    if first_month is not None:
        rows.append(_sums(MonthlyProductSales.objects.filter(month__gte=first_month, month__lt=after_months)))
    totals: dict = {}
    for row in itertools.chain.from_iterable(rows):
        total = totals.setdefault(row["product"], {"product": row["product"], "units": 0, "value": ZERO})
        total["units"] += row["sum_units"] or 0
        total["value"] += row["sum_value"] or ZERO
    return list(totals.values())


def _sums(rows: QuerySet) -> QuerySet:
    return rows.values("product").annotate(sum_units=Sum("units"), sum_value=Sum("value")).order_by()


def _whole_months(filters: ReportFilters) -> tuple[datetime.date | None, datetime.date | None]:
    """The first day of the period's first whole month and of the month after its last one, or
    (None, None) when the period holds no whole month."""
    first = filters.date_from if filters.date_from.day == 1 else next_month(filters.date_from)
    after = next_month(filters.date_to)
    if after - datetime.timedelta(days=1) != filters.date_to:  # the last month is not whole
        after = filters.date_to.replace(day=1)
    return (first, after) if first < after else (None, None)


def top_products(filters: ReportFilters, limit: int = 10, sales: list[dict] | None = None) -> Table:
    sales = product_sales(filters) if sales is None else sales
    top = sorted(sales, key=lambda row: (-(row["units"] or 0), row["product"]))[:limit]
    names = {
        pk: (sku, name)
        for pk, sku, name in Product.objects.filter(pk__in=[row["product"] for row in top]).values_list(
            "pk", "sku", "name"
        )
    }
    return Table(
        "top_products",
        _("Top products"),
        _(
            "Products by units sold in the period (ordered − refused − returned); value = units sold × unit "
            "price, before discounts and points."
        ),
        [
            Column("sku", _("SKU")),
            Column("name", pgettext("goods", "name")),
            Column("units", _("units sold"), True),
            Column("value", _("value"), True),
        ],
        [
            {
                "key": row["product"],
                "sku": names.get(row["product"], ("", ""))[0],
                "name": names.get(row["product"], ("", ""))[1],
                "units": int(row["units"] or 0),
                "value": sum_money(row["value"]),
                "chart_label": " ".join(names.get(row["product"], ("", ""))),
            }
            for row in top
        ],
        chart=("bar", "chart_label", "units"),
    )


def top_categories(filters: ReportFilters, limit: int = 10, sales: list[dict] | None = None) -> Table:
    sales = product_sales(filters) if sales is None else sales
    categories = {
        pk: (category_id, name)
        for pk, category_id, name in Product.objects.filter(pk__in=[row["product"] for row in sales]).values_list(
            "pk", "category_id", "category__name"
        )
    }
    cells: dict = {}
    for row in sales:
        category_id, name = categories.get(row["product"], (None, None))
        cell = cells.setdefault(category_id, {"name": name or _("no category"), "units": 0, "value": ZERO})
        cell["units"] += row["units"] or 0
        cell["value"] += row["value"] or ZERO
    top = sorted(cells.items(), key=lambda item: (-item[1]["units"], str(item[1]["name"])))[:limit]
    return Table(
        "top_categories",
        _("Top categories"),
        _("Categories by units sold in the period; value = units sold × unit price, before discounts and points."),
        [Column("name", _("category")), Column("units", _("units sold"), True), Column("value", _("value"), True)],
        [
            {"key": key, "name": cell["name"], "units": int(cell["units"]), "value": sum_money(cell["value"])}
            for key, cell in top
        ],
        chart=("bar", "name", "units"),
    )
