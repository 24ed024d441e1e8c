"""NPS on the dashboard: the score, the answers and the share of requests answered, by store,
channel and month, from ``omni.marketing.nps_figures`` (one aggregate query for the period, one
for the previous period's figures)."""

from django.utils.translation import gettext as _
from django.utils.translation import npgettext

from omni.marketing.nps_figures import nps_cube, nps_rollup, nps_total
from omni.reports.figures import Column, Figure, Table
from omni.reports.filters import ReportFilters


def _cube(filters: ReportFilters):
    return nps_cube(
        date_from=filters.date_from,
        date_to=filters.date_to,
        location_ids=filters.location_ids,
        store_id=filters.store_id,
        channel=filters.channel,
        city=filters.city,
    )


def _definition() -> str:
    return _(
        "Of the requests to rate a sale or an order sent in the period: promoters (9–10) less detractors "
        "(0–6), in per cent of the answers, from −100 to 100."
    )


def _table(key: str, title: str, label: str, rows) -> Table:
    return Table(
        key,
        title,
        _definition(),
        [
            Column("label", label),
            Column("nps", _("NPS"), True),
            Column("answered", _("answers"), True),
            Column("answered_percent", _("answered, %"), True),
            Column("promoters", _("promoters"), True),
            Column("passives", _("passives"), True),
            Column("detractors", _("detractors"), True),
            Column("sent", _("requests sent"), True),
        ],
        [
            {
                "label": row.label,
                "nps": row.figures.nps,
                "answered": row.figures.answered,
                "answered_percent": row.figures.answered_percent,
                "promoters": row.figures.promoters,
                "passives": row.figures.passives,
                "detractors": row.figures.detractors,
                "sent": row.figures.sent,
            }
            for row in rows
        ],
        empty_text=_("No NPS requests were sent in this period."),
    )


def nps(filters: ReportFilters) -> tuple[list[Figure], list[Table]]:
    cells = _cube(filters)
    total, previous = nps_total(cells), nps_total(_cube(filters.previous()))
    figures = [
        Figure("nps", _("NPS"), total.nps, "", _definition(), previous=previous.nps, kind="decimal"),
        Figure(
            "nps_answers",
            _("NPS answers"),
            total.answered,
            npgettext("unit after a count", "answer", "answers", total.answered),
            _("Answers to the requests sent in the period, whenever given."),
            previous=previous.answered,
        ),
        Figure(
            "nps_answered_share",
            _("NPS requests answered"),
            total.answered_percent,
            "%",
            _("The share of the requests sent in the period that were answered."),
            previous=previous.answered_percent,
            kind="decimal",
        ),
    ]
    tables = [
        _table("nps_by_store", _("NPS by store"), _("store"), nps_rollup(cells, "store")),
        _table("nps_by_channel", _("NPS by channel"), _("channel"), nps_rollup(cells, "channel")),
        _table("nps_by_month", _("NPS by month"), _("month"), nps_rollup(cells, "month")),
    ]
    return figures, tables
