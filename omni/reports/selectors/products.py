"""Products: units sold and their value per product, the top products and the top categories."""

from django.db.models import Sum
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from inventory.models import Product
from omni.reports.figures import Column, Table, sum_money
from omni.reports.filters import ReportFilters
from omni.reports.models import DailyProductSales
from omni.reports.selectors.common import ZERO


def product_sales(filters: ReportFilters) -> list[dict]:
    """Units sold and their value per product in the period: one grouped query over the daily
    product summary."""
    rows = (
        DailyProductSales.objects.filter(day__gte=filters.date_from, day__lte=filters.date_to)
        .filter(filters.place())
        .values("product")
        .annotate(sum_units=Sum("units"), sum_value=Sum("value"))
        .order_by()
    )
    return [{"product": row["product"], "units": row["sum_units"], "value": row["sum_value"]} for row in rows]


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
