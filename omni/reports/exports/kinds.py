"""What can be exported: the main lists and every report table, each with the rows the user may
see under the filters, and the Resource that turns a row into a line of the file.

A list is limited to the user's locations exactly as its admin screen is (``ReportFilters`` carries
them), so a store manager cannot export another store's rows.

A list exports from two places: the dashboard, with the dashboard's filters (``rows``), and its own
admin change list, with that list's filters and search (``admin_model``, ``from_list``; see
``omni.reports.exports.lists``). Both apply the same limit to the user's locations (``at``), the same
permission (``can_export``) and the same Resource.
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
from omni.reports.exports.resources import OrderLineExportResource, ReportTableResource, ReturnLineExportResource
from omni.reports.filters import ReportFilters
from orders.models import Order, OrderLine, OrderReturn, ReturnLine

REPORT_PREFIX = "report:"
# An export of an admin change list: ``admin:<list key>`` (``admin:orders``).
ADMIN_LIST_PREFIX = "admin:"

# A location look-up (``"location"``, ``"order__location"``) -> the condition that it is an allowed place.
Place = Callable[[str], Q]


@dataclass(frozen=True)
class ExportKind:
    key: str
    label: str
    permission: str
    rows: Callable[[ReportFilters], QuerySet]
    resource: Callable[[], object]
    definition: str = ""
    # The model of the admin change list that exports this list ("orders.order").
    admin_model: str = ""
    # The change list's rows -> the rows of the file (an order -> its lines).
    from_list: Callable[[QuerySet], QuerySet] = lambda rows: rows
    # Rows -> those at the allowed places (the user's locations); a list exported from its admin needs it.
    at: Callable[[QuerySet, Place], QuerySet] | None = None


def in_locations(location_ids) -> Place:
    """The places a user works at, as a ``Place``."""
    ids = sorted(location_ids)
    return lambda lookup: Q(**{f"{lookup}_id__in": ids})


def _period(field: str, filters: ReportFilters) -> Q:
    return Q(**{f"{field}__gte": filters.start, f"{field}__lt": filters.end})


def lines_of_orders(orders: QuerySet[Order]) -> QuerySet[OrderLine]:
    return OrderLine.objects.filter(order__in=orders).order_by("order_id", "id")


def lines_of_returns(returns: QuerySet[OrderReturn]) -> QuerySet[ReturnLine]:
    return ReturnLine.objects.filter(order_return__in=returns).order_by("order_return_id", "id")


def customers_of_list(rows: QuerySet[Customer]) -> QuerySet[Customer]:
    return customers_with_identities(Customer.objects.filter(pk__in=rows.values("pk"))).order_by("pk")


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
    if filters.location_ids is not None or filters.store_id or filters.city:
        rows = return_lines_at(rows, filters.location)
    return rows.order_by("order_return_id", "id")


def return_lines_at(rows: QuerySet[ReturnLine], place: Place) -> QuerySet[ReturnLine]:
    # Like the returns admin: received at, or of an order of, the user's locations.
    return rows.filter(place("order_return__location") | place("order_return__order__location"))


def customers(filters: ReportFilters) -> QuerySet[Customer]:
    rows = Customer.objects.active()
    if filters.city:
        rows = rows.filter(city__iexact=filters.city)
    if filters.location_ids is not None or filters.store_id:
        rows = customers_at(rows, filters.location)
    return customers_with_identities(rows).order_by("pk")


def customers_at(rows: QuerySet[Customer], place: Place) -> QuerySet[Customer]:
    """Store staff export the customers of their stores: who prefer one, or bought at one."""
    bought = Order.objects.filter(customer=OuterRef("pk")).filter(place("location"))
    return rows.filter(Q(Exists(bought)) | place("preferred_store"))


def stock_levels(filters: ReportFilters) -> QuerySet[Stock]:
    return Stock.objects.filter(filters.location("location")).order_by("location__code", "product__sku")


def stock_ledger(filters: ReportFilters) -> QuerySet[StockMovement]:
    return (
        StockMovement.objects.filter(_period("created_at", filters))
        .filter(filters.location("location"))
        .order_by("created_at", "id")
    )


def points_entries(filters: ReportFilters) -> QuerySet[PointsEntry]:
    rows = PointsEntry.objects.filter(_period("created_at", filters))
    if filters.channel:
        rows = rows.filter(channel=filters.channel)
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
            admin_model="orders.order",
            from_list=lines_of_orders,
            at=lambda rows, place: rows.filter(place("order__location")),
        ),
        ExportKind(
            "returns",
            _("Returns with their lines (accepted in the period)"),
            "orders.view_orderreturn",
            return_lines,
            ReturnLineExportResource,
            admin_model="orders.orderreturn",
            from_list=lines_of_returns,
            at=return_lines_at,
        ),
        ExportKind(
            "customers",
            _("Customers (the city filter applies)"),
            "customers.view_customer",
            customers,
            CustomerResource,
            admin_model="customers.customer",
            from_list=customers_of_list,
            # The list finds any customer; an export of it is still limited to the user's stores' customers.
            at=customers_at,
        ),
        ExportKind(
            "stock",
            _("Stock levels now"),
            "inventory.view_stock",
            stock_levels,
            lambda: StockLevelResource(user=None),
            admin_model="inventory.stock",
            at=lambda rows, place: rows.filter(place("location")),
        ),
        ExportKind(
            "ledger",
            _("Stock ledger (movements in the period)"),
            "inventory.view_stockmovement",
            stock_ledger,
            lambda: StockMovementResource(user=None),
            admin_model="inventory.stockmovement",
            at=lambda rows, place: rows.filter(place("location")),
        ),
        ExportKind(
            "points",
            _("Points ledger (entries in the period)"),
            "loyalty.view_pointsentry",
            points_entries,
            PointsEntryResource,
            admin_model="loyalty.pointsentry",
            # The ledger shows every store's entries; an export of it, the user's stores' only.
            at=lambda rows, place: rows.filter(place("store")),
        ),
    )
}


def is_report(what: str) -> bool:
    return what.startswith(REPORT_PREFIX)


def is_admin_list(what: str) -> bool:
    return what.startswith(ADMIN_LIST_PREFIX)


def admin_list(key: str) -> str:
    """The ``what`` of the export of a list's admin change list."""
    return f"{ADMIN_LIST_PREFIX}{key}"


def list_of_admin_model(label: str) -> ExportKind | None:
    """The list that the admin change list of the model ``label`` ("orders.order") exports."""
    return next((kind for kind in LISTS.values() if kind.admin_model == label), None)


def export_label(what: str) -> str:
    """What an export job writes, for people: the list's label, or the report table's key."""
    kind = LISTS.get(what.removeprefix(ADMIN_LIST_PREFIX))
    if kind is not None:
        return str(kind.label)
    return what.removeprefix(REPORT_PREFIX)


def report_resource(table) -> ReportTableResource:
    return ReportTableResource(table)


def can_export(user, what: str) -> bool:
    """Whether the user may export ``what``: a list key, ``admin:<list key>`` (the list's admin
    change list, for staff) or ``report:<table>``."""
    if not user.has_perm("reports.export_reports"):
        return False
    if is_report(what):
        return user.has_perm("reports.view_dashboard")
    if is_admin_list(what):
        if not user.is_staff:
            return False
        what = what.removeprefix(ADMIN_LIST_PREFIX)
    kind = LISTS.get(what)
    return kind is not None and user.has_perm(kind.permission)
