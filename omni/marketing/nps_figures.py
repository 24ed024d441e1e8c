"""NPS figures: promoters (9–10) less detractors (0–6), in per cent of the answers, by store,
sales channel and month, with the number of answers and the share of requests answered.

A request counts in the period it was sent in (the local day of ``sent_at``), and so does its
answer, whenever given: the share answered is of the same requests. ``nps_cube`` reads every
figure in one aggregate query grouped by store, channel and month; ``nps_rollup`` and
``nps_total`` add its cells up for a table or a total, without another query. The dashboard
(``omni.reports.selectors.nps``) and the API (``omni.marketing.api.nps``) both read it.
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, DateField, Q
from django.db.models.functions import Trunc
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from omni.core.channels import Channel
from omni.core.dates import local_day_start
from omni.marketing.models import NpsRequest, NpsStatus

PROMOTER_FROM = 9
DETRACTOR_UP_TO = 6
ONE_PLACE = Decimal("0.1")
GROUPS = ("store", "channel", "month")


def _percent(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(ONE_PLACE, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class NpsFigures:
    sent: int = 0
    answered: int = 0
    promoters: int = 0
    detractors: int = 0

    @property
    def passives(self) -> int:
        return self.answered - self.promoters - self.detractors

    @property
    def nps(self) -> Decimal | None:
        """Promoters less detractors in per cent of the answers (−100 to 100), None without answers."""
        return _percent(self.promoters - self.detractors, self.answered)

    @property
    def answered_percent(self) -> Decimal | None:
        return _percent(self.answered, self.sent)

    def __add__(self, other: "NpsFigures") -> "NpsFigures":
        return NpsFigures(
            self.sent + other.sent,
            self.answered + other.answered,
            self.promoters + other.promoters,
            self.detractors + other.detractors,
        )


@dataclass(frozen=True)
class NpsCell:
    """The figures of one store, channel and month."""

    store_id: int | None
    store_code: str
    store_name: str
    channel: str
    month: datetime.date
    figures: NpsFigures


@dataclass(frozen=True)
class NpsRow:
    key: str
    label: str
    figures: NpsFigures


def nps_cube(
    *,
    date_from: datetime.date,
    date_to: datetime.date,
    location_ids: Iterable[int] | None = None,
    store_id: int | None = None,
    channel: str = "",
    city: str = "",
) -> list[NpsCell]:
    """The figures of the requests sent from ``date_from`` to ``date_to`` (both included), per
    store, channel and month, in one query. ``location_ids`` limits them to the stores a user sees."""
    requests = NpsRequest.objects.filter(
        status__in=(NpsStatus.SENT, NpsStatus.ANSWERED),
        sent_at__gte=local_day_start(date_from),
        sent_at__lt=local_day_start(date_to + datetime.timedelta(days=1)),
    )
    if location_ids is not None:
        requests = requests.filter(store_id__in=sorted(location_ids))
    if store_id:
        requests = requests.filter(store_id=store_id)
    if channel:
        requests = requests.filter(channel=channel)
    if city:
        requests = requests.filter(store__city__iexact=city)
    month = Trunc("sent_at", "month", output_field=DateField(), tzinfo=timezone.get_current_timezone())
    rows = (
        requests.annotate(month=month)
        .values("store_id", "store__code", "store__name", "channel", "month")
        .annotate(
            sent=Count("pk"),
            answered=Count("feedback_id"),
            promoters=Count("pk", filter=Q(feedback__score__gte=PROMOTER_FROM)),
            detractors=Count("pk", filter=Q(feedback__score__lte=DETRACTOR_UP_TO)),
        )
        .order_by()
    )
    return [
        NpsCell(
            row["store_id"],
            row["store__code"] or "",
            row["store__name"] or "",
            row["channel"],
            row["month"],
            NpsFigures(row["sent"], row["answered"], row["promoters"], row["detractors"]),
        )
        for row in rows
    ]


def nps_total(cells: Iterable[NpsCell]) -> NpsFigures:
    return sum((cell.figures for cell in cells), NpsFigures())


def _channel_label(value: str) -> str:
    return str(Channel(value).label) if value in Channel.values else value


def nps_rollup(cells: Iterable[NpsCell], group: str) -> list[NpsRow]:
    """The cells added up by ``group`` (store, channel or month): stores and channels by name,
    months in order."""
    if group not in GROUPS:
        raise ValueError(group)
    sums: dict[str, NpsFigures] = {}
    labels: dict[str, str] = {}
    order: dict[str, object] = {}
    for cell in cells:
        if group == "store":
            key, label = cell.store_code, cell.store_name or _("no store")
            order[key] = label.casefold()
        elif group == "channel":
            key, label = cell.channel, _channel_label(cell.channel)
            order[key] = label.casefold()
        else:
            key, label = cell.month.strftime("%Y-%m"), date_format(cell.month, "YEAR_MONTH_FORMAT")
            order[key] = key
        sums[key] = sums.get(key, NpsFigures()) + cell.figures
        labels[key] = label
    return [NpsRow(key, labels[key], sums[key]) for key in sorted(sums, key=lambda key: (order[key], key))]
