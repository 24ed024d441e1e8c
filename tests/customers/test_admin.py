import csv
import datetime
import io

import openpyxl
import pytest
from django.urls import reverse

from customers import cases, services
from customers.messaging.services import message_deliver, message_send
from customers.models import (
    Case,
    CaseStatus,
    Consent,
    ConsentPurpose,
    Customer,
    DuplicateCandidate,
    DuplicateStatus,
    Segment,
    SegmentCondition,
)
from customers.services import ConsentChange, IdentityInput
from omni.core.channels import Channel
from tests.inventory.factories import LocationFactory, UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:customers_customer_changelist")


@pytest.fixture
def superuser():
    return UserFactory(is_superuser=True)


def make_customer(phone="+79161234567", *more, **profile):
    identities = [IdentityInput("phone", phone), *(IdentityInput(kind, value) for kind, value in more)]
    return services.customer_identify(identities=identities, profile=profile).customer


class TestSearch:
    @pytest.mark.parametrize(
        "query", ["8 (916) 123-45-67", "+7 916 123 45 67", "9161234567", "IVAN@example.com", "4600 0000 0001", "Petr"]
    )
    def test_by_phone_in_any_form_email_card_and_name(self, client, staff_in_role, query):
        store = LocationFactory()
        client.force_login(staff_in_role("Store staff", locations=[store]))
        wanted = make_customer(
            "+79161234567", ("email", "ivan@example.com"), ("card", "460000000001"), last_name="Petrov"
        )
        make_customer("+79167654321", last_name="Sidorov")

        response = client.get(CHANGELIST, {"q": query})

        assert response.status_code == 200
        assert list(response.context["cl"].result_list) == [wanted]


class TestCustomerPage:
    def test_shows_profile_identities_consents_timeline_and_own_open_cases(self, client, staff_in_role):
        own, other = LocationFactory(), LocationFactory()
        client.force_login(staff_in_role("Store staff", locations=[own]))
        customer = services.customer_identify(
            identities=[IdentityInput("phone", "+79161234567")],
            profile={"first_name": "Ivan"},
            consents=[ConsentChange(ConsentPurpose.PERSONAL_DATA, True)],
        ).customer
        services.interaction_record(customer=customer, channel=Channel.CALL_CENTRE, kind="call", summary="Called us")
        cases.case_open(customer=customer, subject="Our store case", channel=Channel.STORE, store=own)
        cases.case_open(customer=customer, subject="Another store case", channel=Channel.STORE, store=other)

        response = client.get(reverse("admin:customers_customer_change", args=[customer.pk]))

        assert response.status_code == 200
        html = response.content.decode()
        for text in ["+79161234567", "personal data processing", "Called us", "Our store case"]:
            assert text in html
        # The timeline tells the whole story; the open cases listed are those of the user's stores.
        open_cases = list(response.context["open_cases"])
        assert [case.subject for case in open_cases] == ["Our store case"]

    def test_profile_changes_go_through_the_service(self, client, superuser):
        client.force_login(superuser)
        customer = make_customer(first_name="Ivan")
        url = reverse("admin:customers_customer_change", args=[customer.pk])
        data = {
            "first_name": "John",
            "last_name": "",
            "middle_name": "",
            "birthday": "",
            "gender": "",
            "city": "Omsk",
            "preferred_store": "",
            "preferred_channel": "",
            "preferred_payment_method": "",
            "tags": '["size:M"]',
            "notes": "",
            "acquisition_channel": "",
            "acquisition_campaign": "",
            "utm_source": "",
            "utm_medium": "",
            "utm_campaign": "",
            "identities-TOTAL_FORMS": "1",
            "identities-INITIAL_FORMS": "1",
            "identities-MIN_NUM_FORMS": "0",
            "identities-MAX_NUM_FORMS": "1000",
            "identities-0-id": str(customer.identities.get().pk),
            "identities-0-customer": str(customer.pk),
        }
        response = client.post(url, data)
        assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
        customer.refresh_from_db()
        assert (customer.first_name, customer.city, customer.tags) == ("John", "Omsk", ["size:M"])


class TestRegistration:
    URL = reverse("admin:customers_customer_register")

    def test_add_goes_to_the_registration_form(self, client, superuser):
        client.force_login(superuser)
        assert client.get(reverse("admin:customers_customer_add"))["Location"] == self.URL

    def test_register_in_the_store_with_consents(self, client, staff_in_role):
        store = LocationFactory()
        user = staff_in_role("Store staff", locations=[store])
        client.force_login(user)
        assert client.get(self.URL).status_code == 200

        response = client.post(
            self.URL,
            {
                "store": store.pk,
                "phone": "8 916 123 45 67",
                "first_name": "Anna",
                "consent_personal_data": "on",
                "consent_marketing": ["sms", "email"],
            },
        )

        customer = Customer.objects.get()
        assert response["Location"] == reverse("admin:customers_customer_change", args=[customer.pk])
        assert (customer.first_name, customer.preferred_store, customer.created_channel) == ("Anna", store, "store")
        granted = set(Consent.objects.filter(customer=customer, granted=True).values_list("purpose", "channel"))
        assert granted == {("personal_data", ""), ("marketing", "sms"), ("marketing", "email")}
        assert customer.consent_events.filter(created_by=user).count() == 3

    def test_invalid_phone_is_shown_on_the_field_and_creates_nothing(self, client, staff_in_role):
        store = LocationFactory()
        client.force_login(staff_in_role("Store staff", locations=[store]))

        response = client.post(self.URL, {"store": store.pk, "phone": "12345", "first_name": "Anna"})

        assert response.status_code == 200
        assert "phone" in response.context["form"].errors
        assert not Customer.objects.exists()

    def test_store_staff_register_only_in_their_stores(self, client, staff_in_role):
        own, other = LocationFactory(), LocationFactory()
        client.force_login(staff_in_role("Store staff", locations=[own]))
        response = client.post(self.URL, {"store": other.pk, "phone": "+79161234567"})
        assert "store" in response.context["form"].errors
        assert not Customer.objects.exists()


class TestDuplicates:
    def test_detect_then_merge_keeping_the_older_profile(self, client, staff_in_role):
        client.force_login(staff_in_role("Administrator"))
        older = make_customer(
            "+79161234567", first_name="Anna", last_name="Ivanova", birthday=datetime.date(1990, 5, 1)
        )
        newer = make_customer(
            "+79167654321", first_name="Anna", last_name="Ivanova", birthday=datetime.date(1990, 5, 1)
        )
        changelist = reverse("admin:customers_duplicatecandidate_changelist")

        client.post(reverse("admin:customers_duplicatecandidate_detect"))
        candidate = DuplicateCandidate.objects.get()
        assert "Ivanova" in client.get(changelist).content.decode()
        client.post(changelist, {"action": "merge_pairs", "_selected_action": [candidate.pk]})

        newer.refresh_from_db()
        candidate.refresh_from_db()
        assert newer.merged_into == older
        assert candidate.status == DuplicateStatus.MERGED
        assert older.identities.count() == 2

    def test_store_staff_cannot_merge(self, client, staff_in_role):
        client.force_login(staff_in_role("Store staff"))
        assert client.get(reverse("admin:customers_duplicatecandidate_changelist")).status_code == 403


class TestCases:
    def test_store_staff_see_only_their_stores_cases_and_reply(self, client, staff_in_role):
        own, other = LocationFactory(), LocationFactory()
        user = staff_in_role("Store staff", locations=[own])
        client.force_login(user)
        customer = make_customer()
        mine = cases.case_open(customer=customer, subject="Mine", channel=Channel.SITE, body="Hi", store=own)
        cases.case_open(customer=customer, subject="Theirs", channel=Channel.SITE, store=other)

        listed = client.get(reverse("admin:customers_case_changelist")).context["cl"].result_list
        assert list(listed) == [mine]

        response = client.post(
            reverse("admin:customers_case_change", args=[mine.pk]),
            {
                "status": "open",
                "assignee": "",
                "new_message": "We will call you",
                "message_channel": "sms",
                "message_direction": "outbound",
                "messages-TOTAL_FORMS": "1",
                "messages-INITIAL_FORMS": "1",
                "messages-MIN_NUM_FORMS": "0",
                "messages-MAX_NUM_FORMS": "1000",
                "messages-0-id": str(mine.messages.get().pk),
                "messages-0-case": str(mine.pk),
            },
        )

        assert response.status_code == 302
        mine.refresh_from_db()
        assert [m.body for m in mine.messages.all()] == ["Hi", "We will call you"]
        assert mine.status == CaseStatus.WAITING
        assert mine.messages.last().author == user


class TestMessages:
    def test_stored_messages_are_not_shown_as_delivered(self, client, superuser):
        client.force_login(superuser)
        message = message_send(customer=make_customer(), kind="order_ready", purpose="service", text="Ready")
        message_deliver(message_id=message.pk)

        html = client.get(reverse("admin:customers_message_changelist")).content.decode()

        assert "stored, not delivered" in html
        assert "Stored only, not delivered" in html


class TestSegments:
    def test_live_count_and_exports(self, client, staff_in_role):
        client.force_login(staff_in_role("Head office"))
        omsk = [make_customer(f"+7916000000{n}", city="Omsk", last_name=f"Omsk{n}") for n in range(3)]
        make_customer("+79160000009", city="Moscow")
        segment = Segment.objects.create(name="Omsk")
        SegmentCondition.objects.create(segment=segment, condition="customers.city", value="omsk")

        changelist = client.get(reverse("admin:customers_segment_changelist"))
        assert changelist.status_code == 200
        assert '<td class="field-member_count">3</td>' in changelist.content.decode()

        exported = client.get(reverse("admin:customers_segment_export", args=[segment.pk, "csv"]))
        rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
        assert sorted(int(r["id"]) for r in rows) == sorted(c.pk for c in omsk)
        assert {r["phone"] for r in rows} == {"+79160000000", "+79160000001", "+79160000002"}

        xlsx = client.get(reverse("admin:customers_segment_export", args=[segment.pk, "xlsx"]))
        sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
        assert sheet.max_row == 4  # a header and three members

        members = client.get(CHANGELIST, {"segment": segment.pk}).context["cl"].result_list
        assert sorted(c.pk for c in members) == sorted(c.pk for c in omsk)

    def test_a_condition_with_a_bad_value_is_refused(self, client, staff_in_role):
        client.force_login(staff_in_role("Head office"))
        response = client.post(
            reverse("admin:customers_segment_add"),
            {
                "name": "Bad",
                "description": "",
                "conditions-TOTAL_FORMS": "1",
                "conditions-INITIAL_FORMS": "0",
                "conditions-MIN_NUM_FORMS": "0",
                "conditions-MAX_NUM_FORMS": "1000",
                "conditions-0-condition": "customers.marketing_consent",
                "conditions-0-value": "pigeon",
            },
        )
        assert response.status_code == 200
        assert not Segment.objects.exists()

    def test_store_staff_cannot_see_segments(self, client, staff_in_role):
        client.force_login(staff_in_role("Store staff"))
        assert client.get(reverse("admin:customers_segment_changelist")).status_code == 403


class TestPersonalData:
    def test_administrator_exports_and_anonymises(self, client, staff_in_role):
        client.force_login(staff_in_role("Administrator"))
        customer = make_customer(first_name="Ivan")

        exported = client.post(reverse("admin:customers_customer_export", args=[customer.pk]))
        assert exported.json()["customer"]["first_name"] == "Ivan"

        url = reverse("admin:customers_customer_anonymise", args=[customer.pk])
        assert client.get(url).status_code == 200
        client.post(url)
        customer.refresh_from_db()
        assert customer.anonymised_at is not None and customer.first_name == ""

    def test_store_staff_cannot_anonymise(self, client, staff_in_role):
        client.force_login(staff_in_role("Store staff"))
        customer = make_customer(first_name="Ivan")
        assert client.post(reverse("admin:customers_customer_anonymise", args=[customer.pk])).status_code == 403
        assert not Case.objects.exists()


class TestConsentsPage:
    def test_staff_record_a_withdrawal_with_its_channel_and_author(self, client, staff_in_role):
        user = staff_in_role("Store staff")
        client.force_login(user)
        customer = services.customer_identify(
            identities=[IdentityInput("phone", "+79161234567")],
            consents=[
                ConsentChange(ConsentPurpose.PERSONAL_DATA, True),
                ConsentChange(ConsentPurpose.MARKETING, True, "sms"),
            ],
        ).customer
        url = reverse("admin:customers_customer_consents", args=[customer.pk])
        assert client.get(url).status_code == 200

        response = client.post(
            url, {"personal_data": "on", "marketing": ["email"], "source_channel": "call_centre", "note": "asked"}
        )

        assert response.status_code == 302
        granted = set(Consent.objects.filter(customer=customer, granted=True).values_list("purpose", "channel"))
        assert granted == {("personal_data", ""), ("marketing", "email")}
        latest = customer.consent_events.filter(created_by=user)
        assert {(e.channel, e.granted, e.source_channel, e.note) for e in latest} == {
            ("sms", False, "call_centre", "asked"),
            ("email", True, "call_centre", "asked"),
        }


@pytest.mark.parametrize(
    "name",
    [
        "admin:customers_customer_changelist",
        "admin:customers_customer_register",
        "admin:customers_case_changelist",
        "admin:customers_case_add",
        "admin:customers_interaction_changelist",
        "admin:customers_interaction_add",
        "admin:customers_consentevent_changelist",
        "admin:customers_message_changelist",
        "admin:customers_duplicatecandidate_changelist",
        "admin:customers_segment_changelist",
        "admin:customers_segment_add",
        "admin:index",
    ],
)
def test_admin_pages_render(client, superuser, name):
    LocationFactory()
    make_customer(first_name="Ivan")
    client.force_login(superuser)
    assert client.get(reverse(name)).status_code == 200
