"""What can be exported: the main lists and every report table, each with the rows the user may
see under the filters, and the Resource that turns a row into a line of the file.

A list is limited to the user's locations exactly as its admin screen is (``ReportFilters`` carries
them), so a store manager cannot export another store's rows.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from customers.models import Customer
from customers.resources import CustomerResource
from customers.selectors import customers_with_identities
from inventory.models import Stock, StockMovement
from inventory.resources import StockLevelResource, StockMovementResource
from loyalty.models import PointsEntry
from loyalty.resources import PointsEntryResource
from omni.exports.resources import OrderLineExportResource, ReportTableResource, ReturnLineExportResource
from omni.reports.filters import ReportFilters
from orders.models import Order, OrderLine, ReturnLine

REPORT_PREFIX = "report:"


@dataclass(frozen=True)
class ExportKind:
    key: str
    label: str
    permission: str
    rows: Callable[[ReportFilters], QuerySet]
    resource: Callable[[], object]
    definition: str = ""


def _period(field: str, filters: ReportFilters) -> Q:
    return Q(**{f"{field}__gte": filters.start, f"{field}__lt": filters.end})


def order_lines(filters: ReportFilters) -> QuerySet[OrderLine]:
    return (
        OrderLine.objects.filter(_period("order__created_at", filters))
        .filter(filters.place("order__"))
        .order_by("order_id", "id")
    )


def return_lines(filters: ReportFilters) -> QuerySet[ReturnLine]:
    rows = ReturnLine.objects.filter(_period("order_return__created_at", filters))
    if filters.channel:
        rows = rows.filter(order_return__order__channel=filters.channel)
    # Like the returns admin: received at, or of an order of, the user's locations.
    place = filters.location("order_return__location") | filters.location("order_return__order__location")
    if filters.location_ids is not None or filters.store_id or filters.city:
        rows = rows.filter(place)
    return rows.order_by("order_return_id", "id")


def customers(filters: ReportFilters) -> QuerySet[Customer]:
    rows = Customer.objects.active()
    if filters.city:
        rows = rows.filter(city__iexact=filters.city)
    if filters.location_ids is not None or filters.store_id:
        # Store staff export the customers of their stores: who prefer one, or bought at one.
        bought = Order.objects.filter(customer=OuterRef("pk")).filter(filters.location("location"))
        rows = rows.filter(Q(Exists(bought)) | filters.location("preferred_store"))
    return customers_with_identities(rows).order_by("pk")


def stock_levels(filters: ReportFilters) -> QuerySet[Stock]:
    return Stock.objects.filter(filters.location("location")).order_by("location__code", "product__sku")


def stock_ledger(filters: ReportFilters) -> QuerySet[StockMovement]:
    return (
        StockMovement.objects.filter(_period("created_at", filters))
        .filter(filters.location("location"))
        .order_by("created_at", "id")
    )


def points_entries(filters: ReportFilters) -> QuerySet[PointsEntry]:
    from orders.services import loyalty_channel

    rows = PointsEntry.objects.filter(_period("created_at", filters))
    if filters.channel:
        rows = rows.filter(channel=loyalty_channel(filters.channel))
    if filters.location_ids is not None or filters.store_id or filters.city:
        rows = rows.filter(filters.location("store"))
    return rows.order_by("created_at", "id")


LISTS: dict[str, ExportKind] = {
    kind.key: kind
    for kind in (
        ExportKind(
            "orders",
            _("Orders with their lines (placed in the period)"),
            "orders.view_order",
            order_lines,
            OrderLineExportResource,
        ),
        ExportKind(
            "returns",
            _("Returns with their lines (accepted in the period)"),
            "orders.view_orderreturn",
            return_lines,
            ReturnLineExportResource,
        ),
        ExportKind(
            "customers",
            _("Customers (the city filter applies)"),
            "customers.view_customer",
            customers,
            CustomerResource,
        ),
        ExportKind(
            "stock",
            _("Stock levels now"),
            "inventory.view_stock",
            stock_levels,
            lambda: StockLevelResource(user=None),
        ),
        ExportKind(
            "ledger",
            _("Stock ledger (movements in the period)"),
            "inventory.view_stockmovement",
            stock_ledger,
            lambda: StockMovementResource(user=None),
        ),
        ExportKind(
            "points",
            _("Points ledger (entries in the period)"),
            "loyalty.view_pointsentry",
            points_entries,
            PointsEntryResource,
        ),
    )
}


def is_report(what: str) -> bool:
    return what.startswith(REPORT_PREFIX)


def report_resource(table) -> ReportTableResource:
    return ReportTableResource(table)


def can_export(user, what: str) -> bool:
    """Whether the user may export ``what`` (a list key, or ``report:<table>``)."""
    if not user.has_perm("omni.export_reports"):
        return False
    if is_report(what):
        return user.has_perm("omni.view_dashboard")
    kind = LISTS.get(what)
    return kind is not None and user.has_perm(kind.permission)
