"""RFM scores: how recently, how often and how much each customer bought, against the retailer's
own customers, and the segment marketing calls them by.

Computed nightly (``omni.reports.tasks.compute_rfm``, or ``manage.py compute_rfm``) from the
customers' summaries (``CustomerSales``: the last completed order, the number of completed orders
and the money they brought, over the customer's whole history), in one INSERT ... SELECT after
deleting the previous night's rows, in one transaction:

- The customers scored are those whose last purchase falls within ``REPORTS_RFM_MONTHS`` (24).
  Among them each figure is cut into quintiles as ``NTILE(5)`` cuts it: R by the day of the last
  purchase (in ``TIME_ZONE``), F by the number of orders, M by the money; 5 is the best fifth.
  Customers with the same figure share one score, the tile NTILE gives the first of them (else a
  tie at a boundary would be split by the customers' ids: most customers have one order); it is
  computed from ``RANK()`` (``_quintile``), one sort per figure. With fewer than five customers
  the scores count down from 5 (three customers: 3, 4 and 5), so the best of a shop just starting
  is its best, not "lost".
- The segment comes from R and the mean of F and M, a half rounded up (``SEGMENT_MAP``, the usual
  RFM grid). A customer whose last purchase is older than the window has no scores and is "lost";
  a customer who never completed an order has no row.

Who reads them: segment conditions (``omni.reports.segments``) and the customer's card
(``omni.reports.customer_card``).
"""

import calendar
import datetime

from django.conf import settings
from django.db import connection, transaction
from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from omni.core.db import advisory_xact_lock
from omni.reports.models import CustomerRfm, CustomerSales, RfmSegment
from omni.reports.summaries import report_timezone

S = RfmSegment
# The RFM grid: a row per R score (5 first), a column per FM score (1 to 5), FM being the mean of
# the F and M scores with a half rounded up. The one place that names a cell.
_GRID = {
    5: (S.NEW, S.POTENTIAL_LOYALISTS, S.POTENTIAL_LOYALISTS, S.CHAMPIONS, S.CHAMPIONS),
    4: (S.PROMISING, S.POTENTIAL_LOYALISTS, S.POTENTIAL_LOYALISTS, S.LOYAL, S.LOYAL),
    3: (S.ABOUT_TO_SLEEP, S.ABOUT_TO_SLEEP, S.NEED_ATTENTION, S.LOYAL, S.LOYAL),
    2: (S.HIBERNATING, S.HIBERNATING, S.AT_RISK, S.AT_RISK, S.CANT_LOSE),
    1: (S.LOST, S.HIBERNATING, S.AT_RISK, S.AT_RISK, S.CANT_LOSE),
}
SEGMENT_MAP: dict[tuple[int, int], RfmSegment] = {
    (recency, fm): name for recency, row in _GRID.items() for fm, name in enumerate(row, start=1)
}

# What each segment means, for the people who read it (the customer's card, the segment form).
SEGMENT_DESCRIPTIONS = {
    S.CHAMPIONS: _("Bought recently, buy often and spend the most."),
    S.LOYAL: _("Buy regularly and spend well."),
    S.POTENTIAL_LOYALISTS: _("Recent customers who bought more than once or spent well."),
    S.NEW: _("Bought for the first time recently."),
    S.PROMISING: _("Bought not long ago, but little so far."),
    S.NEED_ATTENTION: _("Middling recency, frequency and spend: may slip away without a reason to come back."),
    S.ABOUT_TO_SLEEP: _("Have not bought for a while, and bought little."),
    S.AT_RISK: _("Bought often and spent well, but long ago."),
    S.CANT_LOSE: _("Were among the best customers, but have not bought for a long time."),
    S.HIBERNATING: _("Bought little, rarely and long ago."),
    S.LOST: _("The lowest scores, or no purchase within the scoring window."),
}

# pg_advisory_xact_lock key of "RFM scores are being written" ("OMNI_RFM" in ASCII, as a bigint).
LOCK_KEY = 0x4F4D4E495F52464D


def fm_score(frequency: int, monetary: int) -> int:
    """The column of the grid: the mean of F and M, a half rounded up."""
    return (frequency + monetary + 1) // 2


def segment_for(recency: int, frequency: int, monetary: int) -> RfmSegment:
    return SEGMENT_MAP[(recency, fm_score(frequency, monetary))]


def months_before(moment: datetime.datetime, months: int) -> datetime.datetime:
    """The same time ``months`` calendar months earlier (the 31st becomes the month's last day)."""
    year, month = divmod(moment.year * 12 + moment.month - 1 - months, 12)
    month += 1
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


def window_start(now: datetime.datetime) -> datetime.datetime:
    """The earliest last purchase that is scored; before it a customer is "lost"."""
    return months_before(timezone.localtime(now), settings.REPORTS_RFM_MONTHS)


def _figures(since: datetime.datetime) -> QuerySet:
    """Each customer's figures from the summaries, and whether they are scored (bought since ``since``)."""
    return (
        CustomerSales.objects.annotate(
            scored=ExpressionWrapper(Q(last_completed_at__gte=since), output_field=BooleanField()),
            last_day=TruncDate("last_completed_at", tzinfo=report_timezone()),
        )
        .values("customer_id", "scored", "last_day", "orders", "revenue")
        .order_by()
    )


def _segment_case() -> tuple[str, list]:
    """The SQL CASE naming the segment of the scores r, f and m, written from ``SEGMENT_MAP``."""
    cells = [(recency * 10 + fm, name.value) for (recency, fm), name in SEGMENT_MAP.items()]
    branches = " ".join(f"WHEN {cell} THEN %s" for cell, _name in cells)
    return f"CASE r * 10 + (f + m + 1) / 2 {branches} END", [name for _cell, name in cells]


def _quintile(rank: str) -> str:
    """NTILE(5)'s tile of the row at position ``rank`` among ``n``: the first ``n % 5`` tiles hold
    ``n / 5 + 1`` rows, the others ``n / 5``. Given RANK() (equal figures share their first
    position), equal figures get the tile of the first of them, in the one sort RANK() needs
    rather than a second window over NTILE's output. Fewer than five rows take the top tiles, the
    last row 5. (``%%`` is the modulo, escaped for the driver.)"""
    return (
        f"CASE WHEN n < 5 THEN 5 - n + {rank}"
        f" WHEN {rank} <= (n %% 5) * (n / 5 + 1) THEN ({rank} - 1) / (n / 5 + 1) + 1"
        f" ELSE ({rank} - 1 - n %% 5) / (n / 5) + 1 END"
    )


def _insert_sql(since: datetime.datetime, now: datetime.datetime) -> tuple[str, list]:
    figures, figure_params = _figures(since).query.sql_with_params()
    case, case_params = _segment_case()
    table = connection.ops.quote_name(CustomerRfm._meta.db_table)
    sql = f"""
        INSERT INTO {table} (customer_id, recency, frequency, monetary, segment, computed_at)
        SELECT customer_id,
               CASE WHEN scored THEN r END, CASE WHEN scored THEN f END, CASE WHEN scored THEN m END,
               CASE WHEN scored THEN {case} ELSE %s END,
               %s
        FROM (
            SELECT customer_id, scored,
                   {_quintile("r_rank")} AS r, {_quintile("f_rank")} AS f, {_quintile("m_rank")} AS m
            FROM (
                SELECT customer_id, scored,
                       RANK() OVER (PARTITION BY scored ORDER BY last_day) AS r_rank,
                       RANK() OVER (PARTITION BY scored ORDER BY orders) AS f_rank,
                       RANK() OVER (PARTITION BY scored ORDER BY revenue) AS m_rank,
                       COUNT(*) OVER (PARTITION BY scored) AS n
                FROM ({figures}) AS figures
            ) AS ranks
        ) AS scores
    """
    return sql, [*case_params, RfmSegment.LOST.value, now, *figure_params]


def _lock(*, wait: bool) -> bool:
    return advisory_xact_lock(LOCK_KEY, wait=wait)


def rfm_compute(*, now: datetime.datetime | None = None, wait: bool = True) -> int | None:
    """Replace every customer's RFM scores with scores of the summaries now; returns the number of
    customers with a row, or None when another computation was running and ``wait`` is False.

    One computation at a time: two at once would each delete the other's rows unseen and then
    collide on the customers' keys."""
    now = now or timezone.now()
    sql, params = _insert_sql(window_start(now), now)
    with transaction.atomic():
        if not _lock(wait=wait):
            return None
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":  # room to sort a million customers three ways in memory
                cursor.execute("SELECT set_config('work_mem', %s, true)", [settings.REPORTS_DB_WORK_MEM])
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(CustomerRfm._meta.db_table)}")
            cursor.execute(sql, params)
            return cursor.rowcount


def export_rfm(customer) -> dict | None:
    """Personal data export section: the customer's RFM scores and segment, a profile derived from
    their purchases (None before any)."""
    return (
        CustomerRfm.objects.filter(customer_id=customer.pk)
        .values("segment", "recency", "frequency", "monetary", "computed_at")
        .first()
    )
