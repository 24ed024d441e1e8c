"""Every figure of the managers' dashboard, computed with aggregate SQL.

Each section is a function of ``ReportFilters`` that runs a handful of aggregate queries (never a
loop over orders in Python) and returns ``Figure`` and ``Table`` objects, each with its definition.

Definitions (shown next to each figure):

- Completed order: collected, delivered or sold in store; it counts on the day it was completed.
- Revenue: what customers paid in money for completed orders less what was refunded on them
  (``paid − refunded``), by the period in which the order was completed (a later refund lowers
  the revenue of the period of completion).
- Units sold: units ordered − refused at handover − returned.
- A store: the order's location (the pickup store, the store of a sale, or the location a
  delivery ships from); the city is that location's city. Store managers see only their stores.
"""

import datetime
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import (
    Case,
    Count,
    DateField,
    ExpressionWrapper,
    F,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Trunc
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import npgettext, pgettext

from inventory.models import Location, Product, Stock, Transfer, TransferLine, TransferStatus
from loyalty import kpis as loyalty_kpis
from omni.reports.figures import Column, Figure, Table, money, ratio
from omni.reports.filters import Granularity, ReportFilters
from omni.reports.models import CustomerSales, DailyPickups, DailyProductSales, DailyReturns, DailySales
from omni.reports.summaries import (
    GUEST_ORDER,
    MEMBER_ORDER,
    MONEY_FIELD,
    NET_PAID,
    as_duration,
    summaries_refresh_pending,
)
from orders.models import (
    COMPLETED_STATUSES,
    Fulfilment,
    Order,
    OrderChannel,
)

ZERO = Decimal("0.00")


def _currency() -> str:
    from django.conf import settings

    return settings.OMNI_CURRENCY


# --- The rows every section starts from -------------------------------------------------


def completed_orders(filters: ReportFilters) -> QuerySet[Order]:
    """Orders completed in the period, at the places and in the channel of the filters."""
    return Order.objects.filter(
        status__in=COMPLETED_STATUSES, completed_at__gte=filters.start, completed_at__lt=filters.end
    ).filter(filters.place())


def daily_sales(filters: ReportFilters) -> QuerySet[DailySales]:
    """The summary rows of the orders completed in the period, at the places and in the channel of
    the filters (``omni.reports.summaries``: the same definitions, summed per day)."""
    return DailySales.objects.filter(day__gte=filters.date_from, day__lte=filters.date_to).filter(filters.place())


# --- Sales ------------------------------------------------------------------------------

CUBE_SUMS = {
    "revenue": Sum("revenue"),
    "orders": Sum("orders"),
    "units": Sum("units"),
    "sold": Sum("handed_over"),
    "returned": Sum("returned"),
    "ship_to_store": Sum("ship_to_store_orders"),
    "customer_orders": Sum("customer_orders"),
}


def _sums() -> dict:
    """The cube's sums under names that do not clash with the summary's own fields."""
    return {f"sum_{name}": aggregate for name, aggregate in CUBE_SUMS.items()}


def _cell_of(row: dict) -> dict:
    return {name: row[f"sum_{name}"] or (ZERO if name == "revenue" else 0) for name in CUBE_SUMS}


@dataclass
class SalesCube:
    """The period's completed orders summed by channel, store, employee, fulfilment and day, week
    or month, read from the daily summary: every sales table, the fulfilment shares and the
    return rates are rolled up from these rows (a few thousand, never one per order)."""

    rows: list[dict]
    kind: str

    def rollup(self, key: str) -> dict:
        """{value of key: {"revenue", "orders", "units", "sold", "returned", ...}}."""
        result: dict = {}
        for row in self.rows:
            cell = result.setdefault(row[key], _empty_cell())
            for name in CUBE_SUMS:
                cell[name] += row[name]
        return result

    def total(self) -> dict:
        return self.rollup("all").get("all", _empty_cell())


def _empty_cell() -> dict:
    return {name: ZERO if name == "revenue" else 0 for name in CUBE_SUMS}


def sales_cube(filters: ReportFilters) -> SalesCube:
    kind = filters.bucket
    bucket = F("day") if kind == Granularity.DAY else Trunc("day", kind, output_field=DateField())
    rows = (
        daily_sales(filters)
        .annotate(bucket=bucket)
        .values("channel", "location", "employee", "fulfilment", "bucket")
        .annotate(**_sums())
        .order_by()
    )
    return SalesCube(
        [
            {
                "channel": row["channel"],
                "location": row["location"],
                "employee": row["employee"],
                "fulfilment": row["fulfilment"],
                "bucket": _as_date(row["bucket"]),
                "all": "all",
                **_cell_of(row),
            }
            for row in rows
        ],
        kind,
    )


def sales_totals(filters: ReportFilters, cube: SalesCube | None = None) -> dict:
    """Revenue, orders, units, average check and items per order."""
    total = (cube or sales_cube(filters)).total()
    return {
        "revenue": money(total["revenue"]),
        "orders": total["orders"],
        "units": int(total["units"]),
        "average_check": ratio(total["revenue"], total["orders"]),
        "items_per_order": ratio(total["units"], total["orders"]),
    }


def _previous_totals(filters: ReportFilters) -> dict:
    """The previous period's totals: one query over the daily summary."""
    total = _cell_of(daily_sales(filters.previous()).aggregate(**_sums()))
    return {
        "revenue": money(total["revenue"]),
        "orders": total["orders"],
        "average_check": ratio(total["revenue"], total["orders"]),
        "items_per_order": ratio(total["units"], total["orders"]),
    }


def sales_figures(filters: ReportFilters, *, compare: bool = True, cube: SalesCube | None = None) -> list[Figure]:
    now = sales_totals(filters, cube)
    before = _previous_totals(filters) if compare else {}
    currency = _currency()
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
            _("units"),
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
        "revenue": money(cell["revenue"]),
        "orders": cell["orders"],
        "average_check": ratio(cell["revenue"], cell["orders"]),
        "units": int(cell["units"]),
        "items_per_order": ratio(cell["units"], cell["orders"]),
    }


def _by_revenue(rows: list[dict]) -> list[dict]:
    return sorted(rows, key=lambda row: (-row["revenue"], str(row["label"])))


def sales_by_period(filters: ReportFilters, cube: SalesCube | None = None) -> Table:
    """Revenue, orders and units per day, week or month of the period (empty buckets at zero)."""
    cube = cube or sales_cube(filters)
    cells = cube.rollup("bucket")
    rows = [
        _sales_row(day.isoformat(), day.isoformat(), cells.get(day, _empty_cell()))
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
        _sales_columns(_("period")),
        rows,
        chart=("line", "label", "revenue"),
    )


def _as_date(value) -> datetime.date:
    if isinstance(value, datetime.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.date()
    if isinstance(value, str):
        return datetime.date.fromisoformat(value[:10])
    return value


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


def _channel_label(value) -> str:
    return str(dict(OrderChannel.choices).get(value, value))


def _location_labels(ids) -> dict:
    ids = {pk for pk in ids if pk is not None}
    return {
        pk: f"{code} — {name}"
        for pk, code, name in Location.objects.filter(pk__in=ids).values_list("pk", "code", "name")
    }


def sales_by_channel(filters: ReportFilters, cube: SalesCube | None = None) -> Table:
    cells = (cube or sales_cube(filters)).rollup("channel")
    return Table(
        "sales_by_channel",
        _("Sales by channel"),
        _("Revenue, orders and units of the orders completed in the period, by the channel they were placed through."),
        _sales_columns(_("channel")),
        _by_revenue([_sales_row(key, _channel_label(key), cell) for key, cell in cells.items()]),
        chart=("bar", "label", "revenue"),
    )


def sales_by_store(filters: ReportFilters, cube: SalesCube | None = None) -> Table:
    cells = (cube or sales_cube(filters)).rollup("location")
    labels = _location_labels(cells)
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
    from django.contrib.auth import get_user_model

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
                "value": money(row["value"]),
            }
            for row in top
        ],
        chart=("bar", "sku", "units"),
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
            {"key": key, "name": cell["name"], "units": int(cell["units"]), "value": money(cell["value"])}
            for key, cell in top
        ],
        chart=("bar", "name", "units"),
    )


def fulfilment_shares(filters: ReportFilters, cube: SalesCube | None = None) -> list[Figure]:
    """Share of click-and-collect and of ship-to-store among completed orders."""
    cube = cube or sales_cube(filters)
    cells = cube.rollup("fulfilment")
    total = cube.total()["orders"]
    collect = cells.get(Fulfilment.CLICK_AND_COLLECT, _empty_cell())["orders"]
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


# --- Customers --------------------------------------------------------------------------


def whole_history_summarised(filters: ReportFilters) -> bool:
    """Whether ``CustomerSales`` (each customer's whole history, every location) is what the
    customer figures need: no place limits, and a period that has not ended, so that "up to the
    end of the period" is everything."""
    return filters.location_ids is None and not filters.store_id and not filters.city and filters.end > timezone.now()


def customer_totals(filters: ReportFilters) -> dict:
    """Every customer figure: from the customers' summaries when they answer (a few aggregate
    queries over one row per customer), else from the orders."""
    if whole_history_summarised(filters):
        return customer_totals_from_summaries(filters)
    return customer_totals_from_orders(filters)


def _history_figures(rows: QuerySet, filters: ReportFilters, **more) -> dict:
    """The customer figures over a customer's history, from rows (one per ``customer``) with ``n``
    orders, ``spent``, ``last`` completed and the number of ``channels``: one aggregate query."""
    cutoff = filters.end - datetime.timedelta(days=filters.churn_days)
    one, several = Q(channels=1), Q(channels__gt=1)
    return rows.aggregate(
        buyers=Count("customer"),
        repeaters=Count("customer", filter=Q(n__gte=2)),
        churned=Count("customer", filter=Q(last__lt=cutoff)),
        total_spent=Coalesce(Sum("spent"), Value(ZERO), output_field=MONEY_FIELD),
        one_customers=Count("customer", filter=one),
        one_orders=Coalesce(Sum("n", filter=one), 0),
        one_spent=Coalesce(Sum("spent", filter=one), Value(ZERO), output_field=MONEY_FIELD),
        several_customers=Count("customer", filter=several),
        several_orders=Coalesce(Sum("n", filter=several), 0),
        several_spent=Coalesce(Sum("spent", filter=several), Value(ZERO), output_field=MONEY_FIELD),
        **more,
    )


def customer_totals_from_summaries(filters: ReportFilters) -> dict:
    """The customer figures of a period that has not ended, at every place, from ``CustomerSales``
    (and, with a channel filter, the period's orders in that channel grouped by customer)."""
    summaries = CustomerSales.objects.annotate(n=F("orders"), spent=F("revenue"), last=F("last_completed_at"))
    if not filters.channel:
        bought = Q(last_completed_at__gte=filters.start)
        figures = _history_figures(
            summaries,
            filters,
            period_customers=Count("customer", filter=bought),
            new=Count("customer", filter=Q(first_completed_at__gte=filters.start)),
            participants=Count("customer", filter=bought & Q(joined_at__lt=filters.end)),
            # their last order was completed in the period with the account open
            member_buyers=Count("customer", filter=bought & Q(joined_at__lte=F("last_completed_at"))),
            guest_buyers=Count("customer", filter=Q(last_as_guest_at__gte=filters.start)),
        )
        figures["period_orders"] = daily_sales(filters).aggregate(n=Coalesce(Sum("customer_orders"), 0))["n"]
    else:
        figures = _history_figures(summaries, filters)
        first = CustomerSales.objects.filter(customer=OuterRef("customer")).values("first_completed_at")[:1]
        per_customer = (
            completed_orders(filters)
            .filter(customer__isnull=False)
            .values("customer")
            .annotate(n=Count("pk"), first=Subquery(first), **_membership_per_customer())
            .order_by()
        )
        figures |= per_customer.aggregate(
            period_customers=Count("customer"),
            period_orders=Coalesce(Sum("n"), 0),
            new=Count("customer", filter=Q(first__gte=filters.start)),
            **_membership_buyers(filters),
        )
    figures["returning"] = figures["period_customers"] - figures["new"]
    return figures


def customer_totals_from_orders(filters: ReportFilters) -> dict:
    """Every customer figure in one grouped query over the customers' completed orders up to the
    end of the period, at the places of the filters (the channel filter applies to the period's
    figures only: a customer's history and channels are counted across every channel)."""
    in_period = Q(completed_at__gte=filters.start)
    if filters.channel:
        in_period &= Q(channel=filters.channel)
    per_customer = (
        Order.objects.filter(status__in=COMPLETED_STATUSES, customer__isnull=False, completed_at__lt=filters.end)
        .filter(filters.place(channel=False))
        .values("customer")
        .annotate(
            n=Count("pk"),
            spent=Sum(NET_PAID),
            first=Min("completed_at"),
            last=Max("completed_at"),
            period_n=Count("pk", filter=in_period),
            **_membership_per_customer(in_period),
            # MIN(channel) < MAX(channel) tells "two channels or more" without a sort per customer.
            channel_min=Min("channel"),
            channel_max=Max("channel"),
        )
        .annotate(channels=Case(When(Q(channel_min__lt=F("channel_max")), then=Value(2)), default=Value(1)))
        .order_by()
    )
    bought = Q(period_n__gt=0)
    return _history_figures(
        per_customer,
        filters,
        period_customers=Count("customer", filter=bought),
        period_orders=Coalesce(Sum("period_n"), 0),
        new=Count("customer", filter=bought & Q(first__gte=filters.start)),
        returning=Count("customer", filter=bought & Q(first__lt=filters.start)),
        **_membership_buyers(filters, bought=bought),
    )


def _membership_per_customer(orders: Q | None = None) -> dict:
    """Per customer, among their ``orders``: how many were members' orders and guests' orders, and
    when their loyalty account was opened (``MEMBER_ORDER``, one account per customer at most)."""
    orders = orders or Q()
    return {
        "as_member": Count("pk", filter=orders & MEMBER_ORDER),
        "as_guest": Count("pk", filter=orders & GUEST_ORDER),
        "joined": Min("customer__loyalty_accounts__opened_at"),
    }


def _membership_buyers(filters: ReportFilters, bought: Q | None = None) -> dict:
    """Over customers grouped with ``_membership_per_customer``: those who ``bought`` in the period
    with an account opened by its end, and those who bought as members and as guests."""
    bought = bought or Q()
    return {
        "participants": Count("customer", filter=bought & Q(joined__lt=filters.end)),
        "member_buyers": Count("customer", filter=Q(as_member__gt=0)),
        "guest_buyers": Count("customer", filter=Q(as_guest__gt=0)),
    }


def customer_figures(filters: ReportFilters, totals: dict | None = None) -> tuple[list[Figure], Table]:
    f = totals if totals is not None else customer_totals(filters)
    currency = _currency()
    figures = [
        Figure(
            "new_customers",
            _("New customers"),
            f["new"],
            npgettext("unit after a count", "customer", "customers", f["new"]),
            _("Customers who bought in the period and whose first completed order ever is in the period."),
        ),
        Figure(
            "returning_customers",
            _("Returning customers"),
            f["returning"],
            npgettext("unit after a count", "customer", "customers", f["returning"]),
            _("Customers who bought in the period and had a completed order before it."),
        ),
        Figure(
            "repeat_purchase_rate",
            _("Repeat purchase rate"),
            ratio(f["repeaters"], f["buyers"], percent=True),
            "%",
            _(
                "Customers with two completed orders or more (ever, up to the end of the period) ÷ "
                "customers with at least one × 100 %."
            ),
        ),
        Figure(
            "purchase_frequency",
            _("Purchase frequency"),
            ratio(f["period_orders"], f["period_customers"]),
            _("orders per customer"),
            _("Completed orders of identified customers in the period ÷ distinct customers who bought in the period."),
        ),
        Figure(
            "churn_rate",
            _("Churn"),
            ratio(f["churned"], f["buyers"], percent=True),
            "%",
            _(
                "Customers whose last completed order is more than %(days)d days older than the end of the period "
                "÷ customers who ever bought (up to the end of the period) × 100 %%."
            )
            % {"days": filters.churn_days},
        ),
        Figure(
            "lifetime_value",
            _("Average lifetime value"),
            ratio(f["total_spent"], f["buyers"]),
            currency,
            _("Revenue of every completed order up to the end of the period ÷ customers who ever bought."),
        ),
    ]
    omnichannel = Table(
        "omnichannel",
        _("One channel or several: the omnichannel effect"),
        _(
            "Customers who ever bought (up to the end of the period), split by whether their completed orders "
            "span one channel or two and more. Average check = their revenue ÷ their orders; frequency = their "
            "orders ÷ customers; spend = their revenue ÷ customers."
        ),
        [
            Column("label", _("customers who used")),
            Column("customers", _("customers"), True),
            Column("average_check", _("average check"), True),
            Column("frequency", _("orders per customer"), True),
            Column("spend", _("spend per customer"), True),
        ],
        [
            {
                "key": key,
                "label": label,
                "customers": f[f"{key}_customers"],
                "average_check": ratio(f[f"{key}_spent"], f[f"{key}_orders"]),
                "frequency": ratio(f[f"{key}_orders"], f[f"{key}_customers"]),
                "spend": ratio(f[f"{key}_spent"], f[f"{key}_customers"]),
            }
            for key, label in (("one", _("one channel")), ("several", _("several channels")))
        ],
        chart=("bar", "label", "spend"),
        note=_("The channel filter does not apply here: a customer's channels are counted across all of them."),
    )
    return figures, omnichannel


# --- Click-and-collect ------------------------------------------------------------------


def _hours(value: datetime.timedelta) -> Decimal | None:
    return ratio(Decimal(value.total_seconds()), 3600)


def click_and_collect(filters: ReportFilters) -> tuple[list[Figure], Table]:
    """Orders made ready for pickup in the period, by store, and what became of them: one query
    over the daily pickups summary."""
    counts = ("ready", "collected", "expired", "cancelled")
    rows = [
        {**row, **{name: row[f"sum_{name}"] for name in counts}}
        for row in DailyPickups.objects.filter(day__gte=filters.date_from, day__lte=filters.date_to)
        .filter(filters.place())
        .values("location", "location__code", "location__name")
        .annotate(to_ready=Sum("time_to_ready"), **{f"sum_{name}": Sum(name) for name in counts})
        .order_by("location__code")
    ]
    table_rows, total = [], {"ready": 0, "collected": 0, "expired": 0, "cancelled": 0, "to_ready": datetime.timedelta()}
    for row in rows:
        span = as_duration(row["to_ready"])
        outcome = row["collected"] + row["expired"] + row["cancelled"]
        table_rows.append(
            {
                "key": row["location"],
                "label": f"{row['location__code']} — {row['location__name']}",
                "ready": row["ready"],
                "hours_to_ready": _hours(span / row["ready"]) if row["ready"] else None,
                "collected": row["collected"],
                "expired": row["expired"],
                "cancelled": row["cancelled"],
                "pickup_rate": ratio(row["collected"], outcome, percent=True),
                "expired_share": ratio(row["expired"], outcome, percent=True),
            }
        )
        for key in counts:
            total[key] += row[key]
        total["to_ready"] += span
    outcome = total["collected"] + total["expired"] + total["cancelled"]
    figures = [
        Figure(
            "hours_to_ready",
            _("Time from order to ready"),
            _hours(total["to_ready"] / total["ready"]) if total["ready"] else None,
            _("hours"),
            _(
                "Average time from placing a click-and-collect order to its being ready for pickup, "
                "over the orders made ready in the period."
            ),
        ),
        Figure(
            "pickup_rate",
            _("Pickup rate"),
            ratio(total["collected"], outcome, percent=True),
            "%",
            _(
                "Of the orders made ready in the period: collected ÷ (collected + expired + cancelled after "
                "being ready) × 100 %; orders still waiting are left out."
            ),
        ),
        Figure(
            "expired_share",
            _("Expired share"),
            ratio(total["expired"], outcome, percent=True),
            "%",
            _(
                "Of the orders made ready in the period: expired ÷ (collected + expired + cancelled "
                "after being ready) × 100 %."
            ),
        ),
    ]
    table = Table(
        "click_and_collect_by_store",
        _("Click-and-collect by store"),
        _("Click-and-collect orders made ready for pickup in the period, by pickup store, and what became of them."),
        [
            Column("label", _("store")),
            Column("ready", _("made ready"), True),
            Column("hours_to_ready", _("hours to ready"), True),
            Column("collected", _("orders collected"), True),
            Column("expired", _("orders expired"), True),
            Column("cancelled", _("cancelled after ready"), True),
            Column("pickup_rate", _("pickup rate, %"), True),
            Column("expired_share", _("expired, %"), True),
        ],
        table_rows,
        chart=("bar", "label", "pickup_rate"),
    )
    return figures, table


# --- Returns ----------------------------------------------------------------------------


def _return_rate_rows(cells: dict, labels: dict) -> list[dict]:
    rows = [
        {
            "key": key,
            "label": labels.get(key, "—"),
            "sold": int(cell["sold"]),
            "returned": int(cell["returned"]),
            "return_rate": ratio(cell["returned"], cell["sold"], percent=True),
        }
        for key, cell in cells.items()
        if cell["sold"]
    ]
    return sorted(rows, key=lambda row: str(row["label"]))


def returns(filters: ReportFilters, cube: SalesCube | None = None) -> tuple[list[Figure], list[Table]]:
    """Return rates by channel and by store (from the sales cube), returns taken in a store for
    another channel's orders, and the top reasons: two more queries."""
    cube = cube or sales_cube(filters)
    rate_columns = [
        Column("label", _("channel")),
        Column("sold", _("units handed over"), True),
        Column("returned", _("units returned"), True),
        Column("return_rate", _("return rate, %"), True),
    ]
    rate_definition = _(
        "Of the orders completed in the period: units returned so far ÷ units handed over (ordered − refused) × 100 %."
    )
    channel_cells = cube.rollup("channel")
    by_channel = _return_rate_rows(channel_cells, {key: _channel_label(key) for key in channel_cells})
    store_cells = cube.rollup("location")
    by_store = _return_rate_rows(store_cells, _location_labels(store_cells))
    total = cube.total()
    sold, returned = total["sold"], total["returned"]

    in_period = DailyReturns.objects.filter(day__gte=filters.date_from, day__lte=filters.date_to).filter(
        filters.location("location")
    )
    if filters.channel:
        in_period = in_period.filter(order_channel=filters.channel)
    cross = (
        in_period.filter(location__kind="store")
        .exclude(order_channel=OrderChannel.STORE)
        .values("location", "location__code", "location__name")
        .annotate(n_returns=Sum("returns"), n_units=Sum("units"), n_value=Sum("value"))
        .order_by("location__code")
    )
    cross_rows = [
        {
            "key": row["location"],
            "label": f"{row['location__code']} — {row['location__name']}",
            "returns": row["n_returns"],
            "units": int(row["n_units"] or 0),
            "value": money(row["n_value"]),
        }
        for row in cross
    ]
    reasons = in_period.values("reason").annotate(n_returns=Sum("returns")).order_by("-n_returns", "reason")[:10]
    cross_returns = sum(row["returns"] for row in cross_rows)
    figures = [
        Figure("return_rate", _("Return rate"), ratio(returned, sold, percent=True), "%", rate_definition),
        Figure(
            "cross_channel_returns",
            _("Returns in a store for orders of another channel"),
            cross_returns,
            npgettext("unit after a count", "return", "returns", cross_returns),
            _("Returns accepted in the period in a store for orders placed through another channel than the store."),
        ),
    ]
    tables = [
        Table(
            "return_rate_by_channel",
            _("Return rate by channel"),
            rate_definition,
            rate_columns,
            by_channel,
            chart=("bar", "label", "return_rate"),
        ),
        Table(
            "return_rate_by_store",
            _("Return rate by store"),
            rate_definition,
            [Column("label", _("store")), *rate_columns[1:]],
            by_store,
            chart=("bar", "label", "return_rate"),
        ),
        Table(
            "cross_channel_returns",
            _("Returns in a store for orders of another channel"),
            _(
                "Returns accepted in the period in each store for orders placed through another channel (site, "
                "app, call centre...); value = the goods' value after discounts."
            ),
            [
                Column("label", _("store")),
                Column("returns", _("returns"), True),
                Column("units", _("units"), True),
                Column("value", _("value"), True),
            ],
            cross_rows,
        ),
        Table(
            "return_reasons",
            _("Top return reasons"),
            _("Returns accepted in the period, by the reason written on them."),
            [Column("reason", _("reason")), Column("returns", _("returns"), True)],
            [{"key": row["reason"], "reason": row["reason"], "returns": row["n_returns"]} for row in reasons],
        ),
    ]
    return figures, tables


# --- Loyalty ----------------------------------------------------------------------------


def loyalty_period(filters: ReportFilters) -> tuple[loyalty_kpis.Period | None, str]:
    """The loyalty KPIs' period for these filters, or None with the reason when they cannot be
    limited to what the user may see (the KPIs take one store, not a list or a city)."""
    from orders.services import loyalty_channel

    visible, store_id = filters.visible, filters.store_id
    if store_id is None and not visible.every and len(visible.ids) == 1:
        store_id = next(iter(visible.ids))
    if not (visible.every or store_id is not None and visible.includes(store_id)):
        return None, _("Choose one of your stores to see the loyalty KPIs.")
    note = _("The loyalty KPIs do not filter by city.") if filters.city else ""
    channel = loyalty_channel(filters.channel) if filters.channel else ""
    return loyalty_kpis.Period(filters.date_from, filters.date_to, channel=channel, store_id=store_id), note


def membership(filters: ReportFilters, customers: dict | None = None) -> list[Figure]:
    """The loyalty KPIs that need every customer's orders. A member's order is one completed while
    the customer's loyalty account was open (it earned points); a guest order is an identified
    customer's order completed without one."""
    return _membership_figures(membership_totals(filters, customers))


def membership_totals(filters: ReportFilters, customers: dict | None = None) -> dict:
    """Orders and revenue of members and guests, from the daily summary, and how many customers
    bought, bought as members, bought as guests and had an account by the end of the period, from
    the customer figures (``customer_totals``, computed with them in the same query)."""
    customers = customers if customers is not None else customer_totals(filters)
    orders = daily_sales(filters).aggregate(
        orders=Coalesce(Sum("customer_orders"), 0),
        revenue=Coalesce(Sum("customer_revenue"), Value(ZERO), output_field=MONEY_FIELD),
        member_orders=Coalesce(Sum("member_orders"), 0),
        member_revenue=Coalesce(Sum("member_revenue"), Value(ZERO), output_field=MONEY_FIELD),
    )
    return {
        **orders,
        "guest_orders": orders["orders"] - orders["member_orders"],
        "guest_revenue": orders["revenue"] - orders["member_revenue"],
        "buyers": customers["period_customers"],
        **{key: customers[key] for key in ("participants", "member_buyers", "guest_buyers")},
    }


def _membership_figures(f: dict) -> list[Figure]:
    currency = _currency()
    return [
        Figure(
            "participation_rate",
            _("Participation rate"),
            ratio(f["participants"], f["buyers"], percent=True),
            "%",
            _(
                "Customers with a loyalty account opened by the end of the period who bought in the period ÷ "
                "all identified customers who bought in the period × 100 %."
            ),
        ),
        Figure(
            "members_average_check",
            _("Members' average check"),
            ratio(f["member_revenue"], f["member_orders"]),
            currency,
            _(
                "Revenue of the orders completed in the period while the customer's loyalty account was open ÷ "
                "number of those orders."
            ),
        ),
        Figure(
            "non_members_average_check",
            _("Non-members' average check"),
            ratio(f["guest_revenue"], f["guest_orders"]),
            currency,
            _(
                "Revenue of the orders completed in the period by identified customers without an open loyalty "
                "account at the time ÷ number of those orders."
            ),
        ),
        Figure(
            "members_purchase_frequency",
            _("Members' purchase frequency"),
            ratio(f["member_orders"], f["member_buyers"]),
            _("orders per customer"),
            _(
                "Orders completed in the period while the customer's account was open ÷ customers who completed "
                "such an order in the period."
            ),
        ),
        Figure(
            "non_members_purchase_frequency",
            _("Non-members' purchase frequency"),
            ratio(f["guest_orders"], f["guest_buyers"]),
            _("orders per customer"),
            _(
                "Orders completed in the period by identified customers without an open account at the time ÷ "
                "customers who completed such an order in the period."
            ),
        ),
    ]


def loyalty(filters: ReportFilters, customers: dict | None = None) -> tuple[list[Figure], str]:
    """The KPIs that need every customer's orders, then loyalty's own from its ledger (``loyalty.kpis``)."""
    period, note = loyalty_period(filters)
    figures = membership(filters, customers)
    if period is None:
        return figures, note
    for kpi in loyalty_kpis.loyalty_kpis(period):
        figures.append(Figure(kpi.key, kpi.label, kpi.value, kpi.unit, kpi.formula))
    return figures, note


# --- Stock ------------------------------------------------------------------------------


def stock(filters: ReportFilters) -> tuple[list[Figure], list[Table]]:
    """Stock now (not of the period): by location, items below their minimum, transfers in transit."""
    rows = Stock.objects.filter(filters.location("location"))
    low = Q(on_hand__lt=F("reserved") + F("min_quantity"))
    by_location = list(
        rows.values("location", "location__code", "location__name")
        .annotate(
            units=Sum("on_hand"),
            held=Sum("reserved"),
            value=Sum(ExpressionWrapper(F("on_hand") * F("product__price"), output_field=MONEY_FIELD)),
            low=Count("pk", filter=low),
        )
        .order_by("location__code")
    )
    low_items = list(
        rows.filter(low)
        .annotate(available=F("on_hand") - F("reserved"))
        .values("location__code", "product__sku", "product__name", "on_hand", "reserved", "available", "min_quantity")
        .order_by("available", "location__code", "product__sku")[:20]
    )
    place = filters.location("source") | filters.location("destination") if filters.location("source") else Q()
    transit = list(
        TransferLine.objects.filter(transfer__status=TransferStatus.IN_TRANSIT)
        .filter(Q(transfer__in=Transfer.objects.filter(place)))
        .values(
            "transfer",
            "transfer__number",
            "transfer__source__code",
            "transfer__destination__code",
            "transfer__shipped_at",
        )
        .annotate(
            units=Sum("quantity"),
            value=Sum(ExpressionWrapper(F("quantity") * F("product__price"), output_field=MONEY_FIELD)),
        )
        .order_by("transfer__shipped_at", "transfer")
    )
    location_rows = [
        {
            "key": row["location"],
            "label": f"{row['location__code']} — {row['location__name']}",
            "on_hand": int(row["units"] or 0),
            "reserved": int(row["held"] or 0),
            "available": int((row["units"] or 0) - (row["held"] or 0)),
            "value": money(row["value"]),
            "low": row["low"],
        }
        for row in by_location
    ]
    currency = _currency()
    low_items_count = sum(row["low"] for row in location_rows)
    transfers_count = len({row["transfer"] for row in transit})
    figures = [
        Figure(
            "stock_units",
            _("Units on hand"),
            sum(row["on_hand"] for row in location_rows),
            _("units"),
            _("Units on hand now at the locations shown, reserved ones included."),
        ),
        Figure(
            "stock_value",
            _("Stock value"),
            money(sum((row["value"] for row in location_rows), ZERO)),
            currency,
            _("Units on hand now × the product's current catalogue price."),
        ),
        Figure(
            "low_stock_items",
            _("Items below their minimum"),
            low_items_count,
            npgettext("unit after a count", "item", "items", low_items_count),
            _(
                "Stock rows (product at a location) whose available quantity (on hand − reserved) is "
                "below their minimum quantity."
            ),
        ),
        Figure(
            "transfers_in_transit",
            _("Transfers in transit"),
            transfers_count,
            npgettext("unit after a count", "transfer", "transfers", transfers_count),
            _("Transfers shipped and not yet received, from or to the locations shown."),
        ),
    ]
    tables = [
        Table(
            "stock_by_location",
            _("Stock by location"),
            _(
                "Units now at each location and their value at current catalogue prices; low = items "
                "below their minimum."
            ),
            [
                Column("label", _("location")),
                Column("on_hand", _("on hand"), True),
                Column("reserved", _("reserved"), True),
                Column("available", _("available"), True),
                Column("value", _("value"), True),
                Column("low", _("items below minimum"), True),
            ],
            location_rows,
            chart=("bar", "label", "value"),
        ),
        Table(
            "low_stock",
            _("Items below their minimum"),
            _("The 20 items furthest below their minimum: available = on hand − reserved."),
            [
                Column("location", _("location")),
                Column("sku", _("SKU")),
                Column("name", pgettext("goods", "name")),
                Column("available", _("available"), True),
                Column("min_quantity", _("minimum"), True),
            ],
            [
                {
                    "location": row["location__code"],
                    "sku": row["product__sku"],
                    "name": row["product__name"],
                    "available": row["available"],
                    "min_quantity": row["min_quantity"],
                }
                for row in low_items
            ],
        ),
        Table(
            "transfers_in_transit",
            _("Transfers in transit"),
            _("Transfers shipped and not yet received; value at current catalogue prices."),
            [
                Column("number", _("transfer")),
                Column("source", _("from")),
                Column("destination", _("to")),
                Column("shipped_at", _("shipped at")),
                Column("units", _("units"), True),
                Column("value", _("value"), True),
            ],
            [
                {
                    "number": row["transfer__number"],
                    "source": row["transfer__source__code"],
                    "destination": row["transfer__destination__code"],
                    "shipped_at": timezone.localtime(row["transfer__shipped_at"]).strftime("%Y-%m-%d %H:%M")
                    if row["transfer__shipped_at"]
                    else "",
                    "units": int(row["units"] or 0),
                    "value": money(row["value"]),
                }
                for row in transit
            ],
        ),
    ]
    return figures, tables


# --- The whole dashboard ----------------------------------------------------------------


@contextmanager
def report_session():
    """Run report queries in one read-only transaction; on PostgreSQL with room to hash in memory
    (``REPORTS_DB_WORK_MEM``), preferring hash aggregation to sorts, and without JIT compilation,
    which costs more than it saves on these aggregate queries."""
    from django.conf import settings

    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('work_mem', %s, true)", [settings.REPORTS_DB_WORK_MEM])
                cursor.execute("SELECT set_config('jit', 'off', true)")
                cursor.execute("SET TRANSACTION READ ONLY")
        yield


def dashboard(filters: ReportFilters) -> "OrderedDict[str, dict]":
    """Every section, in the order the dashboard shows them, after folding any pending change to
    completed orders into the summaries (``omni.reports.summaries``)."""
    summaries_refresh_pending()
    with report_session():
        return _dashboard(filters)


def dashboard_cached(
    filters: ReportFilters, *, refresh: bool = False
) -> tuple["OrderedDict[str, dict]", datetime.datetime]:
    """The dashboard and when it was computed, kept ``REPORTS_CACHE_SECONDS`` in the cache per
    filters, locations and language (0 turns the cache off); ``refresh`` computes it again."""
    import hashlib

    from django.conf import settings
    from django.core.cache import cache
    from django.utils.translation import get_language

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
    from django.conf import settings

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
