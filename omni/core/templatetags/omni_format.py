"""Template filters for numbers as people read them (``omni.core.formats``)::

    {% load omni_format %}
    {{ order.total|money }}      208 555 280,00 ₽   (ru)   208,555,280.00 ₽ (en)
    {{ total|money_amount }}     208 555 280,00     (no sign: a column headed "revenue, ₽")
    {{ orders|count }}           30 512
    {{ balance|points }}         1 200              (whole points; an average rounds half up)
    {{ rate|decimal }}           1,33
    {{ cell|number }}            any table cell: counts grouped, decimals with two places, dates in words

Each shows "—" for no value. Put the noun with ``{% blocktranslate count %}`` or ``ngettext``.
"""

from django import template

from omni.core import formats

register = template.Library()


@register.filter
def money(value):
    return formats.format_money(value)


@register.filter
def money_amount(value):
    return formats.format_money(value, sign=False)


@register.filter
def count(value):
    return formats.format_count(value)


@register.filter
def points(value):
    return formats.format_points(value)


@register.filter
def decimal(value, places=2):
    return formats.format_decimal(value, int(places))


@register.filter
def number(value):
    return formats.format_number(value)
