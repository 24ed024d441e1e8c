"""Segment conditions on the RFM scores (``omni.reports.rfm``), registered in ``ReportsConfig.ready``
through the customers' registry, so campaigns reach "at risk" or "can't lose them" customers by
the same segments as any other. Each condition is one subquery on the scores table."""

from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from customers.segments import register_segment_condition
from omni.reports.models import CustomerRfm, RfmSegment


def parse_segments(value: str) -> list[str]:
    """RFM segment codes separated by commas: ``at_risk, cant_lose``."""
    codes = [code.strip().lower() for code in value.split(",") if code.strip()]
    known = set(RfmSegment.values)
    unknown = [code for code in codes if code not in known]
    if unknown or not codes:
        raise ValueError(
            gettext("Unknown RFM segment %(codes)s; use: %(known)s.")
            % {"codes": ", ".join(unknown) or "—", "known": ", ".join(RfmSegment.values)}
        )
    return codes


def parse_scores(value: str) -> set[int]:
    """Scores from 1 to 5 and ranges separated by commas: ``5``, ``4-5``, ``1-2, 5``."""
    scores: set[int] = set()
    for part in value.split(","):
        low, dash, high = part.strip().partition("-")
        try:
            first, last = int(low), int(high if dash else low)
        except ValueError:
            raise ValueError(gettext("Enter scores from 1 to 5, or ranges such as 4-5."))
        if not 1 <= first <= last <= 5:
            raise ValueError(gettext("Enter scores from 1 to 5, or ranges such as 4-5."))
        scores.update(range(first, last + 1))
    return scores


def _in_segments(value, date_from, date_to) -> Q:
    return Q(pk__in=CustomerRfm.objects.filter(segment__in=parse_segments(value)).values("customer_id"))


def _score_condition(field: str):
    def build(value, date_from, date_to) -> Q:
        scores = CustomerRfm.objects.filter(**{f"{field}__in": sorted(parse_scores(value))})
        return Q(pk__in=scores.values("customer_id"))

    return build


SCORES_HELP = _("Scores from 1 (lowest fifth of customers) to 5 (highest), or ranges: 5, 4-5, 1-2.")


def register_conditions() -> None:
    register_segment_condition(
        "reports.rfm_segment",
        _("RFM segment is one of"),
        _in_segments,
        validate=parse_segments,
        help_text=_(
            "Segment codes separated by commas, of: champions, loyal, potential_loyalists, new, promising, "
            "need_attention, about_to_sleep, at_risk, cant_lose, hibernating, lost."
        ),
    )
    for field, label in (
        ("recency", _("RFM recency score (R)")),
        ("frequency", _("RFM frequency score (F)")),
        ("monetary", _("RFM monetary score (M)")),
    ):
        register_segment_condition(
            f"reports.rfm_{field}", label, _score_condition(field), validate=parse_scores, help_text=SCORES_HELP
        )
