"""The orders API: placing, listing, status actions, returns; errors, scopes, query counts."""

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import connection
from rest_framework.test import APIClient

from customers.merge import customer_merge
from customers.personal_data import customer_anonymise
from inventory.models import Stock, StockMovement
from inventory.selectors import stock_discrepancies
from omni.core.models import IdempotencyKey
from omni.core.roles import HEAD_OFFICE, STORE_STAFF
from orders import services
from orders.models import Order, OrderReturn, OrderStatus
from tests.orders.factories import collect, customer, points_for, product, sell, stock, store, warehouse

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/orders/"
RETURNS = "/api/v1/returns/"


def error_of(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error"]["code"] == code, body
    return body["error"]


@pytest.fixture
def writer(client_with_scopes):
    return client_with_scopes("orders:read", "orders:write")


@pytest.fixture
def shop():
    location = store(code="msk-1", name="Tverskaya", address="Tverskaya 1", opening_hours="10:00-22:00")
    return location


@pytest.fixture
def goods(shop):
    shirt, socks, hat = product("1500.00"), product("300.00"), product("700.00")
    for item in (shirt, socks, hat):
        stock(shop, item, 10)
    return shirt, socks, hat


def order_body(person, shop, *items, **extra):
    return {
        "channel": "site",
        "fulfilment": "click_and_collect",
        "customer": person.pk,
        "pickup_location": shop.code,
        "lines": [{"sku": item.sku, "quantity": quantity} for item, quantity in items],
        **extra,
    }


class TestPlace:
    def test_click_and_collect_with_points(self, writer, shop, goods):
        shirt, socks, hat = goods
        person = customer()
        points_for(person, 500)

        response = writer.post(ORDERS, order_body(person, shop, (shirt, 1), (socks, 2), (hat, 1), points=200))

        assert response.status_code == 201, response.content
        body = response.json()
        assert body["number"].startswith("W-")
        assert body["status"] == "placed"
        assert body["location"] == "msk-1"
        assert (body["subtotal"], body["points_value"], body["total"], body["due"]) == (
            "2800.00",
            "200.00",
            "2600.00",
            "2600.00",
        )
        assert [line["sku"] for line in body["lines"]] == [shirt.sku, socks.sku, hat.sku]
        assert body["allowed_actions"] == ["ready", "cancel"]
        assert [p["method"] for p in body["payments"]] == ["points"]
        assert body["history"][0]["status_to"] == "placed"
        assert Order.objects.get().api_key == writer.api_key

    def test_a_sale_in_store_through_the_pos(self, writer, shop, goods):
        shirt, _socks, _hat = goods
        body = {
            "channel": "store",
            "fulfilment": "in_store",
            "location": shop.code,
            "lines": [{"sku": shirt.sku, "quantity": 1}],
            "payments": [{"method": "card_in_store", "terminal": "T1", "acquiring_bank": "Bank"}],
        }
        response = writer.post(ORDERS, body)
        assert response.status_code == 201, response.content
        assert response.json()["status"] == "sold"
        assert response.json()["paid"] == "1500.00"

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"total": "1.00"}, "total"),
            ({"discount": "100.00"}, "discount"),
            ({"lines": [{"sku": "X", "quantity": 1, "price": "1.00"}]}, "lines"),
        ],
    )
    def test_computed_figures_sent_by_the_client_are_refused(self, writer, shop, goods, change, field):
        shirt, _socks, _hat = goods
        body = {**order_body(customer(), shop, (shirt, 1)), **change}
        error = error_of(writer.post(ORDERS, body), 400, "invalid")
        assert field in error["details"]["fields"]
        assert not Order.objects.exists()

    def test_a_price_inside_a_line_names_the_line(self, writer, shop, goods):
        shirt, _socks, _hat = goods
        body = order_body(customer(), shop, (shirt, 1))
        body["lines"][0]["unit_price"] = "1.00"
        error = error_of(writer.post(ORDERS, body), 400, "invalid")
        assert error["details"]["fields"]["lines"]["0"]["unit_price"] == [
            "This figure is computed by the server; do not send it."
        ]

    @pytest.mark.parametrize("channel", ["email", "system"])
    def test_a_channel_that_is_not_a_sales_channel_is_refused(self, writer, shop, goods, channel):
        shirt, _socks, _hat = goods
        body = order_body(customer(), shop, (shirt, 1)) | {"channel": channel}
        error = error_of(writer.post(ORDERS, body), 400, "invalid")
        assert error["details"]["fields"] == {"channel": [f'"{channel}" is not a valid choice.']}
        assert not Order.objects.exists()
        error = error_of(writer.get(ORDERS, {"channel": channel}), 400, "invalid")
        assert list(error["details"]["fields"]) == ["channel"]

    def test_bad_input_changes_nothing(self, writer, shop, goods):
        shirt, _socks, _hat = goods
        person = customer()
        movements = StockMovement.objects.count()

        error = error_of(
            writer.post(ORDERS, order_body(person, shop, (shirt, 1)) | {"lines": [{"sku": "NOPE", "quantity": 1}]}),
            400,
            "unknown_sku",
        )
        assert error["details"]["skus"] == ["NOPE"]
        error = error_of(writer.post(ORDERS, order_body(person, shop, (shirt, -1))), 400, "invalid")
        assert "lines" in error["details"]["fields"]
        error = error_of(
            writer.post(ORDERS, order_body(person, shop, (shirt, 1)) | {"pickup_location": "nowhere"}),
            400,
            "unknown_location",
        )
        assert error["details"]["locations"] == ["nowhere"]
        error_of(writer.post(ORDERS, order_body(person, shop, (shirt, 1)) | {"customer": 999999}), 400, "invalid")
        error_of(writer.post(ORDERS, order_body(person, shop, (shirt, 1)) | {"points": 10}), 404, "no_account")
        error = error_of(writer.post(ORDERS, order_body(person, shop, (shirt, 11))), 409, "insufficient_stock")
        assert error["details"]["skus"] == [shirt.sku]
        error_of(writer.post(ORDERS, "{oops", content_type="application/json"), 400, "parse_error")

        assert not Order.objects.exists()
        assert StockMovement.objects.count() == movements
        assert Stock.objects.get(location=shop, product=shirt).reserved == 0

    def test_an_old_id_of_a_merged_customer_orders_for_the_survivor(self, writer, shop, goods):
        shirt, _socks, _hat = goods
        survivor, merged = customer(), customer()
        customer_merge(survivor=survivor, merged=merged)

        response = writer.post(ORDERS, order_body(merged, shop, (shirt, 1)))

        assert response.status_code == 201, response.content
        assert Order.objects.get().customer == survivor

    def test_an_unknown_or_anonymised_customer_is_refused_on_its_field(self, writer, shop, goods):
        shirt, _socks, _hat = goods
        gone = customer()
        customer_anonymise(customer=gone)

        error = error_of(writer.post(ORDERS, order_body(gone, shop, (shirt, 1)) | {"customer": 999999}), 400, "invalid")
        assert list(error["details"]["fields"]) == ["customer"]
        error_of(writer.post(ORDERS, order_body(gone, shop, (shirt, 1))), 409, "customer_anonymised")

        assert not Order.objects.exists()
        assert Stock.objects.get(location=shop, product=shirt).reserved == 0

    def test_scopes(self, client_with_scopes, shop, goods):
        shirt, _socks, _hat = goods
        reader = client_with_scopes("orders:read")
        error_of(reader.post(ORDERS, order_body(customer(), shop, (shirt, 1))), 403, "permission_denied")
        assert reader.get(ORDERS).status_code == 200
        error_of(client_with_scopes("catalog:read").get(ORDERS), 403, "permission_denied")


class TestIdempotency:
    def test_a_retry_returns_the_first_order_and_changes_nothing(self, writer, shop, goods):
        shirt, _socks, _hat = goods
        body = order_body(customer(), shop, (shirt, 2))

        first = writer.post(ORDERS, body, HTTP_IDEMPOTENCY_KEY="order-1")
        again = writer.post(ORDERS, body, HTTP_IDEMPOTENCY_KEY="order-1")

        assert first.status_code == again.status_code == 201
        assert again.json() == first.json()
        assert again["Idempotent-Replayed"] == "true"
        assert Order.objects.count() == 1
        assert Stock.objects.get(location=shop, product=shirt).reserved == 2

    def test_the_same_key_with_another_body_is_422(self, writer, shop, goods):
        shirt, _socks, _hat = goods
        person = customer()
        writer.post(ORDERS, order_body(person, shop, (shirt, 1)), HTTP_IDEMPOTENCY_KEY="k")
        error_of(
            writer.post(ORDERS, order_body(person, shop, (shirt, 2)), HTTP_IDEMPOTENCY_KEY="k"),
            422,
            "idempotency_conflict",
        )
        assert Order.objects.count() == 1

    def test_keys_belong_to_one_api_key(self, client_with_scopes, shop, goods):
        shirt, _socks, _hat = goods
        body = order_body(customer(), shop, (shirt, 1))
        site, app = client_with_scopes("orders:write"), client_with_scopes("orders:write")
        assert site.post(ORDERS, body, HTTP_IDEMPOTENCY_KEY="same").status_code == 201
        assert app.post(ORDERS, body, HTTP_IDEMPOTENCY_KEY="same").status_code == 201
        assert Order.objects.count() == 2

    def test_a_refused_order_stores_no_key(self, writer, shop, goods):
        shirt, _socks, _hat = goods
        body = order_body(customer(), shop, (shirt, 11))
        error_of(writer.post(ORDERS, body, HTTP_IDEMPOTENCY_KEY="k"), 409, "insufficient_stock")
        assert not IdempotencyKey.objects.exists()


class TestList:
    def test_filters(self, writer, shop, goods):
        shirt, _socks, _hat = goods
        other = store(code="spb-1")
        stock(other, shirt, 5)
        first, second = customer(), customer()
        a = collect(first, shop, (shirt, 1))
        b = collect(second, other, (shirt, 1), channel="app")
        services.order_cancel(order=b)

        def numbers(**params):
            response = writer.get(ORDERS, params)
            assert response.status_code == 200, response.content
            return [row["number"] for row in response.json()["results"]]

        assert numbers() == [b.number, a.number]
        assert numbers(customer=first.pk) == [a.number]
        assert numbers(status="cancelled") == [b.number]
        assert numbers(channel="app") == [b.number]
        assert numbers(location="msk-1") == [a.number]
        assert numbers(created_from="2000-01-01", created_to="2999-01-01") == [b.number, a.number]
        assert numbers(created_to="2000-01-01") == []
        error_of(writer.get(ORDERS, {"location": "nowhere"}), 400, "unknown_location")
        error_of(writer.get(ORDERS, {"status": "lost"}), 400, "invalid")
        error_of(writer.get(ORDERS, {"created_from": "yesterday"}), 400, "invalid")

    def test_a_fixed_number_of_queries_whatever_the_page_size(self, writer, shop, goods, django_assert_num_queries):
        shirt, socks, hat = goods
        person = customer()
        points_for(person, 1000)
        for _ in range(6):
            collect(person, shop, (shirt, 1), (socks, 1), (hat, 1), points=100)
        writer.get(ORDERS)  # the key is checked, and its last use recorded, on the first call

        # count, orders with customer and location, lines, payments
        with django_assert_num_queries(4):
            small = writer.get(ORDERS, {"page_size": 2})
        with django_assert_num_queries(4):
            large = writer.get(ORDERS, {"page_size": 6})
        assert (len(small.json()["results"]), len(large.json()["results"])) == (2, 6)


class TestActions:
    def test_click_and_collect_through_the_api(self, writer, shop, goods):
        shirt, socks, _hat = goods
        number = writer.post(ORDERS, order_body(customer(), shop, (shirt, 3), (socks, 1))).json()["number"]

        ready = writer.post(f"{ORDERS}{number}/ready/")
        assert ready.status_code == 200, ready.content
        assert ready.json()["status"] == "ready_for_pickup"

        handed = writer.post(
            f"{ORDERS}{number}/handover/",
            {
                "refused": [{"sku": shirt.sku, "quantity": 1}],
                "payments": [{"method": "card_in_store", "terminal": "T"}],
            },
        )
        assert handed.status_code == 200, handed.content
        body = handed.json()
        assert body["status"] == "collected"
        assert (body["total"], body["paid"]) == ("3300.00", "3300.00")
        assert body["lines"][0]["refused_quantity"] == 1
        assert Stock.objects.get(location=shop, product=shirt).on_hand == 8

    def test_delivery_through_the_api(self, writer):
        depot, shirt = warehouse(), product("100.00")
        stock(depot, shirt, 5)
        body = {
            "channel": "call_centre",
            "fulfilment": "delivery",
            "customer": customer().pk,
            "delivery_address": "Moscow, Arbat 5",
            "lines": [{"sku": shirt.sku, "quantity": 2}],
        }
        number = writer.post(ORDERS, body).json()["number"]
        assert number.startswith("C-")
        error = error_of(writer.post(f"{ORDERS}{number}/ship/"), 409, "invalid_transition")
        assert error["details"]["status"] == "placed"
        assert writer.post(f"{ORDERS}{number}/pack/").json()["status"] == "packed"
        assert writer.post(f"{ORDERS}{number}/ship/").json()["status"] == "shipped"
        delivered = writer.post(f"{ORDERS}{number}/deliver/", {"payments": [{"method": "courier_cash"}]})
        assert delivered.status_code == 200, delivered.content
        assert delivered.json()["status"] == "delivered"

    def test_cancel_and_the_forbidden_actions_after_it(self, writer, shop, goods):
        shirt, _socks, _hat = goods
        number = writer.post(ORDERS, order_body(customer(), shop, (shirt, 1))).json()["number"]

        cancelled = writer.post(f"{ORDERS}{number}/cancel/", {"reason": "Customer called"})
        assert cancelled.json()["status"] == "cancelled"

        for action in ("ready", "cancel", "handover"):
            error = error_of(writer.post(f"{ORDERS}{number}/{action}/"), 409, "invalid_transition")
            assert error["details"]["status"] == "cancelled"
            assert "cancelled" in error["message"]
        assert Stock.objects.get(location=shop, product=shirt).reserved == 0

    def test_unknown_order_and_bad_action_input(self, writer, shop, goods):
        shirt, _socks, _hat = goods
        error_of(writer.post(f"{ORDERS}W-999999/ready/"), 404, "not_found")
        error_of(writer.get(f"{ORDERS}W-999999/"), 404, "not_found")
        number = collect(customer(), shop, (shirt, 1)).number
        error_of(writer.post(f"{ORDERS}{number}/ready/", {"force": True}), 400, "invalid")
        services.order_mark_ready(order=Order.objects.get(number=number))
        error_of(
            writer.post(f"{ORDERS}{number}/handover/", {"payments": [{"method": "cash", "amount": "1.00"}]}),
            400,
            "payment_mismatch",
        )
        assert Order.objects.get(number=number).status == OrderStatus.READY_FOR_PICKUP


class TestStoreStaff:
    def test_staff_see_and_change_only_their_stores_orders(self, client, staff_in_role, shop, goods):
        shirt, _socks, _hat = goods
        other = store(code="spb-1")
        stock(other, shirt, 5)
        mine = collect(customer(), shop, (shirt, 1))
        theirs = collect(customer(), other, (shirt, 1))
        client.force_login(staff_in_role(STORE_STAFF, locations=[shop]))

        listed = client.get(ORDERS).json()["results"]
        assert [row["number"] for row in listed] == [mine.number]
        assert client.get(f"{ORDERS}{mine.number}/").status_code == 200
        error_of(client.get(f"{ORDERS}{theirs.number}/"), 404, "not_found")
        error_of(client.post(f"{ORDERS}{theirs.number}/ready/", content_type="application/json"), 404, "not_found")
        error_of(client.post(f"{ORDERS}{theirs.number}/cancel/", content_type="application/json"), 404, "not_found")
        assert Order.objects.get(pk=theirs.pk).status == OrderStatus.PLACED
        ready = client.post(f"{ORDERS}{mine.number}/ready/", content_type="application/json")
        assert ready.status_code == 200, ready.content

    def test_head_office_sees_every_store(self, client, staff_in_role, shop, goods):
        shirt, _socks, _hat = goods
        other = store()
        stock(other, shirt, 5)
        collect(customer(), shop, (shirt, 1))
        collect(customer(), other, (shirt, 1))
        client.force_login(staff_in_role(HEAD_OFFICE))
        assert len(client.get(ORDERS).json()["results"]) == 2

    def test_staff_sell_only_in_their_stores(self, client, staff_in_role, shop, goods):
        shirt, _socks, _hat = goods
        other = store()
        stock(other, shirt, 5)
        client.force_login(staff_in_role(STORE_STAFF, locations=[shop]))
        body = {
            "channel": "store",
            "fulfilment": "in_store",
            "location": other.code,
            "lines": [{"sku": shirt.sku, "quantity": 1}],
            "payments": [{"method": "cash"}],
        }
        error_of(client.post(ORDERS, body, content_type="application/json"), 403, "permission_denied")
        body["location"] = shop.code
        assert client.post(ORDERS, body, content_type="application/json").status_code == 201


class TestReturns:
    def test_a_return_and_its_retry(self, writer, shop, goods):
        shirt, _socks, _hat = goods
        order = sell(shop, (shirt, 2), person=customer())
        other = store(code="spb-1")
        body = {
            "order": order.number,
            "location": other.code,
            "reason": "Too big",
            "lines": [{"sku": shirt.sku, "quantity": 1, "condition": "resellable"}],
        }

        first = writer.post(RETURNS, body, HTTP_IDEMPOTENCY_KEY="r-1")
        again = writer.post(RETURNS, body, HTTP_IDEMPOTENCY_KEY="r-1")

        assert first.status_code == 201, first.content
        assert again.json() == first.json()
        data = first.json()
        assert (data["order"], data["location"], data["refund_amount"]) == (order.number, "spb-1", "1500.00")
        refund = data["refunds"][0]
        assert data["refunds"] == [
            {
                "id": refund["id"],
                "method": "cash",
                "amount": "1500.00",
                "points": 0,
                "status": "done",
                "order_return": data["number"],
                "transaction_id": "",
                "created_at": refund["created_at"],
                "completed_at": refund["completed_at"],
            }
        ]
        assert refund["completed_at"] is not None  # cash is paid back at the desk at once
        assert OrderReturn.objects.count() == 1
        assert writer.get(f"{RETURNS}{data['id']}/").json()["number"] == data["number"]
        assert writer.get(f"{RETURNS}{data['number']}/").json()["id"] == data["id"]
        error_of(writer.get(f"{RETURNS}R-999999/"), 404, "not_found")

    def test_over_return_and_unknown_order(self, writer, shop, goods):
        shirt, _socks, _hat = goods
        order = sell(shop, (shirt, 1))
        body = {
            "order": order.number,
            "location": shop.code,
            "reason": "Broken",
            "lines": [{"sku": shirt.sku, "quantity": 2, "condition": "faulty"}],
        }
        error_of(writer.post(RETURNS, body), 409, "return_exceeds_purchase")
        error_of(writer.post(RETURNS, {**body, "order": "S-999999"}), 404, "not_found")
        error_of(writer.post(RETURNS, {**body, "refund_amount": "10.00"}), 400, "invalid")
        assert not OrderReturn.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_identical_orders_racing_with_one_key_make_one_order(client_with_scopes):
    shop, shirt = store(), product("100.00")
    stock(shop, shirt, 50)
    person = customer()
    raw_header = client_with_scopes("orders:write")._credentials["HTTP_AUTHORIZATION"]
    body = order_body(person, shop, (shirt, 2))
    barrier = threading.Barrier(8)

    def post(_):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=raw_header)
        try:
            barrier.wait()
            response = client.post(ORDERS, body, format="json", HTTP_IDEMPOTENCY_KEY="race-order")
            return response.status_code, response.json()
        finally:
            connection.close()

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(post, range(8)))

    assert {status for status, _body in results} == {201}, results
    assert len({body["number"] for _status, body in results}) == 1
    assert Order.objects.count() == 1
    assert Stock.objects.get(location=shop, product=shirt).reserved == 2
    assert stock_discrepancies() == []


def test_money_is_never_a_float(writer, shop, goods):
    shirt, _socks, _hat = goods
    body = writer.post(ORDERS, order_body(customer(), shop, (shirt, 1))).json()
    assert Decimal(body["total"]) == Decimal("1500.00")
    assert isinstance(body["total"], str)
    assert body["currency"] == "RUB"


def test_out_of_range_numbers_are_client_errors_not_server_errors(writer, shop, goods):
    shirt, _socks, _hat = goods
    error_of(writer.post(ORDERS, order_body(customer(), shop, (shirt, 1)) | {"customer": 10**20}), 400, "invalid")
    error_of(writer.post(ORDERS, order_body(customer(), shop, (shirt, 1)) | {"points": 10**20}), 400, "invalid")
    error_of(writer.get(ORDERS, {"customer": str(10**20)}), 400, "invalid")
    error_of(writer.get(f"{RETURNS}{10**25}/"), 404, "not_found")
    error_of(writer.post(f"{ORDERS}{'W' * 300}/cancel/"), 404, "not_found")
    assert not Order.objects.exists()


class TestOneTimeCodes:
    """Spending points in a store needs the code sent to the customer; guesses are limited."""

    CODE = "482913"

    @pytest.fixture(autouse=True)
    def codes_required(self, programme, monkeypatch):
        from loyalty.services import otp

        programme.otp_required = True
        programme.save()
        monkeypatch.setattr(otp, "generate_code", lambda: self.CODE)

    @pytest.fixture
    def body(self, shop, goods):
        from loyalty.services import otp

        person = customer()
        points_for(person, 500)
        otp.otp_send(customer=person, channel="store")
        return order_body(person, shop, (goods[0], 1), channel="store", points=100, otp_code="000000")

    def test_wrong_codes_count_even_with_a_fresh_idempotency_key_each(self, writer, body, settings):
        from loyalty.models import OneTimeCode

        for attempt in range(settings.LOYALTY_OTP_MAX_ATTEMPTS):
            error_of(writer.post(ORDERS, body, HTTP_IDEMPOTENCY_KEY=f"guess-{attempt}"), 409, "invalid_code")

        assert OneTimeCode.objects.get().attempts == settings.LOYALTY_OTP_MAX_ATTEMPTS
        right = {**body, "otp_code": self.CODE}
        error_of(writer.post(ORDERS, right, HTTP_IDEMPOTENCY_KEY="right"), 409, "code_expired")
        assert not Order.objects.exists()
        assert not IdempotencyKey.objects.exists()

    @pytest.mark.django_db(transaction=True)
    def test_wrong_codes_stay_counted_when_the_transactions_really_commit(self, writer, body):
        from loyalty.models import OneTimeCode

        for attempt in range(2):
            error_of(writer.post(ORDERS, body, HTTP_IDEMPOTENCY_KEY=f"guess-{attempt}"), 409, "invalid_code")

        assert OneTimeCode.objects.get().attempts == 2
        assert not IdempotencyKey.objects.exists()

    def test_the_right_code_places_once_and_a_retry_replays_without_a_new_code(self, writer, body):
        from loyalty.models import OneTimeCode

        right = {**body, "otp_code": self.CODE}
        first = writer.post(ORDERS, right, HTTP_IDEMPOTENCY_KEY="k")
        again = writer.post(ORDERS, right, HTTP_IDEMPOTENCY_KEY="k")

        assert first.status_code == again.status_code == 201, again.content
        assert again["Idempotent-Replayed"] == "true"
        assert again.json() == first.json()
        assert Order.objects.get().points_redeemed == 100
        assert OneTimeCode.objects.get().used_at is not None
