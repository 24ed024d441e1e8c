"""The NPS section of the dashboard: its figures, its tables by store, channel and month, in two
queries, and each store manager's own stores only."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from omni.marketing.models import NpsRequest
from omni.marketing.nps import nps_answer, nps_token
from omni.reports.filters import ReportFilters
from omni.reports.selectors.nps import nps
from tests.marketing.factories import member, nps_send_now
from tests.orders.factories import product, sell, stock, store

pytestmark = pytest.mark.django_db

URL = "/admin/reports/dashboard/"


@pytest.fixture
def answered(settings):
    settings.MARKETING_QUIET_START_HOUR = settings.MARKETING_QUIET_END_HOUR = 0  # whatever the hour of the run
    """Store A: answers 10, 9 and 3; store B: one request sent, not answered."""
    store_a, store_b = store(name="Store A"), store(name="Store B")
    item = product(sku="NPS-DASH")
    for shop in (store_a, store_b):
        stock(shop, item, 10)
    for shop, score in [(store_a, 10), (store_a, 9), (store_a, 3), (store_b, None)]:
        order = sell(shop, (item, 1), person=member())
        request = nps_send_now(NpsRequest.objects.get(order=order))
        if score is not None:
            nps_answer(token=nps_token(request.pk), score=score)
    return store_a, store_b


def this_month(**kwargs) -> ReportFilters:
    today = timezone.localdate()
    return ReportFilters(date_from=today - datetime.timedelta(days=1), date_to=today, **kwargs)


def test_the_section_s_figures_and_tables_in_two_queries(answered, django_assert_num_queries):
    with django_assert_num_queries(2):  # the period, the previous period
        figures, tables = nps(this_month())
    values = {figure.key: figure.value for figure in figures}
    assert values == {"nps": Decimal("33.3"), "nps_answers": 3, "nps_answered_share": Decimal("75.0")}
    by_store = {row["label"]: row for row in tables[0].rows}
    assert by_store["Store A"]["nps"] == Decimal("33.3") and by_store["Store A"]["detractors"] == 1
    assert by_store["Store B"]["answered_percent"] == Decimal("0.0") and by_store["Store B"]["nps"] is None
    assert [table.key for table in tables] == ["nps_by_store", "nps_by_channel", "nps_by_month"]


def test_a_store_manager_sees_the_nps_of_their_store_in_russian(client, answered, manager_of):
    store_a, _store_b = answered
    client.force_login(manager_of(store_a))
    today = timezone.localdate().isoformat()
    response = client.get(URL, {"date_from": today, "date_to": today}, HTTP_ACCEPT_LANGUAGE="ru")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="section-nps"' in html and "Удовлетворённость покупателей (NPS)" in html
    assert "NPS по магазинам" in html and "Store B" not in html
    figures = {figure.key: figure.value for figure in response.context["sections"]["nps"]["figures"]}
    assert figures["nps_answered_share"] == Decimal("100.0")
