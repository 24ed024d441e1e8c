import datetime
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.test import override_settings

from customers.models import Customer, Message, MessagePurpose
from loyalty.models import PromoCode, PromoKind
from omni.marketing.models import Campaign, CampaignStatus, Recipient, RecipientStatus, SkipReason
from omni.marketing.sending import campaign_run
from omni.marketing.services import campaign_launch
from tests.marketing.factories import campaign, member, segment
from tests.orders.factories import points_for

pytestmark = pytest.mark.django_db

MOSCOW = ZoneInfo("Europe/Moscow")
# Tomorrow at noon in Moscow: after the points given today become spendable.
NOON = datetime.datetime.combine(datetime.date.today() + datetime.timedelta(days=1), datetime.time(12), tzinfo=MOSCOW)


def launched(camp: Campaign) -> Campaign:
    with mock.patch("omni.marketing.services.enqueue"):  # the test runs it at a chosen time
        return campaign_launch(campaign=camp)


def send(camp: Campaign, now=NOON) -> Campaign:
    if camp.status == CampaignStatus.DRAFT:
        launched(camp)
    with mock.patch("customers.messaging.services._schedule_batch"):
        campaign_run(camp.pk, now=now)
    return Campaign.objects.get(pk=camp.pk)


def outcome(camp, person) -> Recipient:
    return Recipient.objects.get(campaign=camp, customer=person)


def test_each_member_gets_one_message_through_the_preferred_consented_channel():
    # given
    by_email = member(preferred_channel="email")
    by_sms = member(preferred_channel="sms")
    member(city="Elsewhere")
    camp = campaign()
    # when
    camp = send(camp)
    # then
    messages = Message.objects.filter(cause_type="campaign", cause_id=str(camp.pk))
    assert sorted(messages.values_list("customer_id", "channel")) == sorted(
        [(by_email.pk, "email"), (by_sms.pk, "sms")]
    )
    assert set(messages.values_list("purpose", flat=True)) == {MessagePurpose.MARKETING}
    assert camp.status == CampaignStatus.SENT and camp.total == 2 and camp.processed == 2


def test_the_next_consented_channel_in_the_configured_order_when_the_preferred_one_is_not_consented():
    person = member(push=True, preferred_channel="push", consents=("email", "sms"))
    with override_settings(CUSTOMERS_MESSAGE_CHANNELS=["push", "messenger", "sms", "email"]):
        camp = send(campaign())
    assert outcome(camp, person).channel == "sms"


def test_only_the_campaigns_channels_are_used():
    person = member(preferred_channel="email", consents=("email", "sms"))
    camp = send(campaign(channels=("sms",)))
    assert outcome(camp, person).message.channel == "sms"


def test_members_without_consent_or_address_are_skipped_with_the_reason():
    no_marketing = member(consents=())
    no_personal_data = member(consents=(), personal_data=False)
    no_address = member(phone=False, email=False, consents=())
    camp = send(campaign())
    assert outcome(camp, no_marketing).reason == SkipReason.NO_CONSENT
    assert outcome(camp, no_personal_data).reason == SkipReason.NO_CONSENT
    assert outcome(camp, no_address).reason == SkipReason.NO_ADDRESS
    assert not Message.objects.exists()


def test_running_again_sends_nobody_twice():
    person = member()
    camp = send(campaign())
    Campaign.objects.filter(pk=camp.pk).update(status=CampaignStatus.SENDING, listed_at=None)
    send(camp)
    assert Message.objects.filter(customer=person).count() == 1


def test_placeholders_are_filled_in_the_members_language_with_a_personal_single_use_code(programme):
    # given
    russian = member(language="ru", first_name="Анна")
    english = member(language="en", first_name="Anna")
    points_for(russian, 1250)
    # when
    camp = send(campaign(promo_kind=PromoKind.PERCENT, promo_value=10, conversion_days=5))
    # then
    ru, en = outcome(camp, russian), outcome(camp, english)
    assert ru.message.body.startswith(f"Анна, у вас 1\xa0250 баллов. Код: {ru.promo_code}")
    assert ru.message.subject == "Весенняя распродажа"
    assert en.message.body.startswith(f"Anna, you have 0 points. Code: {en.promo_code}")
    assert ru.promo_code != en.promo_code
    code = PromoCode.objects.get(code=ru.promo_code)
    assert (code.kind, code.value, code.max_uses) == (PromoKind.PERCENT, 10, 1)
    assert code.valid_until == NOON + datetime.timedelta(days=5)


def test_every_message_carries_an_unsubscribe_link_in_its_language():
    russian, english = member(language="ru"), member(language="en")
    camp = send(campaign())
    assert (
        outcome(camp, russian)
        .message.body.splitlines()[-1]
        .startswith("Отписаться: http://localhost:8000/m/unsubscribe/")
    )
    assert (
        outcome(camp, english)
        .message.body.splitlines()[-1]
        .startswith("Unsubscribe: http://localhost:8000/m/unsubscribe/")
    )


def test_a_text_that_places_the_link_itself_gets_no_second_one():
    person = member(language="en")
    camp = send(campaign(text_en="Hi {{ name }}! Stop: {{ unsubscribe_url }}"))
    assert outcome(camp, person).message.body.count("/m/unsubscribe/") == 1


@override_settings(MARKETING_QUIET_START_HOUR=21, MARKETING_QUIET_END_HOUR=9)
def test_quiet_hours_in_the_customers_time_zone_hold_the_message_until_morning():
    # given: noon in Moscow is 19:00 in Vladivostok (not quiet) and 22:00 in Kamchatka (quiet)
    vladivostok = member(time_zone="Asia/Vladivostok")
    kamchatka = member(time_zone="Asia/Kamchatka")
    # when
    camp = send(campaign())
    # then
    assert outcome(camp, vladivostok).status == RecipientStatus.SENT
    held = outcome(camp, kamchatka)
    morning = datetime.datetime.combine(
        NOON.date() + datetime.timedelta(days=1), datetime.time(9), tzinfo=ZoneInfo("Asia/Kamchatka")
    )
    assert (held.status, held.due_at, held.message) == (RecipientStatus.HELD, morning, None)
    assert camp.status == CampaignStatus.SENDING
    # before the morning nothing goes
    send(camp, now=morning - datetime.timedelta(minutes=1))
    assert outcome(camp, kamchatka).status == RecipientStatus.HELD
    # in the morning it goes, once, and the campaign is done
    camp = send(camp, now=morning)
    assert outcome(camp, kamchatka).message is not None
    assert camp.status == CampaignStatus.SENT


@override_settings(MARKETING_WEEKLY_CAP=2)
def test_the_weekly_cap_counts_marketing_messages_across_campaigns():
    person = member()
    first = send(campaign(name="first"))
    second = send(campaign(name="second"), now=NOON + datetime.timedelta(days=1))
    third = send(campaign(name="third"), now=NOON + datetime.timedelta(days=2))
    assert outcome(first, person).status == RecipientStatus.SENT
    assert outcome(second, person).status == RecipientStatus.SENT
    assert (outcome(third, person).status, outcome(third, person).reason) == (
        RecipientStatus.SKIPPED,
        SkipReason.CAPPED,
    )
    Message.objects.update(created_at=NOON - datetime.timedelta(days=8))  # a week later
    fourth = send(campaign(name="fourth"))
    assert outcome(fourth, person).status == RecipientStatus.SENT


@override_settings(MARKETING_CONTROL_PERCENT=50)
def test_the_control_group_is_held_out_at_random_and_the_same_in_every_run():
    people = [member() for _ in range(30)]
    camp = send(campaign())
    control = set(
        Recipient.objects.filter(campaign=camp, status=RecipientStatus.CONTROL).values_list("customer_id", flat=True)
    )
    assert 0 < len(control) < len(people)
    assert not Message.objects.filter(customer_id__in=control).exists()
    assert Message.objects.count() == len(people) - len(control)
    assert camp.control_percent == 50


def test_a_merged_member_is_skipped():
    person = member()
    Customer.objects.filter(pk=person.pk).update(anonymised_at=NOON)
    camp = send(campaign())
    assert not Recipient.objects.filter(campaign=camp, customer=person).exists()  # not a member any more


def test_a_batch_costs_the_same_queries_whatever_its_size():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries_for(count):
        camp = campaign(seg=segment(city=f"City{count}"))
        for _ in range(count):
            member(city=f"City{count}")
        launched(camp)
        with (
            mock.patch("customers.messaging.services._schedule_batch"),
            CaptureQueriesContext(connection) as ctx,
        ):
            campaign_run(camp.pk, now=NOON)
        return len(ctx.captured_queries)

    assert queries_for(2) == queries_for(6)


def test_a_scheduled_campaign_waits_for_its_time():
    from omni.marketing.tasks import run_due_campaigns

    person = member()
    later = NOON + datetime.timedelta(hours=2)
    camp = launched(campaign(send_at=later))
    with mock.patch("django.utils.timezone.now", return_value=NOON):
        assert run_due_campaigns() == 0
    campaign_run(camp.pk, now=NOON)
    assert not Message.objects.filter(customer=person).exists()
    with (
        mock.patch("omni.marketing.tasks.run_campaign.delay") as delay,
        mock.patch("django.utils.timezone.now", return_value=later),
    ):
        assert run_due_campaigns() == 1
    delay.assert_called_once_with(camp.pk)
    send(camp, now=later)
    assert Message.objects.filter(customer=person).count() == 1
