import datetime
from unittest import mock

import pytest
from django.core import mail
from django.test import override_settings
from django.utils import timezone

from customers.models import Consent, ConsentEvent, ConsentPurpose, Message, MessageStatus
from loyalty.models import PointsEntry
from omni.core.errors import InvalidInput
from omni.marketing.errors import CampaignNotCancellable, CampaignNotEditable, EmptySegment
from omni.marketing.models import Campaign, CampaignStatus, Recipient, RecipientStatus, SkipReason
from omni.marketing.results import campaign_bonuses_grant, campaign_preview, campaign_results
from omni.marketing.services import (
    CampaignData,
    campaign_cancel,
    campaign_create,
    campaign_launch,
    campaign_test_send,
    campaign_update,
)
from omni.marketing.unsubscribe import unsubscribe_token
from tests.marketing.factories import campaign, member, segment
from tests.marketing.test_sending import NOON, outcome, send
from tests.orders.factories import product, sell, stock, store

pytestmark = pytest.mark.django_db


def unsubscribe_link(message) -> str:
    return message.body.splitlines()[-1].split("http://localhost:8000", 1)[1]


def test_the_unsubscribe_link_asks_first_then_withdraws_that_channels_consent(client):
    # given
    person = member(preferred_channel="email", consents=("email", "sms"))
    camp = send(campaign())
    link = unsubscribe_link(outcome(camp, person).message)
    # when: opened (a mail scanner, a preview): nothing changes
    page = client.get(link)
    assert page.status_code == 200 and b"<form" in page.content
    assert Consent.objects.get(customer=person, purpose=ConsentPurpose.MARKETING, channel="email").granted
    # when: confirmed, without signing in
    done = client.post(link)
    # then
    assert done.status_code == 200
    granted = dict(Consent.objects.filter(customer=person, purpose="marketing").values_list("channel", "granted"))
    assert granted == {"email": False, "sms": True}
    event = ConsentEvent.objects.get(customer=person, granted=False)
    assert (event.channel, event.source_channel, event.note) == ("email", "email", f"campaign:{camp.pk}")
    assert campaign_results(camp).unsubscribed == 1


def test_an_altered_unsubscribe_link_is_refused_and_changes_nothing(client):
    person = member()
    token = unsubscribe_token(customer_id=person.pk, channel="sms", source="campaign:1")
    forged = token.replace(str(person.pk), str(person.pk + 1), 1) + "x"
    response = client.post(f"/m/unsubscribe/{forged}/")
    assert response.status_code == 400
    assert not ConsentEvent.objects.filter(customer=person, granted=False).exists()


def test_results_count_sent_delivered_failed_skipped_and_unsubscribed():
    a, b = member(preferred_channel="email"), member(preferred_channel="sms")
    member(consents=())
    camp = send(campaign())
    Message.objects.filter(customer=a).update(status=MessageStatus.SENT)
    Message.objects.filter(customer=b).update(status=MessageStatus.FAILED)
    results = campaign_results(camp)
    assert (results.sent, results.delivered, results.failed) == (2, 1, 1)
    assert results.skipped == {SkipReason.NO_CONSENT: 1}
    assert results.unsubscribed == 0


def buy(person, shop, item, when):
    with mock.patch("django.utils.timezone.now", return_value=when):
        return sell(shop, (item, 1), person=person)


@override_settings(MARKETING_CONTROL_PERCENT=50)
def test_conversion_within_the_window_against_the_control_group_gives_the_lift():
    # given: members, half held out at random
    shop, item = store(), product()
    stock(shop, item, 100)
    people = [member() for _ in range(20)]
    camp = send(campaign(conversion_days=7), now=timezone.now())
    sent = list(Recipient.objects.filter(campaign=camp, status=RecipientStatus.SENT).select_related("customer"))
    control = list(Recipient.objects.filter(campaign=camp, status=RecipientStatus.CONTROL).select_related("customer"))
    assert sent and control and len(sent) + len(control) == len(people)
    # when: two recipients buy within the window, one after it; one held-out member buys
    start = sent[0].decided_at
    buy(sent[0].customer, shop, item, start + datetime.timedelta(days=1))
    buy(sent[1].customer, shop, item, start + datetime.timedelta(days=6))
    buy(sent[2].customer, shop, item, start + datetime.timedelta(days=8))
    buy(control[0].customer, shop, item, start + datetime.timedelta(days=2))
    # then
    results = campaign_results(camp)
    assert (results.sent_converted, results.control_converted) == (2, 1)
    assert results.conversion == pytest.approx(2 / len(sent) * 100)
    assert results.control_conversion == pytest.approx(1 / len(control) * 100)
    assert results.lift == pytest.approx(results.conversion - results.control_conversion)


def test_bonus_points_go_to_recipients_who_bought_within_the_window_once(programme):
    from loyalty.services import account_open

    shop, item = store(), product()
    stock(shop, item, 10)
    buyer, idle = member(), member()
    for person in (buyer, idle):
        account_open(customer=person)
    camp = send(campaign(bonus_points=200), now=timezone.now())
    buy(buyer, shop, item, timezone.now() + datetime.timedelta(hours=1))
    assert campaign_bonuses_grant(camp) == 1
    assert campaign_bonuses_grant(camp) == 0
    bonus = PointsEntry.objects.filter(cause_type="campaign", cause_id=str(camp.pk))
    assert list(bonus.values_list("account__customer_id", "points")) == [(buyer.pk, 200)]


@override_settings(MARKETING_WEEKLY_CAP=1)
def test_the_preview_counts_recipients_per_channel_and_the_skipped_per_reason():
    member(preferred_channel="email")
    member(preferred_channel="sms")
    member(preferred_channel="sms")
    member(consents=())
    member(phone=False, email=False, consents=())
    capped = member()
    Message.objects.create(customer=capped, kind="x", purpose="marketing", channel="sms", recipient="+7", body="x")
    camp = campaign()
    preview = campaign_preview(camp, now=NOON)
    assert preview.members == 6
    assert preview.by_channel == {"email": 1, "sms": 2}
    assert preview.skipped == {SkipReason.NO_CONSENT: 1, SkipReason.NO_ADDRESS: 1, SkipReason.CAPPED: 1}
    assert preview.samples["ru"][1].startswith("Анна, у вас 1")
    assert preview.samples["en"][0] == "Spring sale"
    assert not Recipient.objects.exists() and Message.objects.count() == 1  # nothing sent


def test_a_test_send_goes_to_the_staff_members_email_and_to_no_customer(settings, django_capture_on_commit_callbacks):
    settings.CUSTOMERS_EMAIL_BACKEND = "customers.messaging.backends.DjangoEmailBackend"
    member()
    camp = campaign()
    with django_capture_on_commit_callbacks(execute=True):
        campaign_test_send(campaign=camp, email="staff@example.com", language="ru")
    assert [m.to for m in mail.outbox] == [["staff@example.com"]]
    assert mail.outbox[0].subject == "[TEST] Весенняя распродажа"
    assert not Message.objects.exists()
    with pytest.raises(InvalidInput):
        campaign_test_send(campaign=camp, email="", language="ru")


def test_a_campaign_is_checked_before_it_is_written():
    seg = segment()
    base = {"name": "x", "segment": seg, "text_ru": "т", "text_en": "t", "channels": ("sms",)}
    for bad, field in [
        ({"channels": ()}, "channels"),
        ({"channels": ("fax",)}, "channels"),
        ({"text_en": " "}, "text_en"),
        ({"text_ru": "{% if %}"}, "text_ru"),
        ({"text_en": "{% include 'admin/base.html' %}"}, "text_en"),
        ({"text_en": "{{ customer.notes }}"}, "text_en"),
        ({"subject_en": "{{ name|nosuchfilter }}"}, "subject_en"),
        ({"promo_kind": "percent", "promo_value": 150}, "promo_value"),
        ({"conversion_days": 0}, "conversion_days"),
    ]:
        with pytest.raises(InvalidInput) as error:
            campaign_create(data=CampaignData(**{**base, **bad}))
        assert error.value.details["field"] == field
    assert not Campaign.objects.exists()


def test_only_a_draft_is_changed_or_sent_and_a_segment_without_conditions_is_refused():
    from customers.models import Segment

    empty = campaign(seg=Segment.objects.create(name="nobody"))
    with pytest.raises(EmptySegment):
        campaign_launch(campaign=empty)
    camp = campaign()
    with mock.patch("omni.marketing.services.enqueue"):
        campaign_launch(campaign=camp)
    data = CampaignData(name="y", segment=camp.segment, text_ru="т", text_en="t", channels=("sms",))
    with pytest.raises(CampaignNotEditable):
        campaign_update(campaign=camp, data=data)
    with pytest.raises(CampaignNotEditable):
        campaign_launch(campaign=camp)


def test_a_cancelled_campaign_sends_nothing_more():
    member()
    camp = campaign()
    with mock.patch("omni.marketing.services.enqueue"):
        campaign_launch(campaign=camp)
    campaign_cancel(campaign=camp)
    camp = send(Campaign.objects.get(pk=camp.pk))
    assert camp.status == CampaignStatus.CANCELLED
    assert not Message.objects.exists()
    with pytest.raises(CampaignNotCancellable):
        campaign_cancel(campaign=camp)


def test_the_lift_of_a_known_campaign_counts_only_purchases_within_the_window(admin_client, client_with_scopes):
    from orders.models import OrderStatus

    # given: ten members sent the message and ten held out, all at the same moment
    shop, item = store(), product(sku="LIFT-1")
    stock(shop, item, 100)
    camp = send(campaign(conversion_days=7), now=timezone.now())
    start = timezone.now() - datetime.timedelta(days=10)
    sent, held_out = [member() for _ in range(10)], [member() for _ in range(10)]
    Recipient.objects.bulk_create(
        [Recipient(campaign=camp, customer=p, status=RecipientStatus.SENT, decided_at=start) for p in sent]
        + [Recipient(campaign=camp, customer=p, status=RecipientStatus.CONTROL, decided_at=start) for p in held_out]
    )
    day = datetime.timedelta(days=1)
    # four recipients buy within the seven days (one of them twice), and three purchases do not count:
    # one the day before, one on the eighth day, one cancelled
    for person, when in [
        (sent[0], start + datetime.timedelta(minutes=5)),
        (sent[1], start + 2 * day),
        (sent[1], start + 3 * day),
        (sent[2], start + 5 * day),
        (sent[3], start + 7 * day - datetime.timedelta(minutes=1)),
        (sent[4], start - day),
        (sent[5], start + 7 * day + datetime.timedelta(minutes=1)),
    ]:
        buy(person, shop, item, when)
    cancelled = buy(sent[6], shop, item, start + day)
    # one held-out member buys within the window, another's order expired uncollected
    buy(held_out[0], shop, item, start + 4 * day)
    expired = buy(held_out[1], shop, item, start + day)
    from orders.models import Order

    Order.objects.filter(pk=cancelled.pk).update(status=OrderStatus.CANCELLED)
    Order.objects.filter(pk=expired.pk).update(status=OrderStatus.EXPIRED)
    # when
    results = campaign_results(camp)
    # then: 4 of 10 against 1 of 10, a lift of 30 points, the same in the API and on the admin page
    assert (results.sent, results.sent_converted, results.control, results.control_converted) == (10, 4, 10, 1)
    assert (results.conversion, results.control_conversion, results.lift) == (40.0, 10.0, 30.0)
    api = client_with_scopes("campaigns:read").get(f"/api/v1/campaigns/{camp.pk}/results/").json()
    assert (api["converted"], api["control_converted"], api["lift_points"]) == (4, 1, 30.0)
    page = admin_client.get(f"/admin/marketing/campaign/{camp.pk}/change/")
    assert page.context["results"].lift == 30.0
