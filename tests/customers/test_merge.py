import threading

import pytest
from django.db import connection
from django.utils import timezone

from customers import cases, merge, services
from customers.errors import CannotMergeWithItself, CustomerMerged
from customers.messaging.services import message_send
from customers.models import (
    Case,
    CaseMessage,
    Consent,
    ConsentEvent,
    ConsentPurpose,
    Customer,
    DuplicateCandidate,
    DuplicateStatus,
    Feedback,
    Identity,
    Interaction,
    InteractionKind,
    Message,
)
from customers.selectors import customer_resolve
from customers.services import ConsentChange, IdentityInput
from omni.core.channels import Channel
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db

PD = ConsentChange(ConsentPurpose.PERSONAL_DATA, True)


def rich_customer(phone: str, email: str, **profile) -> Customer:
    """A customer with a row of every kind the customers app keeps."""
    customer = services.customer_identify(
        identities=[IdentityInput("phone", phone), IdentityInput("email", email)],
        profile=profile,
        consents=[PD, ConsentChange(ConsentPurpose.MARKETING, True, "sms")],
        channel=Channel.SITE,
    ).customer
    services.interaction_record(
        customer=customer, channel=Channel.CALL_CENTRE, kind=InteractionKind.CALL, summary="Call"
    )
    case = cases.case_open(customer=customer, subject="Question", channel=Channel.SITE, body="Hello")
    cases.case_add_message(case=case, body="Answer", channel=Channel.EMAIL, direction="outbound")
    cases.feedback_record(customer=customer, score=9, channel=Channel.SITE)
    message_send(customer=customer, kind="promo", purpose="marketing", text="Sale!", dedupe_key="promo-november")
    return customer


MODELS = [Identity, ConsentEvent, Interaction, Case, CaseMessage, Feedback, Message]


def counts() -> dict:
    return {model.__name__: model.objects.count() for model in MODELS}


def test_merge_moves_everything_and_loses_nothing():
    survivor = rich_customer("+79161234567", "ivan@example.com", first_name="Ivan")
    merged = rich_customer("+79167654321", "ivan.p@example.com", last_name="Petrov", tags=["size:M"])
    services.duplicates_detect()
    DuplicateCandidate.objects.create(first=survivor, second=merged, reason="identify_conflict")
    before = counts()
    consents_before = {
        (c.purpose, c.channel) for c in Consent.objects.filter(customer__in=[survivor, merged], granted=True)
    }

    result = merge.customer_merge(survivor=survivor, merged=merged)

    after = counts()
    # Only the merge itself was added to the timeline.
    assert after == {**before, "Interaction": before["Interaction"] + 1}
    for model in MODELS:
        owner = "case__customer" if model is CaseMessage else "customer"
        assert not model.objects.filter(**{owner: merged}).exists(), model.__name__
    assert {(c.purpose, c.channel) for c in Consent.objects.filter(customer=survivor, granted=True)} == consents_before
    assert not Consent.objects.filter(customer=merged).exists()

    merged.refresh_from_db()
    result.refresh_from_db()
    assert merged.merged_into == survivor and merged.merged_at is not None
    assert (result.first_name, result.last_name, result.tags) == ("Ivan", "Petrov", ["size:M"])
    assert set(result.identities.values_list("value", flat=True)) == {
        "+79161234567",
        "ivan@example.com",
        "+79167654321",
        "ivan.p@example.com",
    }
    # The same campaign reached both profiles: both rows are kept, the key stays unique.
    assert Message.objects.filter(customer=survivor).count() == 2
    assert Interaction.objects.filter(customer=survivor, kind=InteractionKind.MERGE).count() == 1
    assert DuplicateCandidate.objects.get(first=survivor, second=merged).status == DuplicateStatus.MERGED


def test_an_old_id_resolves_to_the_survivor_even_through_several_merges():
    a, b, c = CustomerFactory(), CustomerFactory(), CustomerFactory()
    merge.customer_merge(survivor=b, merged=a)
    merge.customer_merge(survivor=c, merged=b)

    assert customer_resolve(a.pk) == c
    assert customer_resolve(b.pk) == c
    a.refresh_from_db()
    assert a.merged_into == c  # the chain is flattened
    assert customer_resolve(999_999) is None


def test_merged_profile_cannot_be_merged_or_changed_again():
    a, b, c = CustomerFactory(), CustomerFactory(), CustomerFactory()
    merge.customer_merge(survivor=a, merged=b)
    with pytest.raises(CustomerMerged):
        merge.customer_merge(survivor=c, merged=b)
    with pytest.raises(CustomerMerged):
        services.customer_update(customer=b, data={"city": "Omsk"})
    with pytest.raises(CannotMergeWithItself):
        merge.customer_merge(survivor=a, merged=a)


def test_the_most_recent_consent_decision_wins():
    survivor, merged = CustomerFactory(), CustomerFactory()
    services.consents_record(
        customer=survivor,
        changes=[PD, ConsentChange(ConsentPurpose.MARKETING, True, "email")],
        source_channel=Channel.SITE,
    )
    services.consents_record(
        customer=merged,
        changes=[PD, ConsentChange(ConsentPurpose.MARKETING, False, "email")],
        source_channel=Channel.STORE,
    )
    Consent.objects.filter(customer=survivor).update(changed_at=timezone.now() - timezone.timedelta(days=30))

    merge.customer_merge(survivor=survivor, merged=merged)

    assert not Consent.objects.get(customer=survivor, channel="email").granted
    assert ConsentEvent.objects.filter(customer=survivor).count() == 4


def test_other_apps_move_their_rows_through_the_registry():
    calls = []
    merge.register_merge_step("tests.fake_app", lambda source, survivor: calls.append((source.pk, survivor.pk)))
    try:
        survivor, merged = CustomerFactory(), CustomerFactory()
        merge.customer_merge(survivor=survivor, merged=merged)
    finally:
        merge._steps.pop("tests.fake_app")
    assert calls == [(merged.pk, survivor.pk)]


def test_a_failing_step_refuses_the_whole_merge():
    def refuse(source, survivor):
        raise CustomerMerged()

    survivor, merged = CustomerFactory(), CustomerFactory()
    services.identity_attach(customer=merged, kind="phone", value="+79161234567")
    merge.register_merge_step("tests.refuse", refuse)
    try:
        with pytest.raises(CustomerMerged):
            merge.customer_merge(survivor=survivor, merged=merged)
    finally:
        merge._steps.pop("tests.refuse")
    merged.refresh_from_db()
    assert merged.merged_into is None
    assert merged.identities.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_opposite_merges_racing_do_not_deadlock_and_one_wins():
    a, b = CustomerFactory(), CustomerFactory()
    services.identity_attach(customer=a, kind="phone", value="+79161234567")
    services.identity_attach(customer=b, kind="phone", value="+79167654321")
    barrier = threading.Barrier(2)
    outcomes = []

    def worker(survivor, merged):
        try:
            barrier.wait()
            merge.customer_merge(survivor=survivor, merged=merged)
            outcomes.append("merged")
        except CustomerMerged:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=pair) for pair in [(a, b), (b, a)]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["merged", "refused"]
    assert Customer.objects.filter(merged_into__isnull=True).count() == 1
    assert Identity.objects.values("customer").distinct().count() == 1
