"""Numbers, money, points and days as people read them, in the active language.

One place for how a figure is written on a page: thousands grouped (``1 562`` in Russian,
``1,562`` in English) whatever ``USE_THOUSAND_SEPARATOR`` says, money with two places and its
currency sign, points as whole numbers. ``USE_THOUSAND_SEPARATOR`` stays off: it would also group
primary keys and codes rendered in templates and forms. Templates use the filters of
``omni.core.templatetags.omni_format`` (``{% load omni_format %}``), which call these.

For a count with its noun use ``ngettext``/``npgettext`` with the integer (``"2 заказа"``); a noun
after a number with decimals takes the form of ``pgettext("unit after a fractional number", ...)``
(in Russian the genitive singular: ``"1,33 заказа на покупателя"``).
"""

import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.utils import formats, timezone
from django.utils.translation import pgettext

#: Signs of the usual currencies; any other shows its code.
CURRENCY_SIGNS = {"RUB": "₽", "EUR": "€", "USD": "$", "GBP": "£", "KZT": "₸", "BYN": "Br", "UAH": "₴"}
NBSP = "\xa0"


def currency_sign(code: str | None = None) -> str:
    """The sign of ``code`` (the configured ``OMNI_CURRENCY`` by default): ₽ for RUB."""
    code = code or settings.OMNI_CURRENCY
    return CURRENCY_SIGNS.get(code, code)


def format_decimal(value, places: int = 2) -> str:
    """A number with ``places`` decimals and grouped thousands: ``1 234,50`` (ru), ``1,234.50`` (en)."""
    if value is None:
        return "—"
    return formats.number_format(Decimal(value), places, use_l10n=True, force_grouping=True)


def format_count(value) -> str:
    """A whole number with grouped thousands: ``30 512``."""
    if value is None:
        return "—"
    return formats.number_format(int(value), 0, use_l10n=True, force_grouping=True)


def format_money(value, *, sign: bool = True) -> str:
    """Money with two places, grouped thousands and the currency sign: ``208 555 280,00 ₽``."""
    if value is None:
        return "—"
    text = format_decimal(value, 2)
    return f"{text}{NBSP}{currency_sign()}" if sign else text


def whole_points(value) -> int:
    """Points are whole: an average of points rounds half up."""
    return int(Decimal(value).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def format_points(value) -> str:
    """Points as a whole number with grouped thousands: ``1 200``."""
    if value is None:
        return "—"
    return format_count(whole_points(value))


def format_number(value) -> str:
    """A table cell: whole numbers grouped, decimals with two places, dates in the language's form."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return format_count(value)
    if isinstance(value, Decimal | float):
        return format_decimal(value, 2)
    if isinstance(value, datetime.datetime):
        return formats.date_format(
            timezone.localtime(value) if timezone.is_aware(value) else value, "SHORT_DATETIME_FORMAT"
        )
    if isinstance(value, datetime.date):
        return format_day(value)
    return str(value)


def format_compact(value) -> str:
    """A large number in few characters for a chart's axis: ``850 000``, ``1,5 млн``, ``2 млрд``."""
    value = Decimal(value)
    for limit, unit in (
        (Decimal(10) ** 9, pgettext("number abbreviation", "bn")),
        (Decimal(10) ** 6, pgettext("number abbreviation", "M")),
    ):
        if abs(value) >= limit:
            shown = (value / limit).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP).normalize()
            return f"{format_decimal(shown, max(-shown.as_tuple().exponent, 0))}{NBSP}{unit}"
    if value == value.to_integral_value():
        return format_count(value)
    return format_decimal(value, 2)


def format_day(day: datetime.date, *, year: bool = True) -> str:
    """A day as words: ``4 ноября 2026`` / ``4 November 2026``, or without the year."""
    return formats.date_format(day, pgettext("day format", "j E Y") if year else pgettext("day format", "j E"))


def format_day_short(day: datetime.date) -> str:
    """A day in few characters, under a chart's axis: ``4 ноя`` / ``Nov 4``."""
    return formats.date_format(day, pgettext("day format, short", "M j"))


def format_days(first: datetime.date, last: datetime.date, *, year: bool = False) -> str:
    """A run of days: ``4–12 ноября``, ``28 октября – 3 ноября``, or one day."""
    if first == last:
        return format_day(first, year=year)
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.day}–{format_day(last, year=year)}"
    return f"{format_day(first, year=year and first.year != last.year)} – {format_day(last, year=year)}"


def format_month(day: datetime.date) -> str:
    """A month: ``ноябрь 2026`` / ``November 2026``."""
    return formats.date_format(day, "F Y")


def format_short_datetime(value: datetime.datetime | None) -> str:
    """A moment in the staff member's time zone, short (03.12.2026 16:03): for narrow list columns."""
    return formats.date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT") if value else "—"
