"""Two workers running the same campaign, or two campaigns at once: each member's messages are
exactly what the rules allow. Real threads on PostgreSQL, released together by a barrier."""

from unittest import mock

import pytest
from django.test import override_settings

from customers.models import Message
from omni.marketing.models import Campaign, CampaignStatus, Recipient, RecipientStatus
from omni.marketing.sending import campaign_run
from omni.marketing.services import campaign_launch
from tests.marketing.factories import campaign, member
from tests.racing import race_each

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def launched(camp):
    with mock.patch("omni.marketing.services.enqueue"):
        return campaign_launch(campaign=camp)


@override_settings(MARKETING_BATCH_SIZE=3)
def test_two_workers_sending_the_same_campaign_reach_each_member_once():
    # given
    people = [member() for _ in range(12)]
    camp = launched(campaign())
    # when
    with mock.patch("customers.messaging.services._schedule_batch"):
        errors, _results = race_each(lambda: campaign_run(camp.pk), lambda: campaign_run(camp.pk))
    # then
    assert errors == []
    per_customer = list(Message.objects.values_list("customer_id", flat=True).order_by("customer_id"))
    assert per_customer == sorted(person.pk for person in people)
    assert Recipient.objects.filter(campaign=camp, status=RecipientStatus.SENT).count() == 12
    camp = Campaign.objects.get(pk=camp.pk)
    assert (camp.status, camp.processed) == (CampaignStatus.SENT, 12)


@override_settings(MARKETING_BATCH_SIZE=4, MARKETING_WEEKLY_CAP=1)
def test_two_campaigns_at_once_keep_the_weekly_cap():
    people = [member() for _ in range(8)]
    first, second = launched(campaign(name="first")), launched(campaign(name="second"))
    with mock.patch("customers.messaging.services._schedule_batch"):
        errors, _results = race_each(lambda: campaign_run(first.pk), lambda: campaign_run(second.pk))
    assert errors == []
    for person in people:
        assert Message.objects.filter(customer=person).count() == 1
    assert Recipient.objects.filter(status=RecipientStatus.SKIPPED, reason="capped").count() == 8


def test_two_sweeps_racing_remind_a_cart_once():
    import datetime

    from django.utils import timezone

    from omni.marketing.carts import CartLineInput, cart_record, carts_remind
    from tests.orders.factories import product

    item = product(sku="RACE-1")
    person = member()
    cart_record(
        channel="site",
        external_id="r-1",
        customer=person,
        lines=[CartLineInput(item.sku, 1)],
        changed_at=timezone.now() - datetime.timedelta(hours=2),
    )
    with mock.patch("customers.messaging.services._schedule"):
        errors, _results = race_each(carts_remind, carts_remind)
    assert errors == []
    assert Message.objects.filter(customer=person, kind="cart_reminder").count() == 1
