"""The shapes a report hands to the dashboard and to exports: a figure and a table.

Every figure and table carries its definition, shown on hover and below it.
"""

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from omni.core.money import money

TWO_PLACES = Decimal("0.01")


def ratio(numerator, denominator, *, percent: bool = False) -> Decimal | None:
    """numerator ÷ denominator rounded to two places, or None when there is nothing to divide by."""
    if not denominator:
        return None
    value = Decimal(numerator or 0) / Decimal(denominator) * (100 if percent else 1)
    return value.quantize(TWO_PLACES, rounding=ROUND_HALF_UP)


def sum_money(value) -> Decimal:
    """An aggregate's sum as money: a sum over no rows (NULL) is zero."""
    return money(value or 0)


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    value: Decimal | int | None
    unit: str
    definition: str
    previous: Decimal | int | None = None
    note: str = ""

    @property
    def change_percent(self) -> Decimal | None:
        """The change from the previous period in per cent, when both are known."""
        if self.value is None or self.previous is None or not self.previous:
            return None
        return ratio(Decimal(self.value) - Decimal(self.previous), abs(Decimal(self.previous)), percent=True)


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    numeric: bool = False


@dataclass
class Table:
    """Rows of a report (dicts keyed by the columns' keys) with what they mean.

    ``chart`` is ``("line" | "bar", label column, value column)`` when a chart reads better.
    """

    key: str
    title: str
    definition: str
    columns: list[Column]
    rows: list[dict] = field(default_factory=list)
    chart: tuple[str, str, str] | None = None
    note: str = ""
