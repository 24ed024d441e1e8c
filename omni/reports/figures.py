"""The shapes a report hands to the dashboard and to exports: a figure and a table.

Every figure and table carries its definition, shown on hover and below it.
"""

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings

from omni.core import formats
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
    #: How the value is written (``FIGURE_KINDS``); "" reads it from the value: money when the unit
    #: is the currency, a count when it is whole, else a number with two decimals.
    kind: str = ""

    @property
    def change_percent(self) -> Decimal | None:
        """The change from the previous period in per cent, when both are known."""
        if self.value is None or self.previous is None or not self.previous:
            return None
        return ratio(Decimal(self.value) - Decimal(self.previous), abs(Decimal(self.previous)), percent=True)

    @property
    def shown_kind(self) -> str:
        if self.kind:
            return self.kind
        if self.unit == settings.OMNI_CURRENCY:
            return "money"
        return "count" if isinstance(self.value, int) else "decimal"

    def _shown(self, value) -> str:
        return FIGURE_KINDS[self.shown_kind](value)

    @property
    def value_text(self) -> str:
        """The value as people read it: ``208 555 280,00`` (the unit apart, ``unit_text``)."""
        return self._shown(self.value)

    @property
    def previous_text(self) -> str:
        return self._shown(self.previous)

    @property
    def unit_text(self) -> str:
        """The unit after the value: the currency's sign for money (``₽``), else ``unit``."""
        return formats.currency_sign() if self.shown_kind == "money" else self.unit

    @property
    def previous_unit_text(self) -> str:
        """The unit after the previous value: a sign (``₽``, ``%``), never a noun whose plural
        agrees with the current value."""
        return self.unit_text if self.shown_kind == "money" or self.unit == "%" else ""

    @property
    def change_text(self) -> str:
        """The change from the previous period with its sign: ``+12,50 %``, or ""."""
        change = self.change_percent
        if change is None:
            return ""
        return f"{'+' if change > 0 else ''}{formats.format_decimal(change)}{formats.NBSP}%"


#: How a figure's value is written, by its ``kind``.
FIGURE_KINDS = {
    "money": lambda value: formats.format_money(value, sign=False),
    "count": formats.format_count,
    "points": formats.format_points,
    "decimal": formats.format_decimal,
}


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    numeric: bool = False
    #: The row's key holding the cell as people read it on the dashboard (a period's days in
    #: words), when it differs from the value an export writes (the period's first day).
    text_key: str = ""


@dataclass
class Table:
    """Rows of a report (dicts keyed by the columns' keys) with what they mean.

    ``chart`` is ``("line" | "bar", label key, value column)`` when a chart reads better;
    ``fold_empty`` folds a run of rows without a figure into one line on the dashboard (days
    without sales); exports keep every row.
    """

    key: str
    title: str
    definition: str
    columns: list[Column]
    rows: list[dict] = field(default_factory=list)
    chart: tuple[str, str, str] | None = None
    note: str = ""
    fold_empty: bool = False
    #: What the dashboard says when there are no rows (default: nothing in this period).
    empty_text: str = ""
