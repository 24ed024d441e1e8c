"""The admin's list of NPS requests: read-only, filtered by store and status, the answers shown."""

from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from omni.marketing.models import NpsRequest
from omni.marketing.nps import nps_answer, nps_requests_send, nps_token
from tests.marketing.factories import member
from tests.orders.factories import product, sell, stock, store

pytestmark = pytest.mark.django_db

URL = "/admin/marketing/npsrequest/"


@pytest.fixture
def requests():
    shop, other = store(name="Tverskaya"), store(name="Arbat")
    item = product(sku="NPS-ADMIN")
    for location in (shop, other):
        stock(location, item, 10)
    for location, score in [(shop, 2), (shop, None), (other, 10)]:
        order = sell(location, (item, 1), person=member())
        request = NpsRequest.objects.get(order=order)
        with mock.patch("customers.messaging.services._schedule"):
            nps_requests_send(now=request.due_at)
        if score is not None:
            nps_answer(token=nps_token(request.pk), score=score, comment=f"Score {score}")
    sell(shop, (item, 1), person=member())  # waiting
    return shop, other


def test_head_office_sees_the_requests_and_their_answers_filtered(client, staff_in_role, requests):
    shop, _other = requests
    client.force_login(staff_in_role("Head office"))
    response = client.get(URL, {"store__id__exact": shop.pk, "answer": "detractor"})
    assert response.status_code == 200
    [request] = response.context["cl"].result_list
    assert request.feedback.score == 2
    html = response.content.decode()
    assert "Score 2" in html and "C-" in html
    assert client.get(URL, {"status__exact": "waiting"}).context["cl"].result_count == 1
    assert client.get(URL, {"answer": "promoter"}).context["cl"].result_count == 1


def test_the_list_reads_the_same_queries_for_more_rows(client, staff_in_role, requests):
    client.force_login(staff_in_role("Head office"))

    def statements():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(URL).status_code == 200
        return len(queries)

    before = statements()
    shop, _other = requests
    item = product(sku="NPS-ADMIN-MORE")
    stock(shop, item, 5)
    for score in (0, 7, 9):
        order = sell(shop, (item, 1), person=member())
        request = NpsRequest.objects.get(order=order)
        with mock.patch("customers.messaging.services._schedule"):
            nps_requests_send(now=request.due_at)
        nps_answer(token=nps_token(request.pk), score=score)
    assert statements() == before


def test_a_request_opens_read_only_with_its_answer(client, staff_in_role, requests):
    client.force_login(staff_in_role("Head office"))
    answered = NpsRequest.objects.exclude(feedback=None).order_by("pk").first()
    response = client.get(f"{URL}{answered.pk}/change/")
    assert response.status_code == 200
    assert "Score 2" in response.content.decode() and "<form" in response.content.decode()
    assert client.post(f"{URL}{answered.pk}/change/", {"status": "waiting"}).status_code == 403
    assert client.get(f"{URL}add/").status_code == 403


def test_store_staff_do_not_see_the_list(client, staff_in_role, requests):
    client.force_login(staff_in_role("Store staff", locations=[requests[0]]))
    assert client.get(URL).status_code == 403
