"""NPS under concurrency on PostgreSQL: real threads released together by a barrier."""

from unittest import mock

import pytest

from customers.models import Feedback, Message
from omni.marketing.errors import NpsAlreadyAnswered
from omni.marketing.models import NpsRequest, NpsSkipReason, NpsStatus
from omni.marketing.nps import nps_answer, nps_request_note, nps_requests_send, nps_token
from tests.marketing.factories import member
from tests.orders.factories import product, sell, stock, store
from tests.racing import race_each

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def shop_and_item():
    shop = store()
    item = product(sku="NPS-RACE")
    stock(shop, item, 50)
    return shop, item


def test_two_workers_sending_the_same_due_requests_send_each_once(shop_and_item):
    # given: six customers with a sale each, and one of them with a second sale
    shop, item = shop_and_item
    people = [member() for _ in range(6)]
    for person in people:
        sell(shop, (item, 1), person=person)
    sell(shop, (item, 1), person=people[0])
    now = max(NpsRequest.objects.values_list("due_at", flat=True))
    # when
    with mock.patch("customers.messaging.services._schedule"):
        errors, results = race_each(lambda: nps_requests_send(now=now), lambda: nps_requests_send(now=now))
    # then: the workers' own accounts add up to each request handled once
    assert errors == []
    assert sum(outcome.get("sent", 0) for outcome in results) == 6
    assert sum(outcome.get("skipped", 0) for outcome in results) == 1
    messages = list(Message.objects.filter(kind="nps_request").values_list("customer_id", flat=True))
    assert sorted(messages) == sorted(person.pk for person in people)  # one each, the frequent shopper too
    assert NpsRequest.objects.filter(status=NpsStatus.SENT).count() == 6
    assert list(NpsRequest.objects.filter(status=NpsStatus.SKIPPED).values_list("reason", flat=True)) == [
        NpsSkipReason.RECENTLY_ASKED
    ]


def test_two_answers_racing_record_one_feedback(shop_and_item):
    shop, item = shop_and_item
    sell(shop, (item, 1), person=member())
    request = NpsRequest.objects.get()
    with mock.patch("customers.messaging.services._schedule"):
        nps_requests_send(now=request.due_at)
    token = nps_token(request.pk)
    errors, results = race_each(lambda: nps_answer(token=token, score=2), lambda: nps_answer(token=token, score=10))
    assert len(results) == 1
    assert [type(error) for error in errors] == [NpsAlreadyAnswered]
    assert Feedback.objects.count() == 1
    request.refresh_from_db()
    assert request.status == NpsStatus.ANSWERED and request.feedback.score == results[0].feedback.score


def test_the_same_order_noted_twice_at_once_has_one_request(shop_and_item):
    shop, item = shop_and_item
    order = sell(shop, (item, 1), person=member())
    NpsRequest.objects.all().delete()
    errors, _results = race_each(lambda: nps_request_note(order), lambda: nps_request_note(order))
    assert errors == []
    assert NpsRequest.objects.filter(order=order).count() == 1
