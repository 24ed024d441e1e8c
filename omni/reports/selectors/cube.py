"""The sales cube: the period's completed orders summed by channel, store, employee, fulfilment and
day, week or month, from the daily sales summary. The sales tables, the fulfilment shares and the
return rates are all rolled up from it."""

import datetime
from dataclasses import dataclass, field

from django.db.models import DateField, F, Sum
from django.db.models.functions import Trunc
from django.utils import timezone

from omni.reports.filters import Granularity, ReportFilters
from omni.reports.selectors.common import ZERO, daily_sales

CUBE_SUMS = {
    "revenue": Sum("revenue"),
    "orders": Sum("orders"),
    "units": Sum("units"),
    "sold": Sum("handed_over"),
    "returned": Sum("returned"),
    "ship_to_store": Sum("ship_to_store_orders"),
    "customer_orders": Sum("customer_orders"),
}


def _sums() -> dict:
    """The cube's sums under names that do not clash with the summary's own fields."""
    return {f"sum_{name}": aggregate for name, aggregate in CUBE_SUMS.items()}


def _cell_of(row: dict) -> dict:
    return {name: row[f"sum_{name}"] or (ZERO if name == "revenue" else 0) for name in CUBE_SUMS}


@dataclass
class SalesCube:
    """The period's completed orders summed by channel, store, employee, fulfilment and day, week
    or month, read from the daily summary: every sales table, the fulfilment shares and the
    return rates are rolled up from these rows (a few thousand, never one per order)."""

    rows: list[dict]
    kind: str
    _rollups: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def rollup(self, key: str) -> dict:
        """{value of key: {"revenue", "orders", "units", "sold", "returned", ...}}, summed once
        per key for every section that asks (read it, do not change it)."""
        if key in self._rollups:
            return self._rollups[key]
        result = self._rollups[key] = {}
        for row in self.rows:
            cell = result.get(row[key])
            if cell is None:  # not setdefault(): that would build an empty cell for every row
                cell = result[row[key]] = empty_cell()
            for name in CUBE_SUMS:
                cell[name] += row[name]
        return result

    def total(self) -> dict:
        return self.rollup("all").get("all", empty_cell())


def empty_cell() -> dict:
    """A cell of the cube with nothing in it: what a bucket, channel or store without orders shows."""
    return {name: ZERO if name == "revenue" else 0 for name in CUBE_SUMS}


def sales_cube(filters: ReportFilters) -> SalesCube:
    kind = filters.bucket
    bucket = F("day") if kind == Granularity.DAY else Trunc("day", kind, output_field=DateField())
    rows = (
        daily_sales(filters)
        .annotate(bucket=bucket)
        .values("channel", "location", "employee", "fulfilment", "bucket")
        .annotate(**_sums())
        .order_by()
    )
    return SalesCube(
        [
            {
                "channel": row["channel"],
                "location": row["location"],
                "employee": row["employee"],
                "fulfilment": row["fulfilment"],
                "bucket": _as_date(row["bucket"]),
                "all": "all",
                **_cell_of(row),
            }
            for row in rows
        ],
        kind,
    )


def _as_date(value) -> datetime.date:
    if isinstance(value, datetime.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.date()
    if isinstance(value, str):
        return datetime.date.fromisoformat(value[:10])
    return value


def period_total(filters: ReportFilters) -> dict:
    """The cube's sums over the whole period without grouping, in one query (the previous period's
    figures, for comparison)."""
    return _cell_of(daily_sales(filters).aggregate(**_sums()))
