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


# --- The figures the rates are made of ----------------------------------------------------

EARNED = Q(kind__in=[EntryKind.EARN, EntryKind.BONUS]) & ~Q(bonus_type=BonusType.REFUND)
REDEEMED = Q(kind=EntryKind.REDEEM)


@dataclass(frozen=True)
class LedgerFigures:
    """What the rates are made of, for one period: points earned on orders and granted as bonuses
    (before any reversal; refunds paid in points are money given back, not points earned); points
    spent (before points given back on returns), in how many redemptions and for what money; and
    points expired, by the channel and store where they were earned."""

    earned: int
    redeemed: int
    redemptions: int
    redeemed_value: Decimal
    expired: int


def ledger_figures(period: Period) -> LedgerFigures:
    """The period's ledger figures in two aggregate queries: the entries made in the period, and
    the expiries' allocations to the lots they expired."""
    entries = PointsEntry.objects.filter(period.where()).aggregate(
        earned=Coalesce(Sum("points", filter=EARNED), 0),
        redeemed=Coalesce(Sum("points", filter=REDEEMED), 0),
        redemptions=Count("pk", filter=REDEEMED),
        redeemed_value=Coalesce(Sum("amount", filter=REDEEMED), Decimal(0)),
    )
    expired = Allocation.objects.filter(
        consumer__kind=EntryKind.EXPIRY,
        consumer__created_at__gte=period.start,
        consumer__created_at__lt=period.end,
    ).filter(period.place("lot__"))
    return LedgerFigures(
        earned=int(entries["earned"]),
        redeemed=-int(entries["redeemed"]),
        redemptions=entries["redemptions"],
        redeemed_value=Decimal(entries["redeemed_value"]),
        expired=int(expired.aggregate(total=Coalesce(Sum("points"), 0))["total"]),
    )


# --- The KPIs ---------------------------------------------------------------------------


def redemption_rate(figures: LedgerFigures) -> Kpi:
    """Redemption rate = points redeemed in the period / points earned in the period × 100 %."""
    return Kpi(
        "redemption_rate",
        str(_("Redemption rate")),
        str(_("points spent in the period ÷ points earned and granted as bonuses in the period × 100 %")),
        _ratio(figures.redeemed, figures.earned, percent=True),
        "%",
        Decimal(figures.redeemed),
        Decimal(figures.earned),
    )


def breakage_rate(figures: LedgerFigures) -> Kpi:
    """Breakage rate = points expired in the period / points earned in the period × 100 %."""
    return Kpi(
        "breakage_rate",
        str(_("Breakage rate")),
        str(_("points expired in the period ÷ points earned and granted as bonuses in the period × 100 %")),
        _ratio(figures.expired, figures.earned, percent=True),
        "%",
        Decimal(figures.expired),
        Decimal(figures.earned),
    )


def average_redemption(figures: LedgerFigures) -> Kpi:
    """Average points per redemption = points redeemed / number of redemptions (transactions that used points)."""
    return Kpi(
        "average_redemption",
        str(_("Average points per redemption")),
        str(_("points spent in the period ÷ number of purchases that used points")),
        _ratio(figures.redeemed, figures.redemptions),
        str(_("points")),
        Decimal(figures.redeemed),
        Decimal(figures.redemptions),
    )


def cost_per_point(figures: LedgerFigures) -> Kpi:
    """Cost per point = money value of the points redeemed / points redeemed."""
    return Kpi(
        "cost_per_point",
        str(_("Cost per point")),
        str(_("money value of the points spent in the period ÷ points spent in the period")),
        _ratio(figures.redeemed_value, figures.redeemed),
        settings.OMNI_CURRENCY,
        figures.redeemed_value,
        Decimal(figures.redeemed),
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


#: The KPIs made of the ledger figures, in the order the dashboard shows them (after tenure).
LEDGER_KPIS: tuple[Callable[[LedgerFigures], Kpi], ...] = (
    redemption_rate,
    breakage_rate,
    average_redemption,
    cost_per_point,
)


def loyalty_kpis(period: Period) -> list[Kpi]:
    """Every KPI for the period, in the order the dashboard shows them: three queries."""
    figures = ledger_figures(period)
    return [tenure(period), *(kpi(figures) for kpi in LEDGER_KPIS)]
