"""A merge of two profiles moves their campaign rows and carts to the survivor, once per campaign."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from customers.merge import customer_merge
from omni.marketing.carts import CartLineInput, cart_record
from omni.marketing.models import Cart, Recipient, RecipientStatus, SkipReason
from omni.marketing.results import campaign_results
from tests.marketing.factories import campaign, member
from tests.marketing.test_results import buy
from tests.marketing.test_sending import send
from tests.orders.factories import product, stock, store

pytestmark = pytest.mark.django_db


def test_a_merge_moves_campaign_members_and_carts_to_the_survivor_keeping_one_row_per_campaign():
    # given: the duplicate alone got the first campaign; both were members of the second, where
    # the survivor (no consent) was skipped and the duplicate was sent the message
    shop, item = store(), product(sku="MRG-1")
    stock(shop, item, 10)
    duplicate = member()
    first = send(campaign(name="first"), now=timezone.now())
    survivor = member(consents=())
    second = send(campaign(name="second"), now=timezone.now())
    assert Recipient.objects.get(campaign=second, customer=survivor).reason == SkipReason.NO_CONSENT
    cart_record(
        channel="site",
        external_id="m-1",
        customer=duplicate,
        lines=[CartLineInput(item.sku, 1)],
        changed_at=timezone.now(),
    )
    buy(duplicate, shop, item, timezone.now() + datetime.timedelta(hours=1))
    # when
    customer_merge(survivor=survivor, merged=duplicate)
    # then: each campaign has one row for the person, the one that went furthest
    rows = Recipient.objects.filter(customer_id__in=[survivor.pk, duplicate.pk])
    assert sorted(rows.values_list("campaign_id", "customer_id", "status")) == [
        (first.pk, survivor.pk, RecipientStatus.SENT),
        (second.pk, survivor.pk, RecipientStatus.SENT),
    ]
    assert Recipient.objects.get(campaign=second, customer=survivor).message.customer_id == survivor.pk
    assert Cart.objects.get().customer_id == survivor.pk
    # and the person's order (moved by the orders step) still counts as the campaign's conversion
    results = campaign_results(second)
    assert (results.sent, results.sent_converted) == (1, 1)


def test_a_merge_keeps_the_survivors_row_when_it_went_further():
    skipped = member(consents=())
    sent = member()
    camp = send(campaign(), now=timezone.now())
    customer_merge(survivor=sent, merged=skipped)
    rows = Recipient.objects.filter(campaign=camp)
    assert list(rows.values_list("customer_id", "status")) == [(sent.pk, RecipientStatus.SENT)]


def test_a_merge_moves_marketing_rows_in_a_fixed_number_of_statements():
    from omni.marketing.merge import move_marketing

    survivor, duplicate = member(), member()
    for _ in range(3):
        send(campaign(), now=timezone.now())
    with CaptureQueriesContext(connection) as queries:
        move_marketing(duplicate, survivor)
    assert len(queries) == 5  # both lists, one delete, two moves
    assert Recipient.objects.filter(customer=survivor).count() == 3
    assert not Recipient.objects.filter(customer=duplicate).exists()
