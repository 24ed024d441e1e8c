"""Numbers as people read them (``omni.core.formats`` and the ``omni_format`` template filters)."""

import datetime
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import translation

from omni.core import formats


@pytest.mark.parametrize(
    ("language", "money", "count", "points"),
    [
        ("ru", "208\xa0555\xa0280,00\xa0₽", "30\xa0512", "1\xa0200"),
        ("en", "208,555,280.00\xa0₽", "30,512", "1,200"),
    ],
)
def test_money_counts_and_points_are_grouped_in_the_language(language, money, count, points):
    with translation.override(language):
        assert formats.format_money(Decimal("208555280")) == money
        assert formats.format_count(30512) == count
        assert formats.format_points(Decimal("1199.50")) == points  # whole points, half up


def test_the_template_filters_say_the_same_and_a_dash_for_nothing():
    template = Template(
        "{% load omni_format %}{{ a|money }}|{{ a|money_amount }}|{{ n|count }}|{{ p|points }}|{{ x|money }}"
    )
    with translation.override("ru"):
        text = template.render(Context({"a": Decimal("2690"), "n": 1562, "p": Decimal("200.00"), "x": None}))
    assert text == "2\xa0690,00\xa0₽|2\xa0690,00|1\xa0562|200|—"


def test_a_table_cell_is_a_count_a_decimal_or_a_day():
    with translation.override("ru"):
        assert formats.format_number(1562) == "1\xa0562"
        assert formats.format_number(Decimal("1.5")) == "1,50"
        assert formats.format_number(datetime.date(2026, 11, 4)) == "4 ноября 2026"
        assert formats.format_number(None) == "—"


def test_runs_of_days_and_large_numbers_in_few_words():
    with translation.override("ru"):
        assert formats.format_days(datetime.date(2026, 11, 1), datetime.date(2026, 11, 12)) == "1–12 ноября"
        assert formats.format_days(datetime.date(2026, 10, 28), datetime.date(2026, 11, 3)) == "28 октября – 3 ноября"
        assert formats.format_compact(Decimal("1500000")) == "1,5\xa0млн"
        assert formats.format_compact(Decimal("30500")) == "30\xa0500"
    with translation.override("en"):
        assert formats.format_compact(Decimal("2000000000")) == "2\xa0bn"
