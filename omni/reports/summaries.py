"""Report summaries: completed orders summed ahead of time, kept up to date as orders change.

Tables in ``omni.reports.models`` hold what the dashboard would otherwise compute from millions of orders
and lines: per day and location, ``DailySales`` (by channel, employee and fulfilment),
``DailyProductSales`` (by channel and product), ``DailyPickups`` (click-and-collect orders made
ready, by channel) and ``DailyReturns`` (by the order's channel and the reason); per month,
``MonthlyProductSales`` (the products' daily rows summed at every place, rewritten with them);
and ``CustomerSales``, each customer's whole history. They are always recomputed from the orders
(never adjusted by a delta), so a recomputation is right whatever happened before it:

1. Whenever a service changes an order once completed or made ready (completed, paid, refunded,
   returned, collected, expired...), a ``SummaryChange`` row naming its day (of completion, of
   being made ready), location and customer is written in the same transaction; so is one for
   each return accepted. Merging customers writes one for each order of the two customers, and
   opening a loyalty account one for its customer. The services tell the summaries through the
   hooks of the apps below (``orders.hooks``, ``loyalty.hooks``, the merge steps of
   ``customers.merge``), registered in ``ReportsConfig.ready``; a row written around them (a
   queryset ``update()``, an import) is not heard, and needs the rebuild below.
2. ``summaries_refresh_pending`` recomputes every daily summary of the named (day, location) cells
   and the named customers from the orders, and deletes the changes it folded in. It runs after
   each such commit (a Celery task), every minute (beat), and before the dashboard is computed,
   so the dashboard is never stale.
3. ``summaries_rebuild`` recomputes everything, set-based, month by month: after bulk loads that
   bypass the services (``generate_load_data``), or with ``manage.py rebuild_report_summaries``.

One refresh or rebuild runs at a time (a PostgreSQL advisory lock held to the end of its
transaction), and it reads the orders after taking the lock: every change committed before a
refresh starts is in what it reads, so two refreshes cannot overwrite each other with older sums.

Days are calendar days in ``TIME_ZONE``, the time zone of the dashboard's periods.
"""

import datetime
import zoneinfo
from collections.abc import Iterable

from django.conf import settings
from django.db import connection, transaction
from django.db.models import (
    Count,
    DecimalField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, TruncDate, TruncMonth

from omni.core.db import advisory_xact_lock
from omni.core.queueing import enqueue, registered_task
from omni.reports.models import (
    CustomerSales,
    DailyPickups,
    DailyProductSales,
    DailyReturns,
    DailySales,
    MonthlyProductSales,
    SummaryChange,
)
from orders.models import (
    COMPLETED_STATUSES,
    Fulfilment,
    Order,
    OrderAllocation,
    OrderLine,
    OrderReturn,
    OrderStatus,
    ReturnLine,
)

MONEY_FIELD = DecimalField(max_digits=16, decimal_places=2)
ZERO = Value(0, output_field=MONEY_FIELD)
# What a completed order brought in, and the units its customer kept: the dashboard's definitions.
NET_PAID = ExpressionWrapper(F("paid") - F("refunded"), output_field=MONEY_FIELD)
KEPT_UNITS = ExpressionWrapper(
    F("quantity") - F("refused_quantity") - F("returned_quantity"), output_field=IntegerField()
)
HANDED_OVER_UNITS = ExpressionWrapper(F("quantity") - F("refused_quantity"), output_field=IntegerField())
# A loyalty member's order: the customer's account (one at most) was open when the order completed.
MEMBER_ORDER = Q(customer__loyalty_accounts__opened_at__lte=F("completed_at"))
GUEST_ORDER = Q(customer__isnull=False) & (
    Q(customer__loyalty_accounts__isnull=True) | Q(customer__loyalty_accounts__opened_at__gt=F("completed_at"))
)
KEPT_VALUE = ExpressionWrapper(F("unit_price") * KEPT_UNITS, output_field=MONEY_FIELD)

# pg_advisory_xact_lock key of "the summaries are being written" ("OMNISUMS" in ASCII, as a bigint).
LOCK_KEY = 0x4F4D4E4953554D53
REFRESH_BATCH = 5000


def report_timezone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def day_of(moment: datetime.datetime) -> datetime.date:
    return moment.astimezone(report_timezone()).date()


def day_start(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=report_timezone())


def _between(field: str, first_day: datetime.date, last_day: datetime.date) -> Q:
    """Rows whose moment ``field`` falls on the first day, the last day or a day between them."""
    after_last = day_start(last_day + datetime.timedelta(days=1))
    return Q(**{f"{field}__gte": day_start(first_day), f"{field}__lt": after_last})


def _completed_between(first_day: datetime.date, last_day: datetime.date, prefix: str = "") -> Q:
    """Orders (or, with ``prefix="order__"``, their lines) completed from the first to the last day."""
    return Q(**{f"{prefix}status__in": COMPLETED_STATUSES}) & _between(f"{prefix}completed_at", first_day, last_day)


def _at_locations(location_ids: Iterable[int | None] | None, prefix: str = "") -> Q:
    return _among(f"{prefix}location_id", location_ids)


def _among(field: str, ids: Iterable[int | None] | None) -> Q:
    """Rows whose ``field`` (a summary's reference, which may be None) is one of ``ids`` (all with None)."""
    if ids is None:
        return Q()
    ids = set(ids)
    condition = Q(**{f"{field}__in": sorted(pk for pk in ids if pk is not None)})
    if None in ids:
        condition |= Q(**{f"{field}__isnull": True})
    return condition


def next_month(day: datetime.date) -> datetime.date:
    """The first day of the month after ``day``'s."""
    return (day.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)


# --- Recording changes ------------------------------------------------------------------


def summaries_note_order(order: Order) -> None:
    """The ``order`` changed (``orders.hooks`` callback): the days it was completed and made ready
    for pickup, at its location, and its customer, are to be summed again."""
    changes = []
    if order.completed_at is not None:
        changes.append(
            SummaryChange(day=day_of(order.completed_at), location_id=order.location_id, customer_id=order.customer_id)
        )
    if order.ready_at is not None and order.fulfilment == Fulfilment.CLICK_AND_COLLECT:
        changes.append(SummaryChange(day=day_of(order.ready_at), location_id=order.location_id))
    if changes:
        SummaryChange.objects.bulk_create(changes)
        transaction.on_commit(_refresh_soon)


def summaries_note_return(order_return: OrderReturn) -> None:
    """A return was accepted (``orders.hooks`` callback): its day at its location is to be summed again."""
    SummaryChange.objects.create(day=day_of(order_return.created_at), location_id=order_return.location_id)
    transaction.on_commit(_refresh_soon)


def summaries_note_customers(customer_ids: Iterable[int]) -> None:
    """These customers' orders moved (a merge) or one opened a loyalty account: their histories,
    and the days of their completed orders (whose members' figures may change), are to be summed
    again."""
    customer_ids = sorted(set(customer_ids))
    changes = [SummaryChange(customer_id=pk) for pk in customer_ids]
    cells = (
        Order.objects.filter(customer_id__in=customer_ids, status__in=COMPLETED_STATUSES, completed_at__isnull=False)
        .values_list("completed_at", "location_id")
        .order_by()
    )
    changes += [SummaryChange(day=day_of(completed_at), location_id=location_id) for completed_at, location_id in cells]
    SummaryChange.objects.bulk_create(changes)
    transaction.on_commit(_refresh_soon)


def account_opened(account) -> None:
    """``loyalty.hooks`` callback: a new member's orders from now on are members'."""
    summaries_note_customers([account.customer_id])


def customers_merged(survivor, merged) -> None:
    """Merge step (``customers.merge``): the merged customer's orders now belong to the survivor."""
    summaries_note_customers([survivor.pk, merged.pk])


def _refresh_soon() -> None:
    # Guarded: a refresh that cannot be queued must not fail the change; the every-minute beat folds it in.
    enqueue(registered_task("omni.reports.tasks.refresh_report_summaries"))


# --- Computing ---------------------------------------------------------------------------


def _lock(*, wait: bool) -> bool:
    return advisory_xact_lock(LOCK_KEY, wait=wait)


def _daily_sales(first_day: datetime.date, last_day: datetime.date, location_ids=None) -> list[DailySales]:
    """The DailySales rows of these days (and locations): one grouped query over the orders, one
    over their lines, merged by key."""
    day = TruncDate("completed_at", tzinfo=report_timezone())
    ship_to_store = Exists(OrderAllocation.objects.filter(line__order=OuterRef("pk"), transfer__isnull=False))
    orders = (
        Order.objects.filter(_completed_between(first_day, last_day), _at_locations(location_ids))
        .annotate(day=day)
        .values("day", "channel", "location_id", "created_by_id", "fulfilment")
        .annotate(
            orders=Count("pk"),
            customer_orders=Count("customer_id"),
            customer_revenue=Coalesce(Sum(NET_PAID, filter=Q(customer__isnull=False)), ZERO),
            member_orders=Count("pk", filter=MEMBER_ORDER),
            member_revenue=Coalesce(Sum(NET_PAID, filter=MEMBER_ORDER), ZERO),
            ship_to_store_orders=Count("pk", filter=Q(ship_to_store, fulfilment=Fulfilment.CLICK_AND_COLLECT)),
            revenue=Coalesce(Sum(NET_PAID), ZERO),
        )
        .order_by()
    )
    lines = (
        OrderLine.objects.filter(
            _completed_between(first_day, last_day, "order__"), _at_locations(location_ids, "order__")
        )
        .annotate(day=TruncDate("order__completed_at", tzinfo=report_timezone()))
        .values("day", "order__channel", "order__location_id", "order__created_by_id", "order__fulfilment")
        .annotate(units=Sum(KEPT_UNITS), handed_over=Sum(HANDED_OVER_UNITS), returned=Sum("returned_quantity"))
        .order_by()
    )
    rows: dict[tuple, DailySales] = {}
    for row in orders:
        key = (row["day"], row["channel"], row["location_id"], row["created_by_id"], row["fulfilment"])
        rows[key] = DailySales(
            day=row["day"],
            channel=row["channel"],
            location_id=row["location_id"],
            employee_id=row["created_by_id"],
            fulfilment=row["fulfilment"],
            orders=row["orders"],
            customer_orders=row["customer_orders"],
            customer_revenue=row["customer_revenue"],
            member_orders=row["member_orders"],
            member_revenue=row["member_revenue"],
            ship_to_store_orders=row["ship_to_store_orders"],
            revenue=row["revenue"],
        )
    for row in lines:
        key = (
            row["day"],
            row["order__channel"],
            row["order__location_id"],
            row["order__created_by_id"],
            row["order__fulfilment"],
        )
        summary = rows[key]
        summary.units, summary.handed_over, summary.returned = row["units"], row["handed_over"], row["returned"]
    return list(rows.values())


def _product_sales(first_day: datetime.date, last_day: datetime.date, location_ids=None) -> QuerySet:
    """The DailyProductSales rows of these days (and locations), as a query for INSERT ... SELECT."""
    return (
        OrderLine.objects.filter(
            _completed_between(first_day, last_day, "order__"), _at_locations(location_ids, "order__")
        )
        .annotate(day=TruncDate("order__completed_at", tzinfo=report_timezone()))
        .values("day", "order__channel", "order__location_id", "product_id")
        .annotate(units=Sum(KEPT_UNITS), value=Coalesce(Sum(KEPT_VALUE), ZERO))
        .order_by()
    )


def _daily_pickups(first_day: datetime.date, last_day: datetime.date, location_ids=None) -> list[DailyPickups]:
    """The DailyPickups rows of these days (and locations): one grouped query."""
    rows = (
        Order.objects.filter(
            Q(fulfilment=Fulfilment.CLICK_AND_COLLECT)
            & _between("ready_at", first_day, last_day)
            & _at_locations(location_ids)
        )
        .annotate(day=TruncDate("ready_at", tzinfo=report_timezone()))
        .values("day", "channel", "location_id")
        .annotate(
            n_ready=Count("pk"),
            to_ready=Sum(ExpressionWrapper(F("ready_at") - F("created_at"), output_field=DurationField())),
            n_collected=Count("pk", filter=Q(status__in=COMPLETED_STATUSES)),
            n_expired=Count("pk", filter=Q(status=OrderStatus.EXPIRED)),
            n_cancelled=Count("pk", filter=Q(status=OrderStatus.CANCELLED)),
        )
        .order_by()
    )
    return [
        DailyPickups(
            day=row["day"],
            channel=row["channel"],
            location_id=row["location_id"],
            ready=row["n_ready"],
            time_to_ready=as_duration(row["to_ready"]),
            collected=row["n_collected"],
            expired=row["n_expired"],
            cancelled=row["n_cancelled"],
        )
        for row in rows
    ]


def as_duration(value) -> datetime.timedelta:
    """A summed duration as a timedelta (nothing summed: zero)."""
    if value is None:
        return datetime.timedelta()
    if isinstance(value, datetime.timedelta):
        return value
    return datetime.timedelta(microseconds=int(value))  # SQLite sums durations in microseconds


def _daily_returns(first_day: datetime.date, last_day: datetime.date, location_ids=None) -> QuerySet:
    """The DailyReturns rows of these days (and locations), as a query for INSERT ... SELECT."""
    return (
        ReturnLine.objects.filter(
            _between("order_return__created_at", first_day, last_day) & _at_locations(location_ids, "order_return__")
        )
        .annotate(day=TruncDate("order_return__created_at", tzinfo=report_timezone()))
        .values("day", "order_return__location_id", "order_return__order__channel", "order_return__reason")
        .annotate(
            n_returns=Count("order_return", distinct=True),
            n_units=Coalesce(Sum("quantity"), 0),
            n_value=Coalesce(Sum("amount"), ZERO),
        )
        .order_by()
    )


def _customer_sales(customer_ids: Iterable[int] | None) -> QuerySet:
    """The CustomerSales rows of these customers (all with None), as a query for INSERT ... SELECT."""
    orders = Order.objects.filter(status__in=COMPLETED_STATUSES, customer__isnull=False)
    if customer_ids is not None:
        orders = orders.filter(customer_id__in=sorted(customer_ids))
    return (
        orders.values("customer_id")
        .annotate(
            orders=Count("pk"),
            revenue=Coalesce(Sum(NET_PAID), ZERO),
            first_completed_at=Min("completed_at"),
            last_completed_at=Max("completed_at"),
            channels=Count("channel", distinct=True),
            joined_at=Min("customer__loyalty_accounts__opened_at"),
            last_as_guest_at=Max("completed_at", filter=GUEST_ORDER),
        )
        .order_by()
    )


def _insert_select(model, columns: list[str], query: QuerySet) -> None:
    """INSERT INTO the model's table the rows of ``query``, whose SELECT lists ``columns`` in order
    (Django 5.2 keeps the order of ``values()``), without bringing them into Python."""
    sql, params = query.query.sql_with_params()
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(model._meta.get_field(name).column) for name in columns)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} ({names}) {sql}", params)


PRODUCT_COLUMNS = ["day", "channel", "location", "product", "units", "value"]
MONTH_COLUMNS = ["month", "product", "units", "value"]
RETURN_COLUMNS = ["day", "location", "order_channel", "reason", "returns", "units", "value"]
CUSTOMER_COLUMNS = [
    "customer",
    "orders",
    "revenue",
    "first_completed_at",
    "last_completed_at",
    "channels",
    "joined_at",
    "last_as_guest_at",
]


DAILY_SUMMARIES = (DailySales, DailyProductSales, DailyPickups, DailyReturns)


def _write_days(first_day: datetime.date, last_day: datetime.date, location_ids=None) -> None:
    """Replace the day summaries of these days (and locations) with sums of the orders now, and
    the month summaries of the products whose days changed."""
    where = Q(day__gte=first_day, day__lte=last_day) & _at_locations(location_ids)
    products = None if location_ids is None else _products_in(where)
    for model in DAILY_SUMMARIES:
        model.objects.filter(where).delete()
    DailySales.objects.bulk_create(_daily_sales(first_day, last_day, location_ids), batch_size=2000)
    DailyPickups.objects.bulk_create(_daily_pickups(first_day, last_day, location_ids), batch_size=2000)
    _insert_select(DailyProductSales, PRODUCT_COLUMNS, _product_sales(first_day, last_day, location_ids))
    _insert_select(DailyReturns, RETURN_COLUMNS, _daily_returns(first_day, last_day, location_ids))
    if products is not None:
        products |= _products_in(where)
    _write_months(first_day, last_day, products)


def _products_in(where: Q) -> set[int | None]:
    return set(DailyProductSales.objects.filter(where).values_list("product_id", flat=True).distinct())


def _write_months(first_day: datetime.date, last_day: datetime.date, product_ids=None) -> None:
    """Replace the month summaries of the months of these days (of these products; all with
    None) with sums of their day summaries."""
    if product_ids is not None and not product_ids:
        return
    months = Q(month__gte=first_day.replace(day=1), month__lt=next_month(last_day))
    MonthlyProductSales.objects.filter(months, _among("product_id", product_ids)).delete()
    days = DailyProductSales.objects.filter(
        _among("product_id", product_ids), day__gte=first_day.replace(day=1), day__lt=next_month(last_day)
    )
    sums = (
        days.annotate(month=TruncMonth("day"))
        .values("month", "product_id")
        .annotate(units=Sum("units"), value=Sum("value"))
        .order_by()
    )
    _insert_select(MonthlyProductSales, MONTH_COLUMNS, sums)


def _write_customers(customer_ids: Iterable[int] | None) -> None:
    """Replace these customers' summaries (every customer's with None) with sums of their orders now."""
    if customer_ids is None:
        CustomerSales.objects.all().delete()
    else:
        customer_ids = sorted(set(customer_ids))
        if not customer_ids:
            return
        CustomerSales.objects.filter(customer_id__in=customer_ids).delete()
    _insert_select(CustomerSales, CUSTOMER_COLUMNS, _customer_sales(customer_ids))


def summaries_refresh_pending(*, wait: bool = True) -> int:
    """Fold every pending change into the summaries; returns how many changes were folded in.

    With ``wait=False`` (the Celery task) it gives up at once if another refresh is running: that
    one, the next minute's, or the dashboard's own refresh picks up what is left.
    """
    folded = 0
    while True:
        with transaction.atomic():
            if not _lock(wait=wait):
                return folded
            pending = SummaryChange.objects.order_by("pk").values_list("pk", "day", "location_id", "customer_id")
            changes = list(pending[:REFRESH_BATCH])
            if not changes:
                return folded
            by_day: dict[datetime.date, set] = {}
            for _pk, day, location_id, _customer_id in changes:
                if day is not None:
                    by_day.setdefault(day, set()).add(location_id)
            for day, location_ids in sorted(by_day.items()):
                _write_days(day, day, location_ids)
            _write_customers(customer_id for *_rest, customer_id in changes if customer_id is not None)
            SummaryChange.objects.filter(pk__in=[change[0] for change in changes]).delete()
        folded += len(changes)
        if len(changes) < REFRESH_BATCH:
            return folded


def _days_spanned() -> tuple[datetime.date | None, datetime.date | None]:
    """The first and last days anything summed happened on (orders placed, completed, made ready;
    returns accepted), or (None, None) without orders."""
    orders = Order.objects.aggregate(
        placed=Min("created_at"), completed=Min("completed_at"), ready=Min("ready_at"), last_placed=Max("created_at")
    )
    if orders["placed"] is None:
        return None, None
    ends = Order.objects.aggregate(completed=Max("completed_at"), ready=Max("ready_at"))
    ends["returned"] = OrderReturn.objects.aggregate(last=Max("created_at"))["last"]
    first = min(day_of(orders[key]) for key in ("placed", "completed", "ready") if orders[key] is not None)
    last = max(day_of(moment) for moment in (orders["last_placed"], *ends.values()) if moment is not None)
    return first, last


def summaries_rebuild(*, first_day: datetime.date | None = None, progress=None) -> None:
    """Recompute every summary from the orders (from ``first_day`` on, if given), a month of days
    per statement; ``progress(month)`` is called after each month."""
    with transaction.atomic():
        _lock(wait=True)
        SummaryChange.objects.all().delete()
        if first_day is None:
            for model in (*DAILY_SUMMARIES, MonthlyProductSales):
                model.objects.all().delete()
        first, last = _days_spanned()
        if first is not None:
            day = max(first, first_day or datetime.date.min)
            while day <= last:
                following = next_month(day)
                _write_days(day, min(following - datetime.timedelta(days=1), last))
                if progress:
                    progress(day)
                day = following
        _write_customers(None)
        if connection.vendor == "postgresql":  # fresh statistics for the planner after a bulk write
            with connection.cursor() as cursor:
                for model in (*DAILY_SUMMARIES, MonthlyProductSales, CustomerSales):
                    cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
