"""Payments recorded after the order was placed: the service, the API and the admin button."""

from decimal import Decimal

import pytest
from django.urls import reverse

from omni.core.errors import InvalidInput
from omni.core.models import IdempotencyKey
from omni.core.roles import STORE_STAFF
from orders import services
from orders.errors import InvalidTransition, Overpayment, PaymentConflict
from orders.models import Payment
from orders.services import PaymentInput
from tests.orders.factories import collect, customer, deliver, product, stock, store, warehouse
from tests.orders.test_concurrency import race

pytestmark = pytest.mark.django_db


def payments_url(order) -> str:
    return f"/api/v1/orders/{order.number}/payments/"


def error_of(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error"]["code"] == code, body
    return body["error"]


@pytest.fixture
def shop():
    return store(code="msk-1")


@pytest.fixture
def order(shop):
    """A click-and-collect order for 2500.00, nothing paid yet."""
    shirt, socks = product("2000.00"), product("500.00")
    stock(shop, shirt, 5)
    stock(shop, socks, 5)
    return collect(customer(), shop, (shirt, 1), (socks, 1))


@pytest.fixture
def writer(client_with_scopes):
    return client_with_scopes("orders:read", "orders:write")


def card(amount: str, transaction_id: str = "", **kwargs) -> PaymentInput:
    return PaymentInput(method="card_online", amount=Decimal(amount), transaction_id=transaction_id, **kwargs)


def state(order):
    order.refresh_from_db()
    return order.paid, list(order.payments.values_list("method", "amount", "transaction_id"))


class TestService:
    def test_a_gateway_confirms_the_card_payment(self, order):
        payment, created = services.payment_record(
            order=order, payment=card("2500.00", "gw-1", terminal="web", acquiring_bank="Sber")
        )

        assert created
        assert (payment.method, payment.amount, payment.transaction_id) == ("card_online", Decimal("2500.00"), "gw-1")
        assert (payment.terminal, payment.acquiring_bank) == ("web", "Sber")
        order.refresh_from_db()
        assert (order.paid, order.due) == (Decimal("2500.00"), Decimal("0.00"))

    def test_paid_in_parts_and_without_an_amount_pays_what_is_left(self, order):
        services.payment_record(order=order, payment=card("1000.00"))
        payment, _created = services.payment_record(order=order, payment=PaymentInput(method="sbp"))

        assert payment.amount == Decimal("1500.00")
        assert state(order) == (
            Decimal("2500.00"),
            [("card_online", Decimal("1000.00"), ""), ("sbp", Decimal("1500.00"), "")],
        )

    def test_a_retry_with_the_same_transaction_id_changes_nothing(self, order):
        first, created = services.payment_record(order=order, payment=card("1000.00", "gw-7"))
        again, created_again = services.payment_record(order=order, payment=card("1000.00", "gw-7"))

        assert (created, created_again) == (True, False)
        assert again.pk == first.pk
        assert state(order) == (Decimal("1000.00"), [("card_online", Decimal("1000.00"), "gw-7")])

    def test_the_same_transaction_id_with_another_amount_is_refused(self, order):
        services.payment_record(order=order, payment=card("1000.00", "gw-7"))
        with pytest.raises(PaymentConflict):
            services.payment_record(order=order, payment=card("900.00", "gw-7"))
        assert state(order) == (Decimal("1000.00"), [("card_online", Decimal("1000.00"), "gw-7")])

    def test_an_overpayment_is_refused_and_nothing_changes(self, order):
        services.payment_record(order=order, payment=card("2000.00"))

        with pytest.raises(Overpayment) as refused:
            services.payment_record(order=order, payment=card("500.01"))

        assert refused.value.details["due"] == "500.00"
        assert state(order) == (Decimal("2000.00"), [("card_online", Decimal("2000.00"), "")])

    def test_a_paid_order_takes_no_more(self, order):
        services.payment_record(order=order, payment=card("2500.00"))
        with pytest.raises(Overpayment):
            services.payment_record(order=order, payment=PaymentInput(method="sbp"))

    def test_a_cancelled_order_takes_no_payment(self, order):
        services.order_cancel(order=order, reason="Changed my mind")

        with pytest.raises(InvalidTransition) as refused:
            services.payment_record(order=order, payment=card("100.00", "gw-9"))

        assert refused.value.details["status"] == "cancelled"
        assert state(order) == (Decimal("0.00"), [])

    @pytest.mark.parametrize(
        ("payment", "field"),
        [
            (PaymentInput(method="cash", amount=Decimal("10.00")), "method"),
            (PaymentInput(method="points", amount=Decimal("10.00")), "method"),
            (PaymentInput(method="bitcoin", amount=Decimal("10.00")), "method"),
            (PaymentInput(method="sbp", amount=Decimal("0")), "amount"),
            (PaymentInput(method="sbp", amount=Decimal("-5.00")), "amount"),
            (PaymentInput(method="sbp", amount=Decimal("10.001")), "amount"),
        ],
    )
    def test_bad_input_names_the_field(self, order, payment, field):
        with pytest.raises(InvalidInput) as refused:
            services.payment_record(order=order, payment=payment)
        assert refused.value.details["field"] == field
        assert state(order) == (Decimal("0.00"), [])

    def test_a_payment_later_cancelled_is_refunded(self):
        depot, shirt = warehouse(), product("800.00")
        stock(depot, shirt, 2)
        order = deliver(customer(), (shirt, 1))
        services.payment_record(order=order, payment=card("800.00", "gw-2"))

        services.order_cancel(order=order)

        order.refresh_from_db()
        assert (order.paid, order.refunded) == (Decimal("800.00"), Decimal("800.00"))
        assert list(order.refunds.values_list("method", "amount", "status")) == [
            ("card_online", Decimal("800.00"), "pending")
        ]


class TestApi:
    def test_recorded_then_retried_by_transaction_id(self, writer, order):
        body = {"method": "card_online", "amount": "2500.00", "transaction_id": "gw-1", "acquiring_bank": "Sber"}

        first = writer.post(payments_url(order), body, format="json")
        again = writer.post(payments_url(order), body, format="json")

        assert first.status_code == 201, first.content
        data = first.json()
        assert data["payment"]["transaction_id"] == "gw-1"
        assert (data["order"]["paid"], data["order"]["due"]) == ("2500.00", "0.00")
        assert again.status_code == 200, again.content
        assert again.json()["payment"] == data["payment"]
        assert Payment.objects.filter(order=order).count() == 1
        assert Payment.objects.get().api_key == writer.api_key

    def test_retried_by_idempotency_key(self, writer, order):
        body = {"method": "sbp", "amount": "1000.00"}

        first = writer.post(payments_url(order), body, format="json", HTTP_IDEMPOTENCY_KEY="pay-1")
        again = writer.post(payments_url(order), body, format="json", HTTP_IDEMPOTENCY_KEY="pay-1")

        assert first.status_code == 201, first.content
        assert again.status_code == 201
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.json() == first.json()
        assert state(order) == (Decimal("1000.00"), [("sbp", Decimal("1000.00"), "")])
        other = writer.post(
            payments_url(order), {"method": "sbp", "amount": "5.00"}, format="json", HTTP_IDEMPOTENCY_KEY="pay-1"
        )
        error_of(other, 422, "idempotency_conflict")
        assert IdempotencyKey.objects.count() == 1

    def test_overpayment_is_409_and_changes_nothing(self, writer, order):
        error = error_of(
            writer.post(payments_url(order), {"method": "sbp", "amount": "2500.01"}, format="json"), 409, "overpayment"
        )
        assert error["details"]["due"] == "2500.00"
        assert state(order) == (Decimal("0.00"), [])

    def test_a_cancelled_order_is_409(self, writer, order):
        services.order_cancel(order=order)
        error = error_of(
            writer.post(payments_url(order), {"method": "sbp", "amount": "10.00"}, format="json"),
            409,
            "invalid_transition",
        )
        assert error["details"]["status"] == "cancelled"
        assert state(order) == (Decimal("0.00"), [])

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"method": "cash", "amount": "10.00"}, "method"),
            ({"method": "sbp"}, "amount"),
            ({"method": "sbp", "amount": "0.00"}, "amount"),
            ({"method": "sbp", "amount": "1.005"}, "amount"),
            ({"method": "sbp", "amount": "10.00", "status": "paid"}, "status"),
        ],
    )
    def test_bad_input_is_400_naming_the_field(self, writer, order, body, field):
        error = error_of(writer.post(payments_url(order), body, format="json"), 400, "invalid")
        assert field in error["details"]["fields"]
        assert state(order) == (Decimal("0.00"), [])

    def test_unknown_order_and_scopes(self, client_with_scopes, writer, order):
        unknown = writer.post("/api/v1/orders/W-999999/payments/", {"method": "sbp", "amount": "1.00"}, format="json")
        error_of(unknown, 404, "not_found")
        reader = client_with_scopes("orders:read")
        response = reader.post(payments_url(order), {"method": "sbp", "amount": "1.00"}, format="json")
        assert response.status_code == 403
        assert state(order) == (Decimal("0.00"), [])

    def test_store_staff_of_another_store_get_404(self, client, staff_in_role, order):
        elsewhere = store(code="spb-1")
        client.force_login(staff_in_role(STORE_STAFF, locations=[elsewhere]))
        response = client.post(
            payments_url(order), {"method": "sbp", "amount": "1.00"}, content_type="application/json"
        )
        error_of(response, 404, "not_found")
        assert state(order) == (Decimal("0.00"), [])


class TestAdmin:
    def test_store_staff_record_a_payment_on_their_stores_order(self, client, staff_in_role, shop, order):
        user = staff_in_role(STORE_STAFF, locations=[shop])
        client.force_login(user)
        page = client.get(reverse("admin:orders_order_change", args=[order.pk]))
        assert reverse("admin:orders_order_payment", args=[order.pk]) in page.content.decode()

        response = client.post(
            reverse("admin:orders_order_payment", args=[order.pk]),
            {"method": "sbp", "amount": "2500.00", "transaction_id": "sbp-42"},
        )

        assert response.status_code == 302
        assert state(order) == (Decimal("2500.00"), [("sbp", Decimal("2500.00"), "sbp-42")])
        assert Payment.objects.get().employee == user
        page = client.get(reverse("admin:orders_order_change", args=[order.pk]))
        assert reverse("admin:orders_order_payment", args=[order.pk]) not in page.content.decode()  # nothing due

    def test_an_overpayment_is_shown_and_nothing_changes(self, client, staff_in_role, shop, order):
        client.force_login(staff_in_role(STORE_STAFF, locations=[shop]))
        response = client.post(
            reverse("admin:orders_order_payment", args=[order.pk]), {"method": "sbp", "amount": "9999.00"}
        )
        assert response.status_code == 200
        assert any("left to pay" in str(m) for m in response.context["messages"])
        assert state(order) == (Decimal("0.00"), [])

    def test_store_staff_of_another_store_cannot(self, client, staff_in_role, order):
        client.force_login(staff_in_role(STORE_STAFF, locations=[store(code="spb-1")]))
        response = client.post(
            reverse("admin:orders_order_payment", args=[order.pk]), {"method": "sbp", "amount": "10.00"}
        )
        assert response.status_code == 302  # "does not exist"
        assert state(order) == (Decimal("0.00"), [])


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_racing_payments_never_pay_more_than_the_total():
    # given: an order for 1000.00 and twenty gateway callbacks of 100.00, five of them retries
    shop, shirt = store(), product("1000.00")
    stock(shop, shirt, 1)
    order = collect(customer(), shop, (shirt, 1))

    # when
    outcomes = race(20, lambda i: services.payment_record(order=order, payment=card("100.00", f"gw-{i % 15}"))[0].pk)

    # then: ten are recorded, the retries return a recorded one, the rest are refused
    refused = [o for o in outcomes if isinstance(o, Exception)]
    assert all(isinstance(o, Overpayment) for o in refused), refused
    order.refresh_from_db()
    assert order.paid == Decimal("1000.00")
    assert Payment.objects.filter(order=order).count() == 10
    assert len(set(Payment.objects.filter(order=order).values_list("transaction_id", flat=True))) == 10
