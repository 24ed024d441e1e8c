import datetime
import json

import pytest

from customers import cases, personal_data, services
from customers.errors import CustomerAnonymised
from customers.messaging.services import message_send
from customers.models import (
    CaseMessage,
    Consent,
    ConsentPurpose,
    Feedback,
    Identity,
    Interaction,
    InteractionKind,
    Message,
    MessageStatus,
)
from customers.selectors import customer_lookup
from customers.services import ConsentChange, IdentityInput
from omni.core.actors import Actor
from omni.core.channels import Channel
from tests.inventory.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer():
    customer = services.customer_identify(
        identities=[IdentityInput("phone", "+79161234567"), IdentityInput("email", "ivan@example.com")],
        profile={"first_name": "Ivan", "last_name": "Petrov", "birthday": datetime.date(1990, 5, 1), "city": "Omsk"},
        consents=[
            ConsentChange(ConsentPurpose.PERSONAL_DATA, True),
            ConsentChange(ConsentPurpose.MARKETING, True, "sms"),
        ],
        channel=Channel.SITE,
    ).customer
    cases.case_open(customer=customer, subject="Refund", channel=Channel.SITE, body="My card is 1234")
    cases.feedback_record(customer=customer, score=3, comment="Ivan was unhappy", channel=Channel.SITE)
    message_send(customer=customer, kind="order_ready", purpose="service", text="Hello {{ customer.first_name }}")
    return customer


def test_export_is_one_json_document_with_everything(customer):
    document = personal_data.customer_data_export(customer=customer)

    assert json.loads(json.dumps(document)) == document
    assert document["customer"]["first_name"] == "Ivan"
    assert document["customer"]["birthday"] == "1990-05-01"
    assert {i["value"] for i in document["identities"]} == {"+79161234567", "ivan@example.com"}
    assert {(c["purpose"], c["channel"]) for c in document["consents"]} == {("personal_data", ""), ("marketing", "sms")}
    assert len(document["consent_history"]) == 2
    assert document["cases"][1]["messages"][0]["body"] == "Ivan was unhappy"
    assert document["messages"][0]["body"] == "Hello Ivan"
    assert document["feedback"][0]["score"] == 3
    assert Interaction.objects.filter(customer=customer, kind=InteractionKind.PERSONAL_DATA).exists()


def test_other_apps_add_their_sections():
    personal_data.register_export_section("tests.orders", lambda customer: [{"number": "W-1"}])
    try:
        customer = services.customer_identify(identities=[IdentityInput("phone", "+79161234567")]).customer
        document = personal_data.customer_data_export(customer=customer)
    finally:
        personal_data._export_sections.pop("tests.orders")
    assert document["tests.orders"] == [{"number": "W-1"}]


def test_anonymisation_erases_personal_data_and_records_the_act(customer):
    user = UserFactory()
    erased = []
    personal_data.register_anonymise_step("tests.orders", lambda c: erased.append(c.pk))
    try:
        personal_data.customer_anonymise(customer=customer, actor=Actor(user=user))
    finally:
        personal_data._anonymise_steps.pop("tests.orders")

    customer.refresh_from_db()
    assert customer.anonymised_at is not None
    assert (customer.first_name, customer.last_name, customer.birthday, customer.city) == ("", "", None, "")
    assert not Identity.objects.filter(customer=customer).exists()
    assert customer_lookup("phone", "8 916 123 45 67") is None
    assert not Consent.objects.filter(customer=customer, granted=True).exists()
    assert not CaseMessage.objects.filter(case__customer=customer).exclude(body="").exists()
    assert not Feedback.objects.filter(customer=customer).exclude(comment="").exists()
    message = Message.objects.get(customer=customer)
    assert (message.status, message.body, message.recipient) == (MessageStatus.FAILED, "", "")
    assert erased == [customer.pk]
    record = Interaction.objects.filter(customer=customer, kind=InteractionKind.PERSONAL_DATA).get()
    assert record.staff == user
    # The records stay, for accounting: the cases and the feedback still exist.
    assert customer.cases.count() == 2 and customer.feedback.count() == 1

    with pytest.raises(CustomerAnonymised):
        personal_data.customer_anonymise(customer=customer)
    # The phone is free again: a new identify creates a new profile.
    again = services.customer_identify(identities=[IdentityInput("phone", "+79161234567")])
    assert again.created and again.customer.pk != customer.pk


def test_anonymisation_erases_every_free_text_about_the_customer(customer):
    from customers.models import Case, ConsentEvent

    services.interaction_record(
        customer=customer,
        channel=Channel.CALL_CENTRE,
        kind=InteractionKind.CALL,
        summary="Ivan Petrov called about the refund to his card 1234",
        details="Lives at Arbat 5",
    )
    cases.case_open(customer=customer, subject="Ivan Petrov: parcel left at Arbat 5", channel=Channel.SITE, body="?")
    services.consents_record(
        customer=customer,
        changes=[ConsentChange(ConsentPurpose.MARKETING, False, "sms")],
        source_channel=Channel.CALL_CENTRE,
        note="Ivan said stop on the phone",
    )
    assert Interaction.objects.filter(customer=customer, summary__contains="Ivan").exists()

    personal_data.customer_anonymise(customer=customer)

    erased = Interaction.objects.filter(customer=customer).exclude(kind=InteractionKind.PERSONAL_DATA)
    assert erased.count() >= 4
    assert not erased.exclude(summary="", details="").exists()
    assert not Case.objects.filter(customer=customer).exclude(subject="").exists()
    assert not CaseMessage.objects.filter(case__customer=customer).exclude(body="").exists()
    assert not Feedback.objects.filter(customer=customer).exclude(comment="").exists()
    assert not Message.objects.filter(customer=customer).exclude(subject="", body="", recipient="").exists()
    assert not ConsentEvent.objects.filter(customer=customer, note__contains="Ivan").exists()
