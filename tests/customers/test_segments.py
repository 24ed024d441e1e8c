import datetime

import pytest
from django.db.models import Q
from django.utils import timezone

from customers import merge, segments, services
from customers.errors import UnknownSegmentCondition
from customers.models import ConsentPurpose, Segment, SegmentCondition
from customers.services import ConsentChange
from omni.core.channels import Channel
from omni.core.errors import InvalidInput
from tests.customers.factories import CustomerFactory
from tests.inventory.factories import LocationFactory

pytestmark = pytest.mark.django_db


def segment_of(*conditions) -> Segment:
    segment = Segment.objects.create(name=f"segment {Segment.objects.count()}")
    for condition, value, *period in conditions:
        SegmentCondition.objects.create(
            segment=segment,
            condition=condition,
            value=value,
            date_from=period[0] if period else None,
            date_to=period[1] if len(period) > 1 else None,
        )
    return segment


def members(segment) -> set[int]:
    return set(segments.segment_members(segment).values_list("pk", flat=True))


def test_city_and_preferred_store_combine():
    store = LocationFactory(code="omsk-1")
    both = CustomerFactory(city="Omsk", preferred_store=store)
    CustomerFactory(city="Omsk")
    CustomerFactory(city="Moscow", preferred_store=store)

    assert members(segment_of(("customers.city", "OMSK"), ("customers.preferred_store", "omsk-1"))) == {both.pk}


def test_marketing_consent_to_a_channel():
    consenting, withdrawn, other_channel = CustomerFactory(), CustomerFactory(), CustomerFactory()
    pd = ConsentChange(ConsentPurpose.PERSONAL_DATA, True)
    for customer, channel in [(consenting, "sms"), (withdrawn, "sms"), (other_channel, "email")]:
        services.consents_record(
            customer=customer,
            changes=[pd, ConsentChange(ConsentPurpose.MARKETING, True, channel)],
            source_channel=Channel.SITE,
        )
    services.consents_record(
        customer=withdrawn, changes=[ConsentChange(ConsentPurpose.MARKETING, False, "sms")], source_channel=Channel.SMS
    )

    assert members(segment_of(("customers.marketing_consent", "sms"))) == {consenting.pk}


def test_birthday_this_month():
    today = timezone.localdate()
    this_month = CustomerFactory(birthday=today.replace(year=1990, day=1))
    other_month = (today.replace(day=1) - datetime.timedelta(days=1)).replace(year=1991)
    CustomerFactory(birthday=other_month)
    CustomerFactory(birthday=None)

    assert members(segment_of(("customers.birthday_this_month", ""))) == {this_month.pk}


def test_created_channel_and_contacted_through_in_a_period():
    now = timezone.now()
    recent, old, never = (
        CustomerFactory(created_channel="app"),
        CustomerFactory(created_channel="app"),
        CustomerFactory(),
    )
    services.interaction_record(customer=recent, channel=Channel.MESSENGER, kind="chat_message", summary="hi")
    services.interaction_record(
        customer=old,
        channel=Channel.MESSENGER,
        kind="chat_message",
        summary="hi",
        occurred_at=now - datetime.timedelta(days=400),
    )

    last_month = (now - datetime.timedelta(days=30)).date()
    assert members(segment_of(("customers.contacted_through", "messenger", last_month))) == {recent.pk}
    assert members(segment_of(("customers.contacted_through", "messenger"))) == {recent.pk, old.pk}
    assert members(segment_of(("customers.created_channel", "app"))) == {recent.pk, old.pk}
    assert never.pk not in members(segment_of(("customers.created_channel", "app")))


def test_merged_and_anonymised_customers_are_not_members():
    survivor, merged = CustomerFactory(city="Omsk"), CustomerFactory(city="Omsk")
    merge.customer_merge(survivor=survivor, merged=merged)
    assert members(segment_of(("customers.city", "Omsk"))) == {survivor.pk}


def test_a_segment_is_evaluated_in_a_fixed_number_of_queries(django_assert_num_queries):
    for n in range(30):
        customer = CustomerFactory(city="Omsk")
        services.interaction_record(customer=customer, channel=Channel.SMS, kind="note", summary=f"n{n}")
    segment = segment_of(("customers.city", "Omsk"), ("customers.contacted_through", "sms"))

    # The conditions, whether there are any, then one query for the members.
    with django_assert_num_queries(3):
        assert len(list(segments.segment_members(segment))) == 30


def test_a_segment_without_conditions_has_no_members():
    CustomerFactory()
    assert members(Segment.objects.create(name="empty")) == set()


def test_other_apps_add_conditions_through_the_registry():
    vip = CustomerFactory(acquisition_campaign="vip-club")
    CustomerFactory()
    segments.register_segment_condition(
        "tests.campaign", "campaign", lambda value, since, until: Q(acquisition_campaign=value)
    )
    try:
        assert members(segment_of(("tests.campaign", "vip-club"))) == {vip.pk}
    finally:
        segments._conditions.pop("tests.campaign")


def test_condition_validation():
    segments.validate_condition("customers.city", "Omsk")
    with pytest.raises(UnknownSegmentCondition):
        segments.validate_condition("orders.total_spent", "100")
    with pytest.raises(InvalidInput):
        segments.validate_condition("customers.city", "")
    with pytest.raises(InvalidInput):
        segments.validate_condition("customers.marketing_consent", "pigeon")
    with pytest.raises(InvalidInput):
        segments.validate_condition(
            "customers.contacted_through", "sms", datetime.date(2026, 2, 1), datetime.date(2026, 1, 1)
        )
    with pytest.raises(UnknownSegmentCondition):
        segments.segment_members(segment_of(("gone.condition", "x"))).count()
