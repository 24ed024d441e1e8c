"""Merging two customers moves their accounts, points, cards and history to the survivor."""

from decimal import Decimal

import pytest

from customers.merge import customer_merge
from customers.models import Segment, SegmentCondition
from customers.segments import segment_members
from customers.selectors import customer_lookup
from loyalty import selectors, services
from loyalty.models import (
    Account,
    AccountStatus,
    Allocation,
    Card,
    OneTimeCode,
    OrderPoints,
    PointsEntry,
    PromoUsage,
    SpendRecord,
    TierChange,
)
from loyalty.services import otp_send, promo_apply
from tests.loyalty.factories import NOW, PromoCodeFactory, cart, customer, days, give, member

pytestmark = pytest.mark.django_db

MODELS = [Account, PointsEntry, Allocation, Card, SpendRecord, OrderPoints, TierChange, OneTimeCode, PromoUsage]


def counts() -> dict:
    return {model.__name__: model.objects.count() for model in MODELS}


def busy_member(reference: str) -> Account:
    """A member with a row of every kind loyalty keeps."""
    account = member(now=NOW - days(60))
    give(account, 500, now=NOW - days(50))
    services.points_earn_for_order(
        customer=account.customer, reference=reference, lines=cart(8000), channel="store", completed_at=NOW - days(40)
    )
    services.points_redeem(
        customer=account.customer,
        points=200,
        reference=f"{reference}-2",
        lines=cart(1000),
        channel="site",
        now=NOW - days(30),
    )
    services.card_issue(account=account)
    otp_send(customer=account.customer, channel="store", now=NOW - days(1))
    promo_apply(
        code=PromoCodeFactory().code, reference=reference, lines=cart(100), channel="site", customer=account.customer
    )
    return account


def test_both_members_the_survivor_gets_everything_and_the_other_account_is_closed():
    kept, moved = busy_member("W-1"), busy_member("W-2")
    before = counts()
    balance = selectors.balance(kept, now=NOW).available + selectors.balance(moved, now=NOW).available
    cards = sorted(Card.objects.values_list("number", flat=True))

    customer_merge(survivor=kept.customer, merged=moved.customer)

    # Nothing lost; one row more: the survivor's tier changed with the spend it took over.
    assert counts() == {**before, "TierChange": before["TierChange"] + 1}
    moved.refresh_from_db()
    assert (moved.status, moved.merged_into_id) == (AccountStatus.CLOSED, kept.pk)
    assert not PointsEntry.objects.filter(account=moved).exists()
    assert sorted(Card.objects.filter(account=kept).values_list("number", flat=True)) == cards
    assert selectors.balance(kept, now=NOW).available == balance == 2 * (500 + 400 - 200)
    assert all(customer_lookup("card", number) == kept.customer for number in cards)
    assert set(PromoUsage.objects.values_list("customer", flat=True)) == {kept.customer_id}
    kept.refresh_from_db()
    assert kept.tier.name == "Silver"  # 8,000 + 8,000 of spend now count together
    assert selectors.points_discrepancies() == []


def test_only_the_merged_profile_is_a_member_the_account_moves_whole():
    survivor, moved = customer(), busy_member("W-1")
    before = counts()

    customer_merge(survivor=survivor, merged=moved.customer)

    assert counts() == before
    moved.refresh_from_db()
    assert (moved.customer, moved.status) == (survivor, AccountStatus.ACTIVE)
    assert services.points_quote(customer=survivor, lines=cart(1000), channel="site", now=NOW).available == 700


def test_old_ids_and_references_keep_working_after_a_merge():
    kept, moved = busy_member("W-1"), busy_member("W-2")
    customer_merge(survivor=kept.customer, merged=moved.customer)

    result = services.points_reverse(reference="W-2-2", return_reference="C-1", now=NOW)

    assert result.points_given_back == 200
    assert selectors.balance(kept, now=NOW).available == 1600
    assert selectors.points_discrepancies() == []


def test_segment_by_loyalty_tier():
    rich, poor = member(), member()
    services.spend_record(
        customer=rich.customer, amount=Decimal("12000"), occurred_at=NOW, cause=services.Cause("x", "1")
    )
    services.tier_recalculate(customer=rich.customer, now=NOW)
    silver = Segment.objects.create(name="Silver")
    SegmentCondition.objects.create(segment=silver, condition="loyalty.tier", value="silver")
    members = Segment.objects.create(name="Members")
    SegmentCondition.objects.create(segment=members, condition="loyalty.member")

    assert list(segment_members(silver)) == [rich.customer]
    assert set(segment_members(members)) == {rich.customer, poor.customer}
