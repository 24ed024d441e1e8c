"""What the customers' services record in the audit trail, and the history on the customer's page."""

import datetime

import pytest
from django.urls import reverse

from customers import cases, services
from customers.messaging.services import message_send
from customers.models import Case, Customer, Message
from customers.personal_data import customer_anonymise
from customers.services import IdentityInput
from omni.core.actors import SYSTEM, Actor
from omni.core.audit import audit_events_for
from omni.core.channels import Channel
from omni.core.models import AuditKind
from omni.core.roles import STORE_STAFF
from omni.core.services import api_key_create
from tests.inventory.factories import LocationFactory, UserFactory

pytestmark = pytest.mark.django_db


def make_customer(**profile) -> Customer:
    return services.customer_identify(identities=[IdentityInput("phone", "+79161234567")], profile=profile).customer


def rows(obj) -> list[tuple]:
    return [
        (e.kind, e.field_name, e.old_value, e.new_value, e.created_by_id, e.api_key_id)
        for e in audit_events_for(obj).order_by("id")
    ]


@pytest.fixture
def staff():
    return UserFactory()


class TestCustomerUpdate:
    def test_every_changed_field_old_and_new_with_who(self, staff):
        store = LocationFactory(name="Tverskaya")
        customer = make_customer(first_name="Ivan", city="Moscow")

        services.customer_update(
            customer=customer,
            data={
                "first_name": "Ivan",
                "city": "Kazan",
                "birthday": datetime.date(1990, 5, 1),
                "preferred_store": store,
            },
            actor=Actor(user=staff),
        )

        assert rows(customer) == [
            (AuditKind.CHANGED, "city", "Moscow", "Kazan", staff.pk, None),
            (AuditKind.CHANGED, "birthday", "", "1990-05-01", staff.pk, None),
            (AuditKind.CHANGED, "preferred_store", "", str(store), staff.pk, None),
        ]

    def test_an_api_key_is_who_did_it(self):
        api_key, _raw = api_key_create(name="shop", scopes=[])
        customer = make_customer(tags=["vip"])

        services.customer_update(customer=customer, data={"tags": ["vip", "b2b"]}, actor=Actor(api_key=api_key))

        assert rows(customer) == [(AuditKind.CHANGED, "tags", "vip", "b2b, vip", None, api_key.pk)]

    def test_nothing_changed_nothing_recorded(self, staff):
        customer = make_customer(first_name="Ivan")

        services.customer_update(customer=customer, data={"first_name": "Ivan"}, actor=Actor(user=staff))

        assert rows(customer) == []

    def test_erasing_personal_data_empties_the_values_and_keeps_who_and_when(self, staff):
        customer = make_customer(first_name="Ivan")
        services.customer_update(customer=customer, data={"first_name": "Petr"}, actor=Actor(user=staff))

        customer_anonymise(customer=customer)

        assert rows(customer) == [(AuditKind.CHANGED, "first_name", "", "", staff.pk, None)]


def test_identity_attach_records_the_identity_on_the_customer(staff):
    customer = make_customer()

    services.identity_attach(customer=customer, kind="email", value="Ivan@Example.com", actor=Actor(user=staff))
    services.identity_attach(customer=customer, kind="email", value="ivan@example.com", actor=Actor(user=staff))

    assert rows(customer) == [(AuditKind.IDENTITY_ATTACHED, "identities", "", "ivan@example.com", staff.pk, None)]


def test_case_assign_records_old_and_new_assignee_and_nothing_when_the_same(staff):
    first, second = UserFactory(username="anna"), UserFactory(username="boris")
    case = cases.case_open(customer=make_customer(), subject="Late order", channel=Channel.CALL_CENTRE, assignee=first)

    cases.case_assign(case=case, assignee=second, actor=Actor(user=staff))
    cases.case_assign(case=case, assignee=second, actor=Actor(user=staff))
    cases.case_assign(case=case, assignee=None, actor=SYSTEM)

    assert rows(case) == [
        (AuditKind.CASE_ASSIGNED, "assignee", "anna", "boris", staff.pk, None),
        (AuditKind.CASE_ASSIGNED, "assignee", "boris", "", None, None),
    ]
    assert Case.objects.get(pk=case.pk).assignee is None


def test_message_send_records_the_message_and_its_channel_once(staff):
    customer = make_customer()

    message = message_send(
        customer=customer, kind="hello", purpose="service", text="Hi", dedupe_key="k", actor=Actor(user=staff)
    )
    again = message_send(
        customer=customer, kind="hello", purpose="service", text="Hi", dedupe_key="k", actor=Actor(user=staff)
    )

    assert again == message
    assert Message.objects.count() == 1
    assert rows(message) == [(AuditKind.MESSAGE_SENT, "channel", "", message.channel, staff.pk, None)]


class TestCustomerPage:
    def test_shows_the_history_newest_first_in_the_readers_language(self, client, staff_in_role):
        user = staff_in_role(STORE_STAFF, username="olga")
        client.force_login(user)
        customer = make_customer(acquisition_channel="site")
        services.customer_update(customer=customer, data={"acquisition_channel": "call_centre"}, actor=Actor(user=user))
        services.customer_update(customer=customer, data={"birthday": datetime.date(1990, 5, 1)}, actor=SYSTEM)

        page = client.get(reverse("admin:customers_customer_change", args=[customer.pk])).content.decode()

        assert "History of changes" in page
        history = page[page.index("History of changes") :]
        assert history.index("birthday") < history.index("acquisition channel")
        assert "olga" in history and "system" in history
        assert "website" in history and "call centre" in history
        assert "Every change" not in page  # store staff see the history of what they see, not the list

        client.cookies["django_language"] = "ru"
        page = client.get(reverse("admin:customers_customer_change", args=[customer.pk])).content.decode()
        assert "История изменений" in page

    def test_editing_the_profile_in_the_admin_is_recorded(self, client):
        admin = UserFactory(is_superuser=True)
        client.force_login(admin)
        customer = make_customer(first_name="Ivan")
        url = reverse("admin:customers_customer_change", args=[customer.pk])
        profile = dict.fromkeys(services.PROFILE_FIELDS, "")
        identities = {"identities-TOTAL_FORMS": "1", "identities-INITIAL_FORMS": "1"}
        identity = {"identities-0-id": str(customer.identities.get().pk), "identities-0-customer": str(customer.pk)}
        data = {**profile, **identities, **identity, "first_name": "Petr", "tags": "[]"}

        response = client.post(url, data)

        assert response.status_code == 302
        assert rows(customer) == [(AuditKind.CHANGED, "first_name", "Ivan", "Petr", admin.pk, None)]
