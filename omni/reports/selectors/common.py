"""What every section of the dashboard starts from: the period's completed orders and daily sales
rows at the places of the filters, the currency, and how channels and locations are named."""

from decimal import Decimal

from django.conf import settings
from django.db.models import QuerySet

from inventory.models import Location
from omni.core.channels import SALES_CHANNEL_CHOICES
from omni.reports.filters import ReportFilters
from omni.reports.models import DailySales
from orders.models import COMPLETED_STATUSES, Order

ZERO = Decimal("0.00")


def report_currency() -> str:
    return settings.OMNI_CURRENCY


def completed_orders(filters: ReportFilters) -> QuerySet[Order]:
    """Orders completed in the period, at the places and in the channel of the filters."""
    return Order.objects.filter(
        status__in=COMPLETED_STATUSES, completed_at__gte=filters.start, completed_at__lt=filters.end
    ).filter(filters.place())


def daily_sales(filters: ReportFilters) -> QuerySet[DailySales]:
    """The summary rows of the orders completed in the period, at the places and in the channel of
    the filters (``omni.reports.summaries``: the same definitions, summed per day)."""
    return DailySales.objects.filter(day__gte=filters.date_from, day__lte=filters.date_to).filter(filters.place())


def channel_label(value) -> str:
    """The channel's name, as the order's channel choices give it."""
    return str(dict(SALES_CHANNEL_CHOICES).get(value, value))


def location_labels(ids) -> dict:
    """{location id: "code — name"} for the ids given, in one query (None is left out)."""
    ids = {pk for pk in ids if pk is not None}
    return {
        pk: f"{code} — {name}"
        for pk, code, name in Location.objects.filter(pk__in=ids).values_list("pk", "code", "name")
    }
