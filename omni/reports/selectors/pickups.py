"""Click-and-collect: orders made ready for pickup, how long that took, and what became of them."""

import datetime
from decimal import Decimal

from django.db.models import Sum
from django.utils.translation import gettext as _

from omni.reports.figures import Column, Figure, Table, ratio
from omni.reports.filters import ReportFilters
from omni.reports.models import DailyPickups
from omni.reports.summaries import as_duration

COUNTS = ("ready", "collected", "expired", "cancelled")


def click_and_collect(filters: ReportFilters) -> tuple[list[Figure], Table]:
    """Orders made ready for pickup in the period, by store, and what became of them: one query
    over the daily pickups summary."""
    rows = _pickups_by_store(filters)
    total = {name: sum(row[name] for row in rows) for name in COUNTS}
    total["to_ready"] = sum((as_duration(row["to_ready"]) for row in rows), datetime.timedelta())
    return _pickup_figures(total), _pickups_table([_store_row(row) for row in rows])


def _pickups_by_store(filters: ReportFilters) -> list[dict]:
    return [
        {**row, **{name: row[f"sum_{name}"] for name in COUNTS}}
        for row in DailyPickups.objects.filter(day__gte=filters.date_from, day__lte=filters.date_to)
        .filter(filters.place())
        .values("location", "location__code", "location__name")
        .annotate(to_ready=Sum("time_to_ready"), **{f"sum_{name}": Sum(name) for name in COUNTS})
        .order_by("location__code")
    ]


def _outcome(cell: dict) -> int:
    """Orders made ready that are no longer waiting: collected, expired or cancelled."""
    return cell["collected"] + cell["expired"] + cell["cancelled"]


def _store_row(row: dict) -> dict:
    span, outcome = as_duration(row["to_ready"]), _outcome(row)
    return {
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


def _pickup_figures(total: dict) -> list[Figure]:
    outcome = _outcome(total)
    return [
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


def _pickups_table(rows: list[dict]) -> Table:
    return Table(
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
        rows,
        chart=("bar", "label", "pickup_rate"),
    )


def _hours(value: datetime.timedelta) -> Decimal | None:
    return ratio(Decimal(value.total_seconds()), 3600)
