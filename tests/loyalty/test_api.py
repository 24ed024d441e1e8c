"""The loyalty API: shapes, errors in the envelope, idempotency, scopes and query counts."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from customers.merge import customer_merge
from loyalty import selectors, services
from loyalty.models import Account, EntryKind, PointsEntry
from omni.core.models import IdempotencyKey
from omni.core.scopes import Scope
from tests.inventory.factories import LocationFactory, ProductFactory, ean13
from tests.loyalty.factories import PromoCodeFactory, customer, give, member

pytestmark = pytest.mark.django_db

OPEN = reverse("api:loyalty:account-list")
QUOTE = reverse("api:loyalty:quote")
REDEEM = reverse("api:loyalty:redemption-list")
CODES = reverse("api:loyalty:code-list")
PROMO = reverse("api:loyalty:promo-validate")


def account_url(customer_id) -> str:
    return reverse("api:loyalty:account-detail", kwargs={"customer_id": customer_id})


def entries_url(customer_id) -> str:
    return reverse("api:loyalty:account-entries", kwargs={"customer_id": customer_id})


def card_url(number) -> str:
    return reverse("api:loyalty:card-detail", kwargs={"number": number})


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code, body
    assert body["error"]["message"]
    return body["error"]


@pytest.fixture
def reader(client_with_scopes) -> APIClient:
    return client_with_scopes(Scope.LOYALTY_READ)


@pytest.fixture
def writer(client_with_scopes) -> APIClient:
    return client_with_scopes(Scope.LOYALTY_READ, Scope.LOYALTY_WRITE)


@pytest.fixture
def product():
    return ProductFactory(sku="SHOES-1")


def cart_lines(*amounts, sku="SHOES-1"):
    return [{"sku": sku, "quantity": 1, "amount": str(amount)} for amount in amounts]


def redemption(account, points=100, reference="W-1", **extra):
    return {
        "customer_id": account.customer_id,
        "reference": reference,
        "points": points,
        "channel": "site",
        "lines": cart_lines(1000),
        **extra,
    }


# --- Accounts ---------------------------------------------------------------------------


class TestAccount:
    def test_card_tier_balance_and_next_expiry(self, reader):
        account = member()
        give(account, 300)
        services.points_earn_for_order(
            customer=account.customer, reference="W-1", lines=services_cart(2000), channel="store"
        )

        body = reader.get(account_url(account.customer_id)).json()

        card = account.cards.get()
        assert body["card"] == card.number
        assert body["cards"] == [
            {"number": card.number, "kind": "virtual", "status": "active", "issued_at": body["cards"][0]["issued_at"]}
        ]
        assert body["tier"] == {"name": "Base", "earn_rate": "5.00"}
        assert (body["available"], body["pending"]) == (300, 100)
        assert body["next_expiry"]["points"] == 300
        assert (body["point_value"], body["currency"]) == ("1.00", "RUB")

    def test_unknown_customer_and_customer_without_account_are_404(self, reader):
        assert_error(reader.get(account_url(999_999)), 404, "not_found")
        assert_error(reader.get(account_url(customer().pk)), 404, "no_account")

    def test_a_merged_id_answers_with_the_survivor(self, reader):
        survivor, merged = member(), customer()
        customer_merge(survivor=survivor.customer, merged=merged)
        assert reader.get(account_url(merged.pk)).json()["customer_id"] == survivor.customer_id

    def test_open_then_again(self, writer):
        person = customer()
        store = LocationFactory(code="MSK-1")

        first = writer.post(
            OPEN, {"customer_id": person.pk, "channel": "store", "store": "MSK-1", "card_number": ean13(42)}
        )
        again = writer.post(OPEN, {"customer_id": person.pk, "channel": "store"})

        assert (first.status_code, again.status_code) == (201, 200)
        assert first.json()["card"] == ean13(42)
        account = Account.objects.get(customer=person)
        assert (account.store, account.channel) == (store, "store")

    def test_open_with_a_bad_card_number_names_the_field_and_changes_nothing(self, writer):
        person = customer()
        error = assert_error(
            writer.post(OPEN, {"customer_id": person.pk, "channel": "store", "card_number": "4600000001231"}),
            400,
            "invalid_card_number",
        )
        assert "card_number" in error["details"]["fields"]
        assert not Account.objects.exists()

    def test_open_with_an_invisible_character_in_the_card_number_is_refused(self, writer):
        person = customer()
        number = ean13(42)

        response = writer.post(
            OPEN, {"customer_id": person.pk, "channel": "store", "card_number": number[:3] + "\u202e" + number[3:]}
        )

        error = assert_error(response, 400, "invalid")
        assert "U+202E" in error["details"]["fields"]["card_number"][0]
        assert not Account.objects.exists()

    def test_open_for_unknown_customer_or_store(self, writer):
        assert_error(writer.post(OPEN, {"customer_id": 999_999, "channel": "site"}), 404, "not_found")
        person = customer()
        assert_error(
            writer.post(OPEN, {"customer_id": person.pk, "channel": "store", "store": "nowhere"}),
            400,
            "unknown_location",
        )

    def test_opening_needs_the_write_scope(self, reader):
        assert_error(reader.post(OPEN, {"customer_id": customer().pk, "channel": "site"}), 403, "permission_denied")


class TestEntries:
    def test_paginated_newest_first_and_filtered(self, reader):
        account = member()
        for _ in range(3):
            give(account, 10)
        services.points_redeem(
            customer=account.customer, points=5, reference="W-1", lines=services_cart(100), channel="site"
        )

        body = reader.get(entries_url(account.customer_id), {"page_size": 2}).json()
        assert body["count"] == 4
        assert [row["kind"] for row in body["results"]] == ["redeem", "bonus"]
        assert body["results"][0]["points"] == -5
        spent = reader.get(entries_url(account.customer_id), {"kind": "redeem"}).json()
        assert [row["cause_id"] for row in spent["results"]] == ["W-1"]

    def test_the_query_count_does_not_grow_with_the_page_size(self, reader):
        account = member()
        store = LocationFactory()
        for n in range(30):
            services.points_earn_for_order(
                customer=account.customer, reference=f"W-{n}", lines=services_cart(1000), channel="store", store=store
            )

        def queries(page_size: int) -> int:
            with CaptureQueriesContext(connection) as captured:
                response = reader.get(entries_url(account.customer_id), {"page_size": page_size})
            assert len(response.json()["results"]) == page_size
            return len(captured)

        reader.get(entries_url(account.customer_id))  # the key is checked and marked used on the first call
        # the customer, the account, the count and the page
        assert queries(2) == queries(25) == 4

    def test_bad_filter_is_400(self, reader):
        account = member()
        assert_error(reader.get(entries_url(account.customer_id), {"kind": "gift"}), 400, "invalid")


class TestCardLookup:
    def test_by_card(self, reader):
        account = member()
        give(account, 70)
        number = account.cards.get().number

        body = reader.get(card_url(number)).json()

        assert (body["number"], body["status"]) == (number, "active")
        assert (body["account"]["customer_id"], body["account"]["available"]) == (account.customer_id, 70)

    def test_unknown_card_is_404(self, reader):
        assert_error(reader.get(card_url(ean13(999))), 404, "unknown_card")


# --- Quote and redemption ---------------------------------------------------------------


class TestQuote:
    def test_quote_by_customer_or_card(self, reader, product):
        account = member()
        give(account, 500)
        payload = {"customer_id": account.customer_id, "channel": "store", "lines": cart_lines(600, 400)}

        body = reader.post(QUOTE, payload).json()
        by_card = reader.post(
            QUOTE, {"card": account.cards.get().number, "channel": "store", "lines": cart_lines(600, 400)}
        ).json()

        assert body == by_card
        assert (body["max_points"], body["max_value"], body["available"]) == (300, "300.00", 500)
        assert (body["points_to_earn"], body["code_required"], body["tier"]) == (50, False, "Base")

    @pytest.mark.parametrize(
        ("lines", "field"),
        [
            ([{"sku": "SHOES-1", "quantity": 0, "amount": "10"}], "lines"),
            ([{"sku": "SHOES-1", "quantity": 1.5, "amount": "10"}], "lines"),
            ([{"sku": "SHOES-1", "quantity": 1, "amount": "-1"}], "lines"),
            ([], "lines"),
        ],
    )
    def test_bad_cart_names_the_field(self, reader, product, lines, field):
        account = member()
        error = assert_error(
            reader.post(QUOTE, {"customer_id": account.customer_id, "channel": "site", "lines": lines}), 400, "invalid"
        )
        assert field in error["details"]["fields"]

    def test_unknown_sku(self, reader, product):
        account = member()
        error = assert_error(
            reader.post(
                QUOTE, {"customer_id": account.customer_id, "channel": "site", "lines": cart_lines(1, sku="X")}
            ),
            400,
            "unknown_sku",
        )
        assert error["details"]["skus"] == ["X"]

    def test_customer_or_card_exactly_one(self, reader, product):
        account = member()
        both = {"customer_id": account.customer_id, "card": "1", "channel": "site", "lines": cart_lines(1)}
        assert_error(reader.post(QUOTE, both), 400, "invalid")
        neither = {"channel": "site", "lines": cart_lines(1)}
        assert_error(reader.post(QUOTE, neither), 400, "invalid")


class TestRedeem:
    def test_spends_and_says_what_is_left(self, writer, product):
        account = member()
        give(account, 500)

        response = writer.post(REDEEM, redemption(account, 120))

        assert response.status_code == 201, response.content
        body = response.json()
        assert (body["points"], body["value"], body["available"], body["reference"]) == (120, "120.00", 380, "W-1")

    def test_the_same_reference_twice_redeems_once(self, writer, product):
        account = member()
        give(account, 500)
        first = writer.post(REDEEM, redemption(account))
        again = writer.post(REDEEM, redemption(account))
        assert (first.status_code, again.status_code) == (201, 200)
        assert first.json()["entry_id"] == again.json()["entry_id"]
        assert selectors.balance(account).available == 400

    def test_more_than_available_is_409_and_nothing_changes(self, writer, product):
        account = member()
        give(account, 50)
        before = list(PointsEntry.objects.values_list("pk", "remaining"))

        error = assert_error(writer.post(REDEEM, redemption(account, 100)), 409, "not_enough_points")

        assert error["details"] == {"requested": 100, "available": 50}
        assert list(PointsEntry.objects.values_list("pk", "remaining")) == before
        assert not PointsEntry.objects.filter(kind=EntryKind.REDEEM).exists()

    def test_more_than_the_share_of_the_order_is_409(self, writer, product):
        account = member()
        give(account, 1000)
        error = assert_error(writer.post(REDEEM, redemption(account, 301)), 409, "exceeds_order_share")
        assert error["details"]["max_points"] == 300

    @pytest.mark.parametrize("points", [-100, 0, 1.5, "100", None, True])
    def test_points_must_be_whole_and_positive(self, writer, product, points):
        account = member()
        give(account, 500)
        error = assert_error(writer.post(REDEEM, redemption(account, points)), 400, "invalid")
        assert "points" in error["details"]["fields"]
        assert selectors.balance(account).available == 500

    def test_unknown_card_is_404_and_blocked_card_409(self, writer, product):
        account = member()
        give(account, 500)
        payload = redemption(account)
        del payload["customer_id"]
        assert_error(writer.post(REDEEM, {**payload, "card": ean13(999)}), 404, "unknown_card")
        card = account.cards.get()
        services.card_block(card=card)
        assert_error(writer.post(REDEEM, {**payload, "card": card.number}), 409, "card_blocked")

    def test_idempotency_key_retry_returns_the_first_result(self, writer, product):
        account = member()
        give(account, 500)

        first = writer.post(REDEEM, redemption(account), HTTP_IDEMPOTENCY_KEY="k-1")
        retry = writer.post(REDEEM, redemption(account), HTTP_IDEMPOTENCY_KEY="k-1")
        other = writer.post(REDEEM, redemption(account, 50, reference="W-2"), HTTP_IDEMPOTENCY_KEY="k-1")

        assert first.status_code == retry.status_code == 201
        assert retry.json() == first.json()
        assert retry["Idempotent-Replayed"] == "true"
        assert_error(other, 422, "idempotency_conflict")
        assert selectors.balance(account).available == 400

    def test_a_refused_request_does_not_burn_its_idempotency_key(self, writer, product):
        account = member()
        give(account, 50)
        assert_error(writer.post(REDEEM, redemption(account), HTTP_IDEMPOTENCY_KEY="k-2"), 409, "not_enough_points")
        assert not IdempotencyKey.objects.exists()
        give(account, 100)
        assert writer.post(REDEEM, redemption(account), HTTP_IDEMPOTENCY_KEY="k-2").status_code == 201

    def test_in_store_with_a_one_time_code(self, writer, product, programme, monkeypatch):
        from loyalty.services import otp

        programme.otp_required = True
        programme.save()
        monkeypatch.setattr(otp, "generate_code", lambda: "246810")
        account = member()
        give(account, 500)
        payload = redemption(account, channel="store")

        assert_error(writer.post(REDEEM, payload), 400, "code_required")
        sent = writer.post(CODES, {"customer_id": account.customer_id, "channel": "store"})
        assert sent.status_code == 202 and "246810" not in sent.content.decode()
        assert_error(writer.post(REDEEM, {**payload, "code": "000000"}), 409, "invalid_code")
        assert writer.post(REDEEM, {**payload, "code": "246810"}).status_code == 201

    def test_wrong_codes_count_even_with_a_fresh_idempotency_key_each(
        self, writer, product, programme, monkeypatch, settings
    ):
        from loyalty.models import OneTimeCode
        from loyalty.services import otp

        programme.otp_required = True
        programme.save()
        monkeypatch.setattr(otp, "generate_code", lambda: "246810")
        account = member()
        give(account, 500)
        otp.otp_send(customer=account.customer, channel="store")
        payload = redemption(account, channel="store", code="000000")

        for attempt in range(settings.LOYALTY_OTP_MAX_ATTEMPTS):
            assert_error(writer.post(REDEEM, payload, HTTP_IDEMPOTENCY_KEY=f"guess-{attempt}"), 409, "invalid_code")

        assert OneTimeCode.objects.get().attempts == settings.LOYALTY_OTP_MAX_ATTEMPTS
        right = {**payload, "code": "246810"}
        assert_error(writer.post(REDEEM, right, HTTP_IDEMPOTENCY_KEY="right"), 409, "code_expired")
        assert selectors.balance(account).available == 500

    def test_the_right_code_spends_once_and_a_retry_replays_without_a_new_code(
        self, writer, product, programme, monkeypatch
    ):
        from loyalty.models import OneTimeCode
        from loyalty.services import otp

        programme.otp_required = True
        programme.save()
        monkeypatch.setattr(otp, "generate_code", lambda: "246810")
        account = member()
        give(account, 500)
        otp.otp_send(customer=account.customer, channel="store")
        payload = redemption(account, channel="store", code="246810")

        first = writer.post(REDEEM, payload, HTTP_IDEMPOTENCY_KEY="k")
        again = writer.post(REDEEM, payload, HTTP_IDEMPOTENCY_KEY="k")

        assert first.status_code == again.status_code == 201, again.content
        assert again["Idempotent-Replayed"] == "true"
        assert OneTimeCode.objects.get().used_at is not None
        assert selectors.balance(account).available == 400

    def test_reading_keys_cannot_spend(self, reader, product):
        account = member()
        give(account, 500)
        assert_error(reader.post(REDEEM, redemption(account)), 403, "permission_denied")

    def test_no_key_is_401(self, api_client):
        assert_error(api_client.post(REDEEM, {}), 401, "not_authenticated")


class TestPromoValidate:
    def test_discount(self, reader, product):
        PromoCodeFactory(code="TEN", value=Decimal("10"))
        body = reader.post(PROMO, {"code": "ten", "channel": "site", "lines": cart_lines(1000)}).json()
        assert body == {
            "code": "TEN",
            "kind": "percent",
            "discount": "100.00",
            "points": 0,
            "order_total": "1000.00",
            "currency": "RUB",
        }

    def test_refusal_has_its_code(self, reader, product):
        PromoCodeFactory(code="BIG", min_order_total=5000)
        error = assert_error(
            reader.post(PROMO, {"code": "BIG", "channel": "site", "lines": cart_lines(1000)}), 409, "promo_min_total"
        )
        assert error["details"]["min_order_total"] == "5000.00"

    def test_personal_code_needs_the_customer(self, reader, product):
        PromoCodeFactory(code="ONCE", max_uses_per_customer=1)
        payload = {"code": "ONCE", "channel": "site", "lines": cart_lines(1000)}
        assert_error(reader.post(PROMO, payload), 409, "promo_customer_required")
        account = member()
        assert reader.post(PROMO, {**payload, "customer_id": account.customer_id}).status_code == 200

    def test_unknown_code_is_404(self, reader, product):
        assert_error(
            reader.post(PROMO, {"code": "NOPE", "channel": "site", "lines": cart_lines(1)}), 404, "promo_not_found"
        )


def services_cart(*amounts):
    from tests.loyalty.factories import cart

    return cart(*amounts)
