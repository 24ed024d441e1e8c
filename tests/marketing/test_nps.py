"""NPS after a visit or an order: one request per completed order, sent after the delay through a
consented channel, answered once as feedback; the figures by store, channel and month."""

import datetime
from decimal import Decimal
from unittest import mock

import pytest
from django.contrib.auth.models import Group
from django.test import override_settings
from django.utils import timezone

from customers.errors import InvalidScore
from customers.merge import customer_merge
from customers.models import Case, Feedback, Message
from omni.core.roles import STORE_MANAGER
from omni.marketing.errors import NpsAlreadyAnswered, NpsLinkExpired, NpsLinkInvalid
from omni.marketing.models import NpsRequest, NpsSkipReason, NpsStatus
from omni.marketing.nps import nps_answer, nps_request_note, nps_request_of, nps_requests_send, nps_token
from omni.marketing.nps_figures import NpsFigures, nps_cube, nps_rollup, nps_total
from orders import services as orders
from orders.services import PaymentInput
from tests.inventory.factories import EmployeeFactory
from tests.marketing.factories import member, nps_send_now
from tests.orders.factories import cash, collect, deliver, product, sell, stock, store, warehouse

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    return store(name="Tverskaya")


@pytest.fixture
def shirt(shop):
    item = product(sku="NPS-SHIRT")
    stock(shop, item, 50)
    return item


def send(now):
    with mock.patch("customers.messaging.services._schedule"):
        return nps_requests_send(now=now)


def due(request: NpsRequest) -> datetime.datetime:
    return NpsRequest.objects.get(pk=request.pk).due_at


def sent_request(shop, shirt, person=None, **profile) -> NpsRequest:
    """A sale to a customer whose request has been sent."""
    person = person or member(**profile)
    order = sell(shop, (shirt, 1), person=person)
    request = nps_send_now(NpsRequest.objects.get(order=order))
    assert request.status == NpsStatus.SENT, request.reason
    return request


# --- Which orders get a request ---------------------------------------------------------------


def test_a_store_sale_brings_one_request_due_after_the_delay(shop, shirt):
    # given
    person = member()
    before = timezone.now()
    # when
    order = sell(shop, (shirt, 1), person=person)
    nps_request_note(order)  # a second call, as a repeated hook would
    # then
    request = NpsRequest.objects.get()
    assert (request.order, request.customer, request.store, request.channel) == (order, person, shop, "store")
    assert request.status == NpsStatus.WAITING
    delay = datetime.timedelta(minutes=120)
    assert before + delay <= request.due_at <= timezone.now() + delay


def test_an_order_handed_over_gets_a_request_and_not_before(shop, shirt):
    person = member()
    order = collect(person, shop, (shirt, 1))
    orders.order_mark_ready(order=order)
    assert not NpsRequest.objects.exists()
    orders.order_hand_over(order=order, payments=cash())
    assert NpsRequest.objects.get().order == order


def test_a_delivered_order_gets_a_request():
    depot = warehouse()
    item = product(sku="NPS-DELIVERED")
    stock(depot, item, 5)
    order = deliver(member(), (item, 1))
    orders.order_pack(order=order)
    orders.order_ship(order=order)
    assert not NpsRequest.objects.exists()
    orders.order_hand_over(order=order, payments=[PaymentInput("courier_card")])
    request = NpsRequest.objects.get()
    assert (request.order, request.channel, request.store) == (order, "site", depot)


def test_no_request_for_a_cancelled_order_nor_an_anonymous_sale(shop, shirt):
    order = collect(member(), shop, (shirt, 1))
    orders.order_cancel(order=order, reason="changed their mind")
    sell(shop, (shirt, 1))  # nobody named at the till
    assert not NpsRequest.objects.exists()


# --- Sending ---------------------------------------------------------------------------------


def test_a_request_is_sent_once_when_due_with_a_link_to_rate(shop, shirt):
    # given
    person = member(language="en", first_name="Anna", preferred_channel="email")
    order = sell(shop, (shirt, 1), person=person)
    request = NpsRequest.objects.get()
    # when: a minute early, on time, and again later
    assert send(request.due_at - datetime.timedelta(minutes=1)) == {}
    assert send(request.due_at) == {"sent": 1}
    assert send(request.due_at + datetime.timedelta(hours=1)) == {}
    # then
    message = Message.objects.get(customer=person, kind="nps_request")
    assert (message.channel, message.purpose, message.dedupe_key) == ("email", "marketing", f"nps:{request.pk}")
    assert (message.cause_type, message.cause_id) == ("order", order.number)
    lines = message.body.splitlines()
    assert (
        lines[0]
        == "Anna, thank you for visiting Tverskaya. How likely are you to recommend us to a friend, from 0 to 10?"
    )
    token = lines[1].split("/m/nps/")[1].rstrip("/")
    assert nps_request_of(token) == request
    assert "/m/unsubscribe/" in lines[2]
    request.refresh_from_db()
    assert (request.status, request.sent_via, request.message) == (NpsStatus.SENT, "email", message)


def test_the_request_speaks_the_customer_s_language(shop, shirt):
    person = member(language="ru", first_name="Анна")
    sent_request(shop, shirt, person)
    body = Message.objects.get(kind="nps_request").body
    assert body.startswith("Анна, спасибо, что зашли в Tverskaya.")


def test_no_consent_no_request_and_the_reason_is_kept(shop, shirt):
    person = member(consents=())
    sell(shop, (shirt, 1), person=person)
    request = NpsRequest.objects.get()
    assert send(request.due_at) == {"skipped": 1}
    request.refresh_from_db()
    assert (request.status, request.reason) == (NpsStatus.SKIPPED, NpsSkipReason.NO_CONSENT)
    assert not Message.objects.filter(kind="nps_request").exists()


@override_settings(MARKETING_QUIET_START_HOUR=21, MARKETING_QUIET_END_HOUR=9, TIME_ZONE="Europe/Moscow")
def test_quiet_hours_hold_the_request_until_the_customer_s_morning(shop, shirt):
    person = member(time_zone="Asia/Vladivostok")
    sell(shop, (shirt, 1), person=person)
    request = NpsRequest.objects.get()
    late_evening = datetime.datetime(2026, 12, 4, 22, 30, tzinfo=datetime.timezone(datetime.timedelta(hours=10)))
    NpsRequest.objects.filter(pk=request.pk).update(due_at=late_evening)
    assert send(late_evening) == {"held": 1}
    morning = datetime.datetime(2026, 12, 5, 9, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=10)))
    assert due(request) == morning
    assert send(morning) == {"sent": 1}


def test_a_frequent_shopper_is_asked_once_in_the_period(shop, shirt):
    # given: two sales a day apart
    person = member()
    first = sent_request(shop, shirt, person)
    sell(shop, (shirt, 1), person=person)
    second = NpsRequest.objects.exclude(pk=first.pk).get()
    # when
    assert send(second.due_at) == {"skipped": 1}
    # then
    second.refresh_from_db()
    assert second.reason == NpsSkipReason.RECENTLY_ASKED
    assert Message.objects.filter(kind="nps_request").count() == 1


def test_a_customer_is_asked_again_after_the_period(shop, shirt):
    person = member()
    first = sent_request(shop, shirt, person)
    sell(shop, (shirt, 1), person=person)
    second = NpsRequest.objects.exclude(pk=first.pk).get()
    NpsRequest.objects.filter(pk=first.pk).update(sent_at=second.due_at - datetime.timedelta(days=30, minutes=1))
    assert send(second.due_at) == {"sent": 1}


@override_settings(MARKETING_WEEKLY_CAP=1)
def test_the_weekly_marketing_cap_counts_too(shop, shirt):
    person = member()
    Message.objects.create(
        customer=person, kind="campaign", purpose="marketing", channel="sms", recipient="+7", body="Sale"
    )
    sell(shop, (shirt, 1), person=person)
    send(NpsRequest.objects.get().due_at)
    assert NpsRequest.objects.get().reason == NpsSkipReason.CAPPED


def test_a_request_left_waiting_too_long_is_not_sent(shop, shirt):
    sell(shop, (shirt, 1), person=member())
    request = NpsRequest.objects.get()
    assert send(request.due_at + datetime.timedelta(days=2)) == {"skipped": 1}
    assert NpsRequest.objects.get().reason == NpsSkipReason.LATE


def test_a_merge_moves_the_requests_to_the_survivor(shop, shirt):
    request = sent_request(shop, shirt)
    survivor = member()
    customer_merge(survivor=survivor, merged=request.customer)
    nps_answer(token=nps_token(request.pk), score=10)
    assert Feedback.objects.get().customer == survivor


# --- Answers ---------------------------------------------------------------------------------


def test_a_low_score_is_feedback_and_opens_a_case_for_the_store_s_manager(shop, shirt):
    # given
    manager = EmployeeFactory(locations=[shop]).user
    manager.groups.add(Group.objects.get(name=STORE_MANAGER))
    request = sent_request(shop, shirt)
    # when
    answered = nps_answer(token=nps_token(request.pk), score=3, comment="  The queue was long  ")
    # then
    feedback = Feedback.objects.get()
    assert (feedback.customer, feedback.score, feedback.comment) == (request.customer, 3, "The queue was long")
    assert (feedback.store, feedback.order_ref, feedback.channel) == (shop, request.order.number, request.sent_via)
    assert feedback.case.assignee == manager and feedback.case.store == shop
    assert (answered.status, answered.feedback) == (NpsStatus.ANSWERED, feedback)


def test_a_high_score_opens_no_case(shop, shirt):
    request = sent_request(shop, shirt)
    nps_answer(token=nps_token(request.pk), score=9, channel="messenger")
    assert Feedback.objects.get().channel == "messenger"
    assert not Case.objects.exists()


def test_answering_twice_is_refused_and_changes_nothing(shop, shirt):
    request = sent_request(shop, shirt)
    nps_answer(token=nps_token(request.pk), score=10)
    with pytest.raises(NpsAlreadyAnswered):
        nps_answer(token=nps_token(request.pk), score=0, comment="changed my mind")
    assert list(Feedback.objects.values_list("score", flat=True)) == [10]
    assert not Case.objects.exists()


def test_an_expired_link_is_refused(shop, shirt):
    request = sent_request(shop, shirt)
    later = request.sent_at + datetime.timedelta(days=14)
    with pytest.raises(NpsLinkExpired):
        nps_answer(token=nps_token(request.pk), score=8, now=later)
    assert not Feedback.objects.exists()


@pytest.mark.parametrize("token", ["nonsense", "MTI:1tXk2b:forged"])
def test_an_unknown_token_is_refused(shop, shirt, token):
    sent_request(shop, shirt)
    with pytest.raises(NpsLinkInvalid):
        nps_answer(token=token, score=8)
    assert not Feedback.objects.exists()


def test_a_request_not_sent_cannot_be_answered(shop, shirt):
    sell(shop, (shirt, 1), person=member())
    with pytest.raises(NpsLinkInvalid):
        nps_answer(token=nps_token(NpsRequest.objects.get().pk), score=8)


@pytest.mark.parametrize("score", [-1, 11, 7.5, True, "9"])
def test_a_score_outside_0_to_10_is_refused(shop, shirt, score):
    request = sent_request(shop, shirt)
    with pytest.raises(InvalidScore):
        nps_answer(token=nps_token(request.pk), score=score)
    assert NpsRequest.objects.get().status == NpsStatus.SENT


# --- Figures ---------------------------------------------------------------------------------


def test_the_nps_arithmetic():
    # 5 promoters, 3 passives, 2 detractors of 10 answers to 20 requests: 50 % − 20 % = 30
    figures = NpsFigures(sent=20, answered=10, promoters=5, detractors=2)
    assert (figures.nps, figures.passives, figures.answered_percent) == (Decimal("30.0"), 3, Decimal("50.0"))
    assert NpsFigures(sent=3, answered=3, promoters=1, detractors=0).nps == Decimal("33.3")
    assert NpsFigures(sent=1, answered=1, detractors=1).nps == Decimal("-100.0")
    assert NpsFigures(sent=4).nps is None


@override_settings(MARKETING_NPS_EVERY_DAYS=0, MARKETING_WEEKLY_CAP=100)
def test_figures_by_store_channel_and_month_in_one_query(shop, shirt, django_assert_num_queries):
    # given: in the shop, 10 answers of 10 sent — 5 promoters, 3 passives, 2 detractors
    person = member()
    for score in [10, 9, 9, 10, 9, 8, 7, 7, 6, 0]:
        nps_answer(token=nps_token(sent_request(shop, shirt, person).pk), score=score)
    # and in another store, 2 sent, 1 answered with a 0
    other = store(name="Arbat")
    stock(other, shirt, 5)
    nps_answer(token=nps_token(sent_request(other, shirt, person).pk), score=0)
    sent_request(other, shirt, person)
    today = timezone.localdate()
    # when
    with django_assert_num_queries(1):
        cells = nps_cube(date_from=today - datetime.timedelta(days=1), date_to=today)
    # then
    by_store = {row.label: row.figures for row in nps_rollup(cells, "store")}
    assert by_store["Tverskaya"] == NpsFigures(sent=10, answered=10, promoters=5, detractors=2)
    assert by_store["Tverskaya"].nps == Decimal("30.0")
    assert by_store["Arbat"].nps == Decimal("-100.0") and by_store["Arbat"].answered_percent == Decimal("50.0")
    [channel] = nps_rollup(cells, "channel")
    assert (channel.key, channel.figures) == ("store", NpsFigures(sent=12, answered=11, promoters=5, detractors=3))
    [month] = nps_rollup(cells, "month")
    assert month.key == today.strftime("%Y-%m")
    assert nps_total(cells).nps == Decimal("18.2")  # (5 − 3) / 11
    assert nps_cube(date_from=today, date_to=today, location_ids={other.pk}) != []
    assert nps_total(nps_cube(date_from=today, date_to=today, store_id=shop.pk)).sent == 10
    assert nps_cube(date_from=today, date_to=today, channel="site") == []
    yesterday = today - datetime.timedelta(days=1)
    assert nps_cube(date_from=yesterday, date_to=yesterday) == []
