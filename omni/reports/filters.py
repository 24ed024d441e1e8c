"""What a report is about: a period, a channel, a store, a city, and the locations the user sees."""

import datetime
from dataclasses import dataclass, field, replace

from django.db.models import Q
from django.utils import timezone

from inventory.selectors import VisibleLocations
from omni.core.dates import LocalDays


class Granularity:
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    CHOICES = (DAY, WEEK, MONTH)


@dataclass(frozen=True)
class ReportFilters(LocalDays):
    """The filters of a report. ``location_ids`` are the user's ``VisibleLocations``: None for head
    office (every location), else the ids of the locations the user works at; figures about places
    are limited to them."""

    date_from: datetime.date
    date_to: datetime.date
    channel: str = ""
    store_id: int | None = None
    city: str = ""
    location_ids: frozenset[int] | None = None
    granularity: str = ""
    churn_days: int = 180
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def visible(self) -> VisibleLocations:
        return VisibleLocations(self.location_ids)

    @property
    def days(self) -> int:
        return (self.date_to - self.date_from).days + 1

    def previous(self) -> "ReportFilters":
        """The period of the same length just before this one."""
        date_to = self.date_from - datetime.timedelta(days=1)
        return replace(self, date_from=date_to - datetime.timedelta(days=self.days - 1), date_to=date_to)

    @property
    def bucket(self) -> str:
        """Day, week or month: chosen, else by the length of the period."""
        if self.granularity in Granularity.CHOICES:
            return self.granularity
        if self.days <= 62:
            return Granularity.DAY
        if self.days <= 190:
            return Granularity.WEEK
        return Granularity.MONTH

    @property
    def everywhere(self) -> bool:
        """Whether the figures are the whole business's: every channel and location."""
        return not self.channel and not self.store_id and not self.city and self.location_ids is None

    def place(self, prefix: str = "", *, channel: bool = True) -> Q:
        """Rows whose location (``<prefix>location``) and channel match the filters and the user's
        locations."""
        condition = Q()
        if channel and self.channel:
            condition &= Q(**{f"{prefix}channel": self.channel})
        condition &= self.location(f"{prefix}location")
        return condition

    def location(self, lookup: str) -> Q:
        """Rows whose location at ``lookup`` matches the store and city filters and the user's locations."""
        condition = Q()
        if self.location_ids is not None:
            condition &= Q(**{f"{lookup}_id__in": sorted(self.location_ids)})
        if self.store_id:
            condition &= Q(**{f"{lookup}_id": self.store_id})
        if self.city:
            condition &= Q(**{f"{lookup}__city__iexact": self.city})
        return condition

    def as_query(self) -> dict:
        """The filters as they are stored on an export job (without the user's locations)."""
        return {
            "date_from": self.date_from.isoformat(),
            "date_to": self.date_to.isoformat(),
            "channel": self.channel,
            "store": self.store_id or "",
            "city": self.city,
            "granularity": self.granularity,
        }


def default_period(today: datetime.date | None = None) -> tuple[datetime.date, datetime.date]:
    """The last 30 days, today included."""
    today = today or timezone.localdate()
    return today - datetime.timedelta(days=29), today
