"""NPS over the API and on the public page: answers with the request's token, figures by group."""

import datetime

import pytest
from django.utils import timezone

from customers.models import Feedback
from omni.marketing.models import NpsRequest, NpsStatus
from omni.marketing.nps import nps_answer, nps_token
from tests.marketing.factories import member, nps_send_now
from tests.orders.factories import product, sell, stock, store

pytestmark = pytest.mark.django_db

ANSWERS = "/api/v1/nps/answers/"
FIGURES = "/api/v1/nps/"


@pytest.fixture
def request_sent():
    shop = store(name="Tverskaya", code="TV-1")
    item = product(sku="NPS-API")
    stock(shop, item, 5)
    order = sell(shop, (item, 1), person=member(language="en"))
    request = nps_send_now(NpsRequest.objects.get(order=order))
    assert request.status == NpsStatus.SENT
    return request


def test_an_answer_over_the_api_is_feedback_once(client_with_scopes, request_sent):
    # given
    bot = client_with_scopes("nps:write")
    body = {"token": nps_token(request_sent.pk), "score": 2, "comment": "Rude", "channel": "messenger"}
    # when
    first = bot.post(ANSWERS, body, format="json")
    again = bot.post(ANSWERS, {**body, "score": 10}, format="json")
    # then
    assert first.status_code == 201, first.json()
    answer = first.json()
    assert (answer["order"], answer["score"]) == (request_sent.order.number, 2)
    assert answer["case"] and answer["case"].startswith("C-")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "nps_already_answered"
    feedback = Feedback.objects.get()
    assert (feedback.score, feedback.comment, feedback.channel) == (2, "Rude", "messenger")


def test_a_retry_with_the_same_idempotency_key_returns_the_first_answer(client_with_scopes, request_sent):
    bot = client_with_scopes("nps:write")
    body = {"token": nps_token(request_sent.pk), "score": 9}
    first = bot.post(ANSWERS, body, format="json", HTTP_IDEMPOTENCY_KEY="a-1")
    again = bot.post(ANSWERS, body, format="json", HTTP_IDEMPOTENCY_KEY="a-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert Feedback.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"token": "made-up", "score": 5}, "nps_link_invalid", "token"),
        ({"score": 5}, "invalid", "token"),
        ({"token": "T", "score": 11}, "invalid", "score"),
        ({"token": "T", "score": "9"}, "invalid", "score"),
        ({"token": "T", "score": 9, "channel": "fax"}, "invalid", "channel"),
        ({"token": "T", "score": 9, "rating": 9}, "invalid", "rating"),
    ],
)
def test_bad_answers_are_refused_and_record_nothing(client_with_scopes, request_sent, body, code, field):
    body = {**body, "token": nps_token(request_sent.pk)} if body.get("token") == "T" else body
    response = client_with_scopes("nps:write").post(ANSWERS, body, format="json")
    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert error["code"] == code
    assert field in str(error["details"])
    assert not Feedback.objects.exists()


def test_an_expired_token_is_a_conflict(client_with_scopes, request_sent):
    NpsRequest.objects.filter(pk=request_sent.pk).update(sent_at=timezone.now() - datetime.timedelta(days=15))
    response = client_with_scopes("nps:write").post(
        ANSWERS, {"token": nps_token(request_sent.pk), "score": 7}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "nps_link_expired"


def test_answers_and_figures_need_their_scopes(client_with_scopes, api_client, request_sent):
    body = {"token": nps_token(request_sent.pk), "score": 7}
    assert client_with_scopes("nps:read").post(ANSWERS, body, format="json").status_code == 403
    assert client_with_scopes("customers:write").post(ANSWERS, body, format="json").status_code == 403
    assert api_client.post(ANSWERS, body, format="json").status_code == 401
    assert client_with_scopes("nps:write").get(FIGURES).status_code == 403
    assert client_with_scopes("reports:read").get(FIGURES).status_code == 403
    assert not Feedback.objects.exists()


def test_figures_by_store_channel_and_month(client_with_scopes, request_sent, django_assert_max_num_queries):
    nps_answer(token=nps_token(request_sent.pk), score=10)
    reader = client_with_scopes("nps:read")
    today = timezone.localdate().isoformat()
    with django_assert_max_num_queries(4):  # the key, its last use, the figures
        by_store = reader.get(FIGURES, {"group": "store", "date_from": today, "date_to": today})
    assert by_store.status_code == 200, by_store.json()
    [row] = by_store.json()["rows"]
    assert (row["key"], row["label"], row["sent"], row["answered"]) == ("TV-1", "Tverskaya", 1, 1)
    assert (row["nps"], row["answered_percent"], row["promoters"]) == ("100.0", "100.0", 1)
    assert by_store.json()["total"]["nps"] == "100.0"
    by_channel = reader.get(FIGURES, {"group": "channel"}).json()
    assert [(row["key"], row["label"]) for row in by_channel["rows"]] == [("store", "store")]
    by_month = reader.get(FIGURES, {"group": "month"}).json()
    assert [row["key"] for row in by_month["rows"]] == [timezone.localdate().strftime("%Y-%m")]
    assert reader.get(FIGURES, {"store": "TV-1", "channel": "site"}).json()["rows"] == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"group": "city"}, "group"),
        ({"date_from": "2026-12-05", "date_to": "2026-12-01"}, "date_to"),
        ({"date_from": "2024-01-01", "date_to": "2026-01-01"}, "date_to"),
        ({"store": "NOPE"}, "store"),
        ({"date_from": "yesterday"}, "date_from"),
    ],
)
def test_bad_figure_queries_are_refused(client_with_scopes, query, field):
    response = client_with_scopes("nps:read").get(FIGURES, query)
    assert response.status_code == 400
    assert field in str(response.json()["error"]["details"])


def test_staff_see_the_figures_of_their_own_stores(client, staff_in_role, request_sent):
    elsewhere = store(name="Arbat")
    client.force_login(staff_in_role("Store manager", locations=[elsewhere]))
    assert client.get(FIGURES).json()["rows"] == []
    client.force_login(staff_in_role("Store manager", locations=[request_sent.store]))
    assert client.get(FIGURES).json()["total"]["sent"] == 1


# --- The public page ---------------------------------------------------------------------------


def page(request):
    return f"/m/nps/{nps_token(request.pk)}/"


def test_the_page_asks_and_records_only_when_posted(client, request_sent):
    # given: a link preview opens the page
    shown = client.get(page(request_sent))
    assert shown.status_code == 200
    assert 'name="score" value="10"' in shown.content.decode()
    assert not Feedback.objects.exists()
    # when
    done = client.post(page(request_sent), {"score": "8", "comment": "Fine"})
    # then
    assert done.status_code == 200 and "Thank you" in done.content.decode()
    assert list(Feedback.objects.values_list("score", "comment")) == [(8, "Fine")]
    again = client.post(page(request_sent), {"score": "0"})
    assert again.status_code == 409 and "already been rated" in again.content.decode()
    assert client.get(page(request_sent)).status_code == 409
    assert Feedback.objects.count() == 1


def test_the_page_speaks_the_customer_s_language(client, request_sent):
    request_sent.customer.language = "ru"
    request_sent.customer.save(update_fields=["language"])
    assert "Как мы справились?" in client.get(page(request_sent)).content.decode()


def test_the_page_asks_again_without_a_score_and_keeps_the_comment(client, request_sent):
    response = client.post(page(request_sent), {"score": "11", "comment": "Queue"})
    assert response.status_code == 400
    assert "Choose a score" in response.content.decode() and ">Queue</textarea>" in response.content.decode()
    assert not Feedback.objects.exists()


def test_the_page_refuses_a_bad_link(client):
    response = client.get("/m/nps/forged/")
    assert response.status_code == 400 and "not valid" in response.content.decode()
