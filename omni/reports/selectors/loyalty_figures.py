"""Loyalty: members' and non-members' checks and frequency, the participation rate, then the KPIs
loyalty computes from its own ledger (``loyalty.kpis``)."""

from django.db.models import Sum, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _
from django.utils.translation import npgettext, pgettext

from loyalty import kpis as loyalty_kpis
from omni.core.formats import whole_points
from omni.reports.figures import Figure, ratio
from omni.reports.filters import ReportFilters
from omni.reports.selectors.common import ZERO, daily_sales, report_currency
from omni.reports.selectors.customers import customer_totals
from omni.reports.summaries import MONEY_FIELD


def loyalty_period(filters: ReportFilters) -> tuple[loyalty_kpis.Period | None, str]:
    """The loyalty KPIs' period for these filters, or None with the reason when they cannot be
    limited to what the user may see (the KPIs take one store, not a list or a city)."""
    visible, store_id = filters.visible, filters.store_id
    if store_id is None and not visible.every and len(visible.ids) == 1:
        store_id = next(iter(visible.ids))
    if not (visible.every or store_id is not None and visible.includes(store_id)):
        return None, _("Choose one of your stores to see the loyalty KPIs.")
    note = _("The loyalty KPIs do not filter by city.") if filters.city else ""
    return loyalty_kpis.Period(filters.date_from, filters.date_to, channel=filters.channel, store_id=store_id), note


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
    currency = report_currency()
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
            pgettext("unit after a fractional number", "orders per customer"),
            _(
                "Orders completed in the period while the customer's account was open ÷ customers who completed "
                "such an order in the period."
            ),
        ),
        Figure(
            "non_members_purchase_frequency",
            _("Non-members' purchase frequency"),
            ratio(f["guest_orders"], f["guest_buyers"]),
            pgettext("unit after a fractional number", "orders per customer"),
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
    figures += [_kpi_figure(kpi) for kpi in loyalty_kpis.loyalty_kpis(period)]
    return figures, note


#: Loyalty's KPIs counted in points: written as whole points, with the noun for that number.
POINTS_KPIS = {"average_redemption"}


def _kpi_figure(kpi: loyalty_kpis.Kpi) -> Figure:
    if kpi.key in POINTS_KPIS:
        whole = None if kpi.value is None else whole_points(kpi.value)
        unit = npgettext("unit after a count", "point", "points", whole if whole is not None else 0)
        return Figure(kpi.key, kpi.label, kpi.value, unit, kpi.formula, kind="points")
    return Figure(kpi.key, kpi.label, kpi.value, kpi.unit, kpi.formula)
