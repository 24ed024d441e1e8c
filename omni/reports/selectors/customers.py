"""Customers: new and returning, repeat purchases, frequency, churn, lifetime value, the omnichannel
effect, and (in the same pass) how many bought as loyalty members and as guests."""

import datetime

from django.db import connections
from django.db.models import Count, F, Max, Min, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import npgettext, pgettext

from loyalty.models import Account
from omni.reports.figures import Column, Figure, Table, ratio, sum_money
from omni.reports.filters import ReportFilters
from omni.reports.models import CustomerSales
from omni.reports.selectors.common import ZERO, completed_orders, daily_sales, report_currency
from omni.reports.summaries import GUEST_ORDER, MEMBER_ORDER, MONEY_FIELD, NET_PAID
from orders.models import COMPLETED_STATUSES, Order


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
    """Every customer figure in one statement over the customers' completed orders up to the end
    of the period, at the places of the filters (the channel filter applies to the period's
    figures only: a customer's history and channels are counted across every channel).

    The orders are grouped by customer with plain aggregates only (an index on the customer and
    the completion, ``order_customer_completed_idx``, hands them over in that order), and each
    customer's loyalty account is joined once per customer, not once per order. A member's order
    is one completed with the account open (``MEMBER_ORDER``), so a customer bought as a member in
    the period when the account opened by their last order of the period, and as a guest when
    they had no account or it opened after their first order of the period."""
    in_period = Q(completed_at__gte=filters.start)
    if filters.channel:
        in_period &= Q(channel=filters.channel)
    # Only columns of the index (COUNT(customer_id), not COUNT(id)), and in its order, so that
    # PostgreSQL aggregates each customer as it reads the index instead of hashing every order.
    per_customer = (
        Order.objects.filter(status__in=COMPLETED_STATUSES, customer__isnull=False, completed_at__lt=filters.end)
        .filter(filters.place(channel=False))
        .values("customer_id")
        .annotate(
            n=Count("customer_id"),
            spent=Sum(NET_PAID),
            first_at=Min("completed_at"),
            last_at=Max("completed_at"),
            period_n=Count("customer_id", filter=in_period),
            period_first=Min("completed_at", filter=in_period),
            period_last=Max("completed_at", filter=in_period),
            # MIN(channel) < MAX(channel) tells "two channels or more" without a sort per customer.
            channel_min=Min("channel"),
            channel_max=Max("channel"),
        )
        .order_by("customer_id")
    )
    connection = connections[per_customer.db]  # the replica inside reporting_reads()
    inner, params = per_customer.query.get_compiler(connection=connection).as_sql()
    moment = connection.ops.adapt_datetimefield_value
    cutoff = moment(filters.end - datetime.timedelta(days=filters.churn_days))
    start, end = moment(filters.start), moment(filters.end)
    account, quote = Account._meta, connection.ops.quote_name
    opened = "a." + quote(account.get_field("opened_at").column)
    one, several = "c.channel_min = c.channel_max", "c.channel_min < c.channel_max"
    bought = "c.period_n > 0"
    counts = {
        "buyers": ("1", "1=1"),
        "repeaters": ("1", "c.n >= 2"),
        "churned": ("1", "c.last_at < %s"),
        "one_customers": ("1", one),
        "one_orders": ("c.n", one),
        "several_customers": ("1", several),
        "several_orders": ("c.n", several),
        "period_customers": ("1", bought),
        "period_orders": ("c.period_n", "1=1"),
        "new": ("1", f"{bought} AND c.first_at >= %s"),
        "returning": ("1", f"{bought} AND c.first_at < %s"),
        "participants": ("1", f"{bought} AND {opened} < %s"),
        "member_buyers": ("1", f"{opened} <= c.period_last"),
        "guest_buyers": ("1", f"{bought} AND ({opened} IS NULL OR {opened} > c.period_first)"),
    }
    sums = {"total_spent": "1=1", "one_spent": one, "several_spent": several}
    columns = [f"COALESCE(SUM(CASE WHEN {when} THEN {what} ELSE 0 END), 0)" for what, when in counts.values()]
    columns += [f"SUM(CASE WHEN {when} THEN c.spent END)" for when in sums.values()]
    sql = (
        f"SELECT {', '.join(columns)} FROM ({inner}) c LEFT JOIN {quote(account.db_table)} a "
        f"ON a.{quote(account.get_field('customer').column)} = c.customer_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [cutoff, start, start, end, *params])
        row = cursor.fetchone()
    figures = dict(zip(counts, (int(value) for value in row[: len(counts)]), strict=True))
    figures |= {key: sum_money(value) for key, value in zip(sums, row[len(counts) :], strict=True)}
    return figures


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
    return _customer_figures(filters, f), _omnichannel(f)


def _customer_figures(filters: ReportFilters, f: dict) -> list[Figure]:
    currency = report_currency()
    return [
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
            pgettext("unit after a fractional number", "orders per customer"),
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


def _omnichannel(f: dict) -> Table:
    """Customers who bought in one channel against those who bought in several."""
    return Table(
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
