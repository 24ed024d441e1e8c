import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from customers import cases, merge, selectors, services
from customers.identities import IdentityKey
from customers.models import Case, CaseMessage, Customer, Identity, Interaction, InteractionKind
from customers.services import IdentityInput
from omni.core.channels import Channel
from tests.customers.factories import CustomerFactory, IdentityFactory
from tests.inventory.factories import LocationFactory

pytestmark = pytest.mark.django_db

READ, WRITE = "customers:read", "customers:write"


@pytest.fixture
def reader(client_with_scopes):
    return client_with_scopes(READ)


@pytest.fixture
def writer(client_with_scopes):
    return client_with_scopes(READ, WRITE)


def make_customer(phone="+79161234567", **profile):
    return services.customer_identify(identities=[IdentityInput("phone", phone)], profile=profile).customer


def error(response) -> dict:
    return response.json()["error"]


class TestIdentify:
    URL = "/api/v1/customers/identify/"

    def test_creates_then_finds_the_same_customer(self, writer):
        store = LocationFactory(code="msk-1")
        created = writer.post(
            self.URL,
            {
                "phone": "8 (916) 123-45-67",
                "email": "Ivan@Example.com",
                "external_ids": [{"system": "telegram", "id": "777"}],
                "first_name": "Ivan",
                "preferred_store": "msk-1",
                "channel": "site",
                "consents": [{"purpose": "personal_data", "granted": True}],
            },
        )
        assert created.status_code == 201, created.content
        body = created.json()
        assert body["created"] is True
        assert body["customer"]["preferred_store"] == store.code
        assert {i["value"] for i in body["customer"]["identities"]} == {"+79161234567", "ivan@example.com", "777"}

        again = writer.post(self.URL, {"phone": "+7 916 123 45 67", "first_name": "John", "last_name": "Petrov"})

        assert again.status_code == 200
        body = again.json()
        assert body["customer"]["id"] == created.json()["customer"]["id"]
        assert body["customer"]["last_name"] == "Petrov"
        assert body["conflicts"] == {"first_name": {"known": "Ivan", "given": "John"}}
        assert body["matched"] == [{"kind": "phone", "system": "", "value": "+79161234567"}]

    def test_a_known_customer_changing_nothing_is_read_in_one_query(self, writer, django_assert_num_queries):
        # given a customer with a phone, an e-mail and a first name, and the key used once already
        created = writer.post(self.URL, {"phone": "+79161234567", "email": "ivan@example.com", "first_name": "Ivan"})
        before = Customer.objects.get()

        # when a till identifies them again by both identities, with a name that differs
        with django_assert_num_queries(1):  # the customer with their identities, by their identities
            again = writer.post(
                self.URL, {"phone": "8 916 123-45-67", "email": "IVAN@example.com", "first_name": "Ivo"}
            )

        # then the answer is the one the locked path gives, and nothing was written
        assert again.status_code == 200, again.content
        body = again.json()
        assert body["customer"] == created.json()["customer"]
        assert (body["created"], body["attached"], body["duplicates"]) == (False, [], [])
        assert body["conflicts"] == {"first_name": {"known": "Ivan", "given": "Ivo"}}
        assert body["matched"] == [
            {"kind": "phone", "system": "", "value": "+79161234567"},
            {"kind": "email", "system": "", "value": "ivan@example.com"},
        ]
        assert Customer.objects.get().updated_at == before.updated_at

    @pytest.mark.parametrize(
        "payload",
        [
            {"phone": "+79161234567", "last_name": "Petrov"},  # fills an empty field
            {"phone": "+79161234567", "email": "new@example.com"},  # a new identity
            {"phone": "+79161234567", "email": "other@example.com"},  # another customer's identity
            {"phone": "+79161234567", "consents": [{"purpose": "personal_data", "granted": True}]},
        ],
    )
    def test_a_call_that_changes_something_takes_the_locked_path(self, writer, payload):
        customer = make_customer(first_name="Ivan")
        other = services.customer_identify(identities=[IdentityInput("email", "other@example.com")]).customer

        with CaptureQueriesContext(connection) as queries:
            response = writer.post(self.URL, payload)

        assert response.status_code == 200, response.content
        assert response.json()["customer"]["id"] == customer.pk
        if connection.features.has_select_for_update:  # SQLite locks the whole database instead
            assert any("FOR UPDATE" in query["sql"] for query in queries.captured_queries)
        if "email" in payload and payload["email"] == "other@example.com":
            assert response.json()["duplicates"] == [other.pk]

    @pytest.mark.parametrize(
        ("payload", "code", "field"),
        [
            ({"phone": "12-34", "email": "ivan@example.com"}, "invalid_phone", "phone"),
            ({"phone": "+79161234567", "email": "ivan@"}, "invalid_email", "email"),
            ({"card": "#"}, "invalid_card", "card"),
            ({"external_ids": [{"system": "", "id": "1"}]}, "invalid", "external_ids"),
            ({"first_name": "Ivan"}, "identity_required", None),
            ({"phone": "+79161234567", "gender": "x"}, "invalid", "gender"),
            ({"phone": "+79161234567", "birthday": "2999-01-01"}, "invalid", "birthday"),
            ({"phone": "+79161234567", "unknown": 1}, "invalid", "unknown"),
        ],
    )
    def test_bad_input_is_a_400_naming_the_field_and_changes_nothing(self, writer, payload, code, field):
        response = writer.post(self.URL, payload)

        assert response.status_code == 400, response.content
        assert error(response)["code"] == code
        if field:
            assert field in error(response)["details"]["fields"]
        assert not Customer.objects.exists()
        assert not Identity.objects.exists()

    def test_needs_the_write_scope(self, reader, api_client):
        assert reader.post(self.URL, {"phone": "+79161234567"}).status_code == 403
        assert api_client.post(self.URL, {"phone": "+79161234567"}).status_code == 401
        assert not Customer.objects.exists()


class TestLookup:
    URL = "/api/v1/customers/lookup/"

    @pytest.mark.parametrize(
        "query",
        [
            {"phone": "8 (916) 123-45-67"},
            {"phone": "9161234567"},
            {"email": " IVAN@example.com"},
            {"card": "4600 0000 0001"},
            {"external_id": "42", "system": "shop"},
        ],
    )
    def test_finds_by_any_identity_in_any_form(self, reader, query):
        customer = services.customer_identify(
            identities=[
                IdentityInput("phone", "+79161234567"),
                IdentityInput("email", "ivan@example.com"),
                IdentityInput("card", "460000000001"),
                IdentityInput("external_id", "42", "shop"),
            ]
        ).customer

        response = reader.get(self.URL, query)

        assert response.status_code == 200, response.content
        assert response.json()["id"] == customer.pk

    def test_a_lookup_is_one_query_and_shows_what_the_customer_page_shows(self, reader, django_assert_num_queries):
        # given a customer with a store, tags, a birthday and identities of every kind
        store = LocationFactory(code="msk-1")
        customer = services.customer_identify(
            identities=[
                IdentityInput("phone", "+79161234567"),
                IdentityInput("external_id", "42", "shop"),
                IdentityInput("email", "ivan@example.com"),
                IdentityInput("card", "460000000001"),
                IdentityInput("phone", "+79167654321"),
            ],
            profile={
                "first_name": "Ivan",
                "preferred_store": store,
                "tags": ["vip"],
                "birthday": datetime.date(1990, 5, 17),
            },
        ).customer
        reader.get(self.URL, {"phone": "+79160000000"})  # the key checked and marked used

        # when
        with django_assert_num_queries(1):  # the customer with their store's code and identities
            response = reader.get(self.URL, {"phone": "8 916 123 45 67"})

        # then the answer is the customer page's, read through the ORM
        assert response.json() == reader.get(f"/api/v1/customers/{customer.pk}/").json()
        assert response.json()["preferred_store"] == "msk-1"
        assert [identity["kind"] for identity in response.json()["identities"]] == [
            "card",
            "email",
            "external_id",
            "phone",
            "phone",
        ]

    def test_owners_of_several_identities_without_a_store(self, reader):
        first, second = make_customer("+79161234567"), make_customer("+79167654321")

        assert reader.get(self.URL, {"phone": "+79161234567"}).json()["preferred_store"] is None
        owners = selectors.customers_owning(
            [IdentityKey("phone", "+79161234567"), IdentityKey("phone", "+79167654321")], limit=2
        )
        assert sorted(owners, key=lambda customer: customer.pk) == [first, second]
        assert [owner.preferred_store for owner in owners] == [None, None]
        assert [owner.identities.get(kind="phone").customer_id for owner in owners] == [o.pk for o in owners]
        assert selectors.customers_owning([], limit=1) == []

    def test_unknown_is_404_and_bad_queries_are_400(self, reader):
        assert error(reader.get(self.URL, {"phone": "+79161234567"}))["code"] == "not_found"
        assert reader.get(self.URL).status_code == 400
        assert reader.get(self.URL, {"phone": "+79161234567", "email": "a@b.ru"}).status_code == 400
        bad = reader.get(self.URL, {"phone": "abc"})
        assert (bad.status_code, error(bad)["code"], error(bad)["details"]["field"]) == (400, "invalid_phone", "phone")
        assert reader.get(self.URL, {"external_id": "42"}).status_code == 400


class TestDetail:
    def test_get_and_patch(self, writer):
        customer = make_customer(first_name="Ivan")
        url = f"/api/v1/customers/{customer.pk}/"

        assert writer.get(url).json()["first_name"] == "Ivan"
        response = writer.patch(url, {"first_name": "John", "tags": ["size:M"], "city": ""}, format="json")

        assert response.status_code == 200, response.content
        customer.refresh_from_db()
        assert (customer.first_name, customer.tags) == ("John", ["size:M"])

    def test_bad_patch_changes_nothing(self, writer):
        customer = make_customer(first_name="Ivan")
        response = writer.patch(f"/api/v1/customers/{customer.pk}/", {"first_name": "John", "gender": "?"})
        assert response.status_code == 400
        assert "gender" in error(response)["details"]["fields"]
        customer.refresh_from_db()
        assert customer.first_name == "Ivan"

    def test_a_merged_id_resolves_to_the_survivor(self, writer):
        survivor, merged = make_customer("+79161234567"), make_customer("+79167654321")
        merge.customer_merge(survivor=survivor, merged=merged)

        response = writer.get(f"/api/v1/customers/{merged.pk}/")

        assert response.status_code == 200
        assert response.json()["id"] == survivor.pk
        assert response["Content-Location"].endswith(f"/api/v1/customers/{survivor.pk}/")
        patched = writer.patch(f"/api/v1/customers/{merged.pk}/", {"city": "Omsk"})
        assert patched.json()["id"] == survivor.pk
        survivor.refresh_from_db()
        assert survivor.city == "Omsk"

    def test_unknown_id_is_404(self, reader):
        response = reader.get("/api/v1/customers/999999/")
        assert (response.status_code, error(response)["code"]) == (404, "not_found")


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(context.captured_queries)


class TestLists:
    def test_customer_list_runs_a_fixed_number_of_queries(self, reader):
        store = LocationFactory()
        for n in range(12):
            customer = CustomerFactory(preferred_store=store)
            IdentityFactory(customer=customer)
            IdentityFactory(customer=customer, kind="email", value=f"c{n}@example.com")
        reader.get("/api/v1/customers/")  # the key's last use is recorded once

        small = count_queries(reader, "/api/v1/customers/?page_size=2")
        large = count_queries(reader, "/api/v1/customers/?page_size=12")

        assert small == large
        assert len(reader.get("/api/v1/customers/?page_size=12").json()["results"]) == 12

    def test_customer_list_filters(self, reader):
        wanted = make_customer("+79161234567", city="Omsk")
        make_customer("+79167654321", city="Moscow")
        merged = make_customer("+79160000001", city="Omsk")
        merge.customer_merge(survivor=wanted, merged=merged)

        by_phone = reader.get("/api/v1/customers/", {"phone": "8 916 123-45-67"}).json()["results"]
        by_city = reader.get("/api/v1/customers/", {"city": "omsk"}).json()["results"]

        assert [c["id"] for c in by_phone] == [wanted.pk]
        assert [c["id"] for c in by_city] == [wanted.pk]  # the merged profile is not listed
        bad = reader.get("/api/v1/customers/", {"phone": "nope"})
        assert (bad.status_code, error(bad)["details"]["field"]) == (400, "phone")

    def test_timeline_is_newest_first_filtered_and_fixed_in_queries(self, reader):
        customer = CustomerFactory()
        now = timezone.now()
        for n in range(10):
            services.interaction_record(
                customer=customer,
                channel=Channel.CALL_CENTRE if n % 2 else Channel.MESSENGER,
                kind=InteractionKind.CALL if n % 2 else InteractionKind.CHAT_MESSAGE,
                summary=f"contact {n}",
                occurred_at=now - datetime.timedelta(hours=n),
                location=LocationFactory(),
            )
        url = f"/api/v1/customers/{customer.pk}/timeline/"
        reader.get(url)

        assert count_queries(reader, url + "?page_size=2") == count_queries(reader, url + "?page_size=10")
        results = reader.get(url).json()["results"]
        assert [r["summary"] for r in results] == [f"contact {n}" for n in range(10)]
        calls = reader.get(url, {"channel": "call_centre", "kind": "call"}).json()
        assert calls["count"] == 5
        assert reader.get(url, {"kind": "nonsense"}).status_code == 400


class TestInteractionsAndCases:
    def test_record_an_interaction(self, writer):
        customer = make_customer()
        response = writer.post(
            f"/api/v1/customers/{customer.pk}/interactions/",
            {
                "channel": "messenger",
                "kind": "chat_message",
                "summary": "Asked for size",
                "subject_type": "order",
                "subject_id": "W-1",
            },
        )
        assert response.status_code == 201, response.content
        assert Interaction.objects.get(pk=response.json()["id"]).api_key == writer.api_key

    def test_bad_interaction_changes_nothing(self, writer):
        customer = make_customer()
        before = Interaction.objects.count()
        response = writer.post(
            f"/api/v1/customers/{customer.pk}/interactions/", {"channel": "pigeon", "kind": "call", "summary": "x"}
        )
        assert response.status_code == 400
        assert "channel" in error(response)["details"]["fields"]
        assert Interaction.objects.count() == before

    @pytest.mark.parametrize("occurred_at", ["0001-01-01T00:00:00", "9999-12-31T23:59:59"])
    def test_a_time_at_the_edge_of_the_calendar_is_refused(self, writer, occurred_at):
        customer = make_customer()
        before = Interaction.objects.count()
        response = writer.post(
            f"/api/v1/customers/{customer.pk}/interactions/",
            {"channel": "site", "kind": "call", "summary": "x", "occurred_at": occurred_at},
        )
        assert response.status_code == 400, response.content
        assert "occurred_at" in error(response)["details"]["fields"]
        assert Interaction.objects.count() == before

    def test_open_a_case_and_add_messages_in_order(self, writer):
        customer = make_customer()
        store = LocationFactory(code="spb-1")
        opened = writer.post(
            f"/api/v1/customers/{customer.pk}/cases/",
            {"subject": "Wrong size", "channel": "site", "body": "Sent M instead of L", "store": "spb-1"},
        )
        assert opened.status_code == 201, opened.content
        case_id = opened.json()["id"]

        reply = writer.post(
            f"/api/v1/cases/{case_id}/messages/",
            {"body": "Come to the store", "channel": "sms", "direction": "outbound"},
        )
        writer.post(f"/api/v1/cases/{case_id}/messages/", {"body": "OK, tomorrow", "channel": "messenger"})

        assert reply.status_code == 201
        case = writer.get(f"/api/v1/cases/{case_id}/").json()
        assert case["store"] == store.code
        assert [m["body"] for m in case["messages"]] == ["Sent M instead of L", "Come to the store", "OK, tomorrow"]
        assert case["status"] == "open"
        listed = writer.get(f"/api/v1/customers/{customer.pk}/cases/").json()["results"]
        assert [c["id"] for c in listed] == [case_id]

    def test_empty_message_is_refused(self, writer):
        case = cases.case_open(customer=make_customer(), subject="Q", channel=Channel.SITE)
        response = writer.post(f"/api/v1/cases/{case.pk}/messages/", {"body": "  ", "channel": "site"})
        assert response.status_code == 400
        assert not CaseMessage.objects.exists()
        assert writer.post("/api/v1/cases/999999/messages/", {"body": "x", "channel": "site"}).status_code == 404


class TestStaffSession:
    def test_store_staff_see_only_cases_of_their_stores(self, client, staff_in_role):
        own, other = LocationFactory(), LocationFactory()
        user = staff_in_role("Store staff", locations=[own])
        customer = make_customer()
        mine = cases.case_open(customer=customer, subject="Mine", channel=Channel.STORE, store=own)
        theirs = cases.case_open(customer=customer, subject="Theirs", channel=Channel.STORE, store=other)
        client.force_login(user)

        assert client.get(f"/api/v1/cases/{mine.pk}/").status_code == 200
        assert client.get(f"/api/v1/cases/{theirs.pk}/").status_code == 404
        listed = client.get(f"/api/v1/customers/{customer.pk}/cases/").json()["results"]
        assert [c["id"] for c in listed] == [mine.pk]
        assert Case.objects.count() == 2


class TestConsentsAndFeedback:
    def test_record_and_read_consents(self, writer):
        customer = make_customer()
        url = f"/api/v1/customers/{customer.pk}/consents/"

        response = writer.post(
            url,
            {
                "channel": "site",
                "consents": [
                    {"purpose": "personal_data", "granted": True},
                    {"purpose": "marketing", "channel": "email", "granted": True},
                ],
            },
            format="json",
        )

        assert response.status_code == 200, response.content
        assert {(c["purpose"], c["channel"], c["granted"]) for c in writer.get(url).json()} == {
            ("personal_data", "", True),
            ("marketing", "email", True),
        }
        event = customer.consent_events.get(channel="email")
        assert (event.source_channel, event.api_key) == ("site", writer.api_key)

    def test_marketing_without_personal_data_consent_is_a_409(self, writer):
        customer = make_customer()
        response = writer.post(
            f"/api/v1/customers/{customer.pk}/consents/",
            {"channel": "app", "consents": [{"purpose": "marketing", "channel": "push", "granted": True}]},
            format="json",
        )
        assert (response.status_code, error(response)["code"]) == (409, "consent_required")
        assert not customer.consent_events.exists()

    def test_low_feedback_opens_a_case(self, writer):
        customer = make_customer()
        store = LocationFactory(code="msk-2")
        response = writer.post(
            f"/api/v1/customers/{customer.pk}/feedback/",
            {"score": 3, "comment": "Long queue", "channel": "app", "store": "msk-2", "order": "W-9"},
        )
        assert response.status_code == 201, response.content
        case = Case.objects.get()
        assert (response.json()["case"], case.store) == (case.number, store)

    @pytest.mark.parametrize("score", [11, -1, "7", 7.5, True, None])
    def test_bad_score_is_a_400(self, writer, score):
        customer = make_customer()
        response = writer.post(
            f"/api/v1/customers/{customer.pk}/feedback/", {"score": score, "channel": "app"}, format="json"
        )
        assert response.status_code == 400
        assert "score" in error(response)["details"]["fields"]
        assert not customer.feedback.exists()
