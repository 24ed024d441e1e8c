"""The loyalty KPIs read from the points ledger, for a period, a channel and a store.

Each KPI is a function with its formula written in its docstring and in ``formula`` (shown next
to the figure on the managers' dashboard and in its exports). Every figure is read from the
points ledger and the accounts, in a few aggregate queries.

Entries are counted in the period by when they were made; the channel and the store of an entry
are those of the order that caused it. Expired points are counted by the channel and store where
they were earned (through the allocations of the expiry entries to the lots).

The KPIs that need every customer's orders (participation rate, members' and non-members' average
check and purchase frequency) are computed from the orders by the dashboard (``omni.reports``),
which shows them with these: loyalty does not read orders.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db.models import Avg, Count, F, Q, Sum
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from loyalty.models import Account, AccountStatus, Allocation, BonusType, EntryKind, PointsEntry
from omni.core.dates import LocalDays

TWO_PLACES = Decimal("0.01")


@dataclass(frozen=True)
class Period(LocalDays):
    date_from: datetime.date
    date_to: datetime.date
    channel: str = ""
    store_id: int | None = None

    def where(self, prefix: str = "") -> Q:
        condition = Q(**{f"{prefix}created_at__gte": self.start, f"{prefix}created_at__lt": self.end})
        return condition & self.place(prefix)

    def place(self, prefix: str = "") -> Q:
        condition = Q()
        if self.channel:
            condition &= Q(**{f"{prefix}channel": self.channel})
        if self.store_id:
            condition &= Q(**{f"{prefix}store_id": self.store_id})
        return condition


@dataclass(frozen=True)
class Kpi:
    key: str
    label: str
    formula: str
    value: Decimal | None
    unit: str
    numerator: Decimal | None = None
    denominator: Decimal | None = None


def _ratio(numerator, denominator, *, percent: bool = False) -> Decimal | None:
    if not denominator:
        return None
    value = Decimal(numerator) / Decimal(denominator) * (100 if percent else 1)
    return value.quantize(TWO_PLACES, rounding=ROUND_HALF_UP)


def _sum(queryset, field: str) -> Decimal:
    return Decimal(queryset.aggregate(total=Coalesce(Sum(field), 0))["total"])


# --- The figures the rates are made of ----------------------------------------------------


def points_earned(period: Period) -> int:
    """Points earned on orders and granted as bonuses in the period (before any reversal); refunds
    paid in points are money given back, not points earned."""
    entries = PointsEntry.objects.filter(period.where(), kind__in=[EntryKind.EARN, EntryKind.BONUS]).exclude(
        bonus_type=BonusType.REFUND
    )
    return int(_sum(entries, "points"))


def points_redeemed(period: Period) -> int:
    """Points spent in the period (before points given back on returns)."""
    return -int(_sum(PointsEntry.objects.filter(period.where(), kind=EntryKind.REDEEM), "points"))


def points_expired(period: Period) -> int:
    """Points that expired in the period, by the channel and store where they were earned."""
    allocations = Allocation.objects.filter(
        consumer__kind=EntryKind.EXPIRY,
        consumer__created_at__gte=period.start,
        consumer__created_at__lt=period.end,
    ).filter(period.place("lot__"))
    return int(_sum(allocations, "points"))


# --- The KPIs ---------------------------------------------------------------------------


def redemption_rate(period: Period) -> Kpi:
    """Redemption rate = points redeemed in the period / points earned in the period × 100 %."""
    redeemed, earned = points_redeemed(period), points_earned(period)
    return Kpi(
        "redemption_rate",
        str(_("Redemption rate")),
        str(_("points spent in the period ÷ points earned and granted as bonuses in the period × 100 %")),
        _ratio(redeemed, earned, percent=True),
        "%",
        Decimal(redeemed),
        Decimal(earned),
    )


def breakage_rate(period: Period) -> Kpi:
    """Breakage rate = points expired in the period / points earned in the period × 100 %."""
    expired, earned = points_expired(period), points_earned(period)
    return Kpi(
        "breakage_rate",
        str(_("Breakage rate")),
        str(_("points expired in the period ÷ points earned and granted as bonuses in the period × 100 %")),
        _ratio(expired, earned, percent=True),
        "%",
        Decimal(expired),
        Decimal(earned),
    )


def average_redemption(period: Period) -> Kpi:
    """Average points per redemption = points redeemed / number of redemptions (transactions that used points)."""
    redemptions = PointsEntry.objects.filter(period.where(), kind=EntryKind.REDEEM)
    figures = redemptions.aggregate(points=Coalesce(Sum("points"), 0), count=Count("pk"))
    redeemed = -int(figures["points"])
    return Kpi(
        "average_redemption",
        str(_("Average points per redemption")),
        str(_("points spent in the period ÷ number of purchases that used points")),
        _ratio(redeemed, figures["count"]),
        str(_("points")),
        Decimal(redeemed),
        Decimal(figures["count"]),
    )


def cost_per_point(period: Period) -> Kpi:
    """Cost per point = money value of the points redeemed / points redeemed."""
    redemptions = PointsEntry.objects.filter(period.where(), kind=EntryKind.REDEEM)
    figures = redemptions.aggregate(value=Coalesce(Sum("amount"), Decimal(0)), points=Coalesce(Sum("points"), 0))
    redeemed = -int(figures["points"])
    return Kpi(
        "cost_per_point",
        str(_("Cost per point")),
        str(_("money value of the points spent in the period ÷ points spent in the period")),
        _ratio(figures["value"], redeemed),
        settings.OMNI_CURRENCY,
        Decimal(figures["value"]),
        Decimal(redeemed),
    )


def tenure(period: Period) -> Kpi:
    """Tenure = average of (end of the period − the day each member joined), over the members who
    joined by the end of the period (in the channel and store where they joined), in days."""
    accounts = Account.objects.filter(opened_at__lt=period.end).exclude(
        status=AccountStatus.CLOSED, closed_at__lt=period.end
    )
    if period.channel:
        accounts = accounts.filter(channel=period.channel)
    if period.store_id:
        accounts = accounts.filter(store_id=period.store_id)
    figures = accounts.aggregate(count=Count("pk"), joined=Avg(F("opened_at") - period.end))
    days = None
    if figures["count"]:
        offset = figures["joined"]
        if not isinstance(offset, datetime.timedelta):  # some backends answer in microseconds
            offset = datetime.timedelta(microseconds=float(offset))
        days = Decimal(-offset.total_seconds() / 86400).quantize(TWO_PLACES, rounding=ROUND_HALF_UP)
    return Kpi(
        "tenure",
        str(_("Tenure")),
        str(_("average of (end of the period − the day each member joined), over members who joined by then")),
        days,
        str(_("days")),
        None,
        Decimal(figures["count"]),
    )


KPIS: tuple[Callable[[Period], Kpi], ...] = (
    tenure,
    redemption_rate,
    breakage_rate,
    average_redemption,
    cost_per_point,
)


def loyalty_kpis(period: Period) -> list[Kpi]:
    """Every KPI for the period, in the order the dashboard shows them."""
    return [kpi(period) for kpi in KPIS]
