"""The dashboard's numbers and words: grouped by language, plurals that agree, bars whose names fit,
days without sales folded, no "View site" leading nowhere."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from loyalty.kpis import Kpi
from omni.reports.charts import bar_chart
from omni.reports.figures import Figure
from omni.reports.selectors.loyalty_figures import _kpi_figure

pytestmark = pytest.mark.django_db

URL = "/admin/reports/dashboard/"
MARCH_QUERY = {"date_from": "2026-03-01", "date_to": "2026-03-31"}


def figure_html(html: str, key: str) -> str:
    return re.search(rf'<div class="report-figure figure-{key}".*?</div>\s*</div>', html, re.S).group(0)


def test_counts_take_the_russian_plural_and_fractions_their_own_form(client, shop, manager_of):
    client.force_login(manager_of(role="Head office"))

    # Two orders were completed from 5 to 11 March (S-000001, W-000002).
    html = client.get(URL, {"date_from": "2026-03-05", "date_to": "2026-03-11"}, HTTP_ACCEPT_LANGUAGE="ru").content
    html = html.decode()

    assert '<span class="number">2</span>&nbsp;<small>заказа</small>' in figure_html(html, "orders")
    assert "заказа на покупателя" in figure_html(html, "purchase_frequency")
    assert "заказов на покупателя</small>" not in html and "заказы</small>" not in html


def test_money_is_grouped_with_its_sign_in_russian():
    figure = Figure("revenue", "Revenue", Decimal("208555280.00"), "RUB", "", previous=Decimal("1000"))
    with translation.override("ru"):
        assert (figure.value_text, figure.unit_text) == ("208\xa0555\xa0280,00", "₽")
        assert figure.previous_text == "1\xa0000,00"
        assert figure.change_text == "+20\xa0855\xa0428,00\xa0%"


def test_average_points_are_whole_points_with_their_plural():
    kpi = Kpi("average_redemption", "Average points per redemption", "", Decimal("200.40"), "points")
    with translation.override("ru"):
        figure = _kpi_figure(kpi)
        assert (figure.value_text, figure.unit) == ("200", "баллов")


def test_days_without_sales_are_folded_into_one_line(client, shop, manager_of):
    client.force_login(manager_of(role="Head office"))

    response = client.get(URL, MARCH_QUERY)

    table = next(t for t in response.context["sections"]["sales"]["tables"] if t["table"].key == "sales_by_period")
    folded = [row["folded"] for row in table["rows"] if "folded" in row]
    assert folded[0] == "1–4 March: no sales"
    assert len(table["rows"]) < 31
    assert "1–4 March: no sales" in response.content.decode()
    # the chart and the exports keep every day
    assert len(table["table"].rows) == 31


def test_bars_keep_long_names_readable():
    svg = bar_chart("Sales by store", [("MSK-TVER — Tverskaya, the big store on the corner", Decimal("30500"))])

    assert "MSK-TVER — Tverskaya, the…" in svg  # cut to fit, with an ellipsis
    assert "<title>MSK-TVER — Tverskaya, the big store on the corner: 30,500.00</title>" in svg


def test_the_admin_has_no_view_site_link_to_a_page_that_does_not_exist(client, shop, manager_of):
    client.force_login(manager_of(role="Head office"))

    html = client.get(reverse("admin:index")).content.decode()

    assert "View site" not in html
