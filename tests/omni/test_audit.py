"""The audit trail's kernel: what ``omni.core.audit`` writes, and the read-only list of every change."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from customers.models import Customer
from customers.services import IdentityInput, customer_identify, customer_update
from inventory.services import ProductData, product_upsert
from omni.core.actors import SYSTEM, Actor
from omni.core.audit import audit_changes, audit_event, audit_text, audit_value_label
from omni.core.models import AuditEvent, AuditKind
from omni.core.roles import ADMINISTRATOR, HEAD_OFFICE, ROLE_PERMISSIONS, STORE_MANAGER, STORE_STAFF
from tests.inventory.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer() -> Customer:
    return customer_identify(identities=[IdentityInput("phone", "+79161234567")], profile={"city": "Omsk"}).customer


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        ("", ""),
        (True, "True"),
        (Decimal("10.50"), "10.50"),
        (datetime.date(1990, 5, 1), "1990-05-01"),
        (["a", "b"], "a, b"),
    ],
)
def test_values_are_kept_as_plain_text(value, text):
    assert audit_text(value) == text


def test_one_row_per_changed_field_and_none_for_the_same_text(customer):
    staff = UserFactory()

    events = audit_changes(
        Actor(user=staff), customer, {"city": "Omsk", "notes": None}, {"city": "Omsk", "notes": "", "tags": ["x"]}
    )

    assert [(e.field_name, e.old_value, e.new_value, e.created_by) for e in events] == [("tags", "", "x", staff)]
    assert audit_changes(SYSTEM, customer, {"city": "Omsk"}, {"city": "Omsk"}) == []


def test_a_recorded_choice_is_shown_by_its_label_and_an_empty_value_as_a_dash(customer):
    event = audit_event(SYSTEM, customer, AuditKind.CHANGED, field="acquisition_channel", old="", new="call_centre")

    assert audit_value_label(event, event.new_value) == "call centre"
    assert audit_value_label(event, event.old_value) == "—"


def test_numbers_and_dates_are_shown_in_the_readers_format(customer):
    product, _created = product_upsert(data=ProductData(sku="A-1", name="Shirt", price="1990"))
    price = audit_event(SYSTEM, product, AuditKind.CHANGED, field="price", old="1990.00", new="12.5")
    birthday = audit_event(SYSTEM, customer, AuditKind.CHANGED, field="birthday", new="1990-05-01")

    with translation.override("ru"):
        assert (audit_value_label(price, price.old_value), audit_value_label(price, price.new_value)) == (
            "1990,00",
            "12,50",
        )
        assert audit_value_label(birthday, birthday.new_value) == "01.05.1990"


def test_head_office_and_administrators_may_read_the_list_store_roles_only_the_objects_pages():
    for role in (HEAD_OFFICE, ADMINISTRATOR):
        assert "omni.view_auditevent" in ROLE_PERMISSIONS[role]
    for role in (STORE_STAFF, STORE_MANAGER):
        assert "omni.view_auditevent" not in ROLE_PERMISSIONS[role]


class TestList:
    URL = reverse("admin:omni_auditevent_changelist")

    @pytest.fixture
    def office(self, client, staff_in_role):
        user = staff_in_role(HEAD_OFFICE, username="office")
        client.force_login(user)
        return user

    def test_lists_every_change_with_a_link_to_the_object_and_filters(self, client, office, customer):
        customer_update(customer=customer, data={"city": "Kazan"}, actor=Actor(user=office))
        query = {"kind": AuditKind.CHANGED, "created_by__id__exact": office.pk, "q": str(customer.pk)}

        response = client.get(self.URL, query)

        assert response.status_code == 200
        assert [e.new_value for e in response.context["cl"].result_list] == ["Kazan"]
        page = response.content.decode()
        assert reverse("admin:customers_customer_change", args=[customer.pk]) in page
        assert '<td class="field-object_model">customer</td>' in page
        assert "Omsk" in page and "office" in page

    def test_the_objects_page_links_to_its_whole_history(self, client, office, customer):
        customer_update(customer=customer, data={"city": "Kazan"}, actor=Actor(user=office))
        other = customer_identify(identities=[IdentityInput("phone", "+79160000000")], profile={}).customer
        customer_update(customer=other, data={"city": "Tula"}, actor=Actor(user=office))
        page = client.get(reverse("admin:customers_customer_change", args=[customer.pk])).content.decode()
        link = page[page.index(self.URL + "?") :].split('"', 1)[0].replace("&amp;", "&")

        response = client.get(link)

        assert [e.new_value for e in response.context["cl"].result_list] == ["Kazan"]

    def test_a_search_that_is_no_number_finds_nothing(self, client, office, customer):
        customer_update(customer=customer, data={"city": "Kazan"}, actor=SYSTEM)
        response = client.get(self.URL, {"q": "Kazan"})
        assert response.status_code == 200
        assert list(response.context["cl"].result_list) == []

    def test_is_read_only(self, client, staff_in_role, customer):
        client.force_login(staff_in_role(ADMINISTRATOR))
        customer_update(customer=customer, data={"city": "Kazan"}, actor=SYSTEM)
        event = AuditEvent.objects.get()

        assert client.get(reverse("admin:omni_auditevent_add")).status_code == 403
        assert client.post(reverse("admin:omni_auditevent_delete", args=[event.pk]), {"post": "yes"}).status_code == 403
        page = client.get(reverse("admin:omni_auditevent_change", args=[event.pk]))
        assert page.status_code == 200 and not page.context["has_change_permission"]
        client.post(reverse("admin:omni_auditevent_change", args=[event.pk]), {"new_value": "Paris"})
        assert AuditEvent.objects.get().new_value == "Kazan"

    def test_store_staff_cannot_open_it(self, client, staff_in_role):
        client.force_login(staff_in_role(STORE_STAFF))
        assert client.get(self.URL).status_code == 403
