"""Refunds paid back by the bank: completing pending refunds through the service, the API and
the refunds list of the admin, limited to the staff's own stores."""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from omni.core.errors import InvalidInput
from omni.core.roles import STORE_STAFF
from orders import services
from orders.errors import RefundNotPending
from orders.models import Refund, RefundPayout, RefundStatus
from orders.services import PaymentInput, ReturnLineInput
from tests.orders.factories import collect, customer, product, sell, stock, store

pytestmark = pytest.mark.django_db


def complete_url(refund) -> str:
    return f"/api/v1/refunds/{refund.pk}/complete/"


def error_of(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error"]["code"] == code, body
    return body["error"]


@pytest.fixture
def two_stores():
    mine, theirs = store(code="mine"), store(code="theirs")
    shirt = product("1200.00")
    stock(mine, shirt, 5)
    stock(theirs, shirt, 5)
    return mine, theirs, shirt


def pending_refund(location, shirt, person=None) -> Refund:
    """A click-and-collect order paid online, then cancelled: its card refund is pending."""
    order = collect(person or customer(), location, (shirt, 1), payments=[PaymentInput(method="card_online")])
    services.order_cancel(order=order, reason="Changed my mind")
    refund = Refund.objects.get(order=order)
    assert refund.status == RefundStatus.PENDING
    return refund


@pytest.fixture
def writer(client_with_scopes):
    return client_with_scopes("orders:read", "orders:write")


class TestService:
    def test_a_pending_refund_is_made_and_the_customer_told(self, two_stores, django_capture_on_commit_callbacks):
        mine, _theirs, shirt = two_stores
        person = customer()
        refund = pending_refund(mine, shirt, person)

        with django_capture_on_commit_callbacks(execute=True):
            done = services.refund_complete(refund=refund, transaction_id=" rf-1 ")

        refund.refresh_from_db()
        assert (refund.status, refund.transaction_id) == (RefundStatus.DONE, "rf-1")
        assert refund.completed_at is not None
        assert done.pk == refund.pk
        message = person.messages.get(kind="refund_made")
        assert refund.order.number in message.subject
        assert "1200.00 RUB" in message.body
        order = refund.order
        order.refresh_from_db()
        assert (order.paid, order.refunded) == (Decimal("1200.00"), Decimal("1200.00"))  # counted at creation

    def test_a_refund_cannot_be_made_twice(self, two_stores):
        mine, _theirs, shirt = two_stores
        refund = pending_refund(mine, shirt)
        services.refund_complete(refund=refund, transaction_id="rf-1")

        with pytest.raises(RefundNotPending) as refused:
            services.refund_complete(refund=refund, transaction_id="rf-2")

        assert refused.value.details["status"] == "done"
        refund.refresh_from_db()
        assert refund.transaction_id == "rf-1"
        assert refund.order.customer.messages.filter(kind="refund_made").count() == 1

    def test_a_refund_paid_at_the_desk_is_already_made(self, two_stores):
        mine, _theirs, shirt = two_stores
        sale = sell(mine, (shirt, 1), person=customer())
        services.return_accept(order=sale, location=mine, lines=[ReturnLineInput(shirt.sku, 1)], reason="Too big")
        refund = Refund.objects.get(order=sale)
        assert (refund.status, refund.method) == (RefundStatus.DONE, "cash")
        assert refund.completed_at is not None
        with pytest.raises(RefundNotPending):
            services.refund_complete(refund=refund)

    def test_a_refund_to_the_card_at_the_terminal_needs_its_transaction_id(self, two_stores):
        mine, _theirs, shirt = two_stores
        refund = pending_refund(mine, shirt)

        with pytest.raises(InvalidInput) as refused:
            services.refund_complete(refund=refund, payout=RefundPayout.TERMINAL, terminal="T-1", transaction_id=" ")
        assert refused.value.details["field"] == "transaction_id"
        refund.refresh_from_db()
        assert (refund.status, refund.completed_at) == (RefundStatus.PENDING, None)

        services.refund_complete(refund=refund, payout=RefundPayout.TERMINAL, terminal=" T-1 ", transaction_id="RRN-7")
        refund.refresh_from_db()
        assert (refund.status, refund.method, refund.transaction_id, refund.terminal) == (
            RefundStatus.DONE,
            "card_online",
            "RRN-7",
            "T-1",
        )

    def test_a_refund_paid_out_in_cash_is_recorded_as_cash(self, two_stores, django_capture_on_commit_callbacks):
        mine, _theirs, shirt = two_stores
        person = customer()
        refund = pending_refund(mine, shirt, person)

        with django_capture_on_commit_callbacks(execute=True):
            services.refund_complete(refund=refund, payout=RefundPayout.CASH, transaction_id="ignored")

        refund.refresh_from_db()
        assert (refund.status, refund.method, refund.transaction_id) == (RefundStatus.DONE, "cash", "")
        assert refund.payment.method == "card_online"  # still names the payment it refunds
        assert "cash" in person.messages.get(kind="refund_made").body
        with pytest.raises(RefundNotPending):
            services.refund_complete(refund=refund, payout=RefundPayout.CASH)

    def test_an_unknown_payout_is_refused(self, two_stores):
        mine, _theirs, shirt = two_stores
        refund = pending_refund(mine, shirt)
        with pytest.raises(InvalidInput):
            services.refund_complete(refund=refund, payout="cheque")
        refund.refresh_from_db()
        assert refund.status == RefundStatus.PENDING


class TestApi:
    def test_complete_then_refused_the_second_time(self, writer, two_stores):
        mine, _theirs, shirt = two_stores
        refund = pending_refund(mine, shirt)

        response = writer.post(complete_url(refund), {"transaction_id": "rf-9"}, format="json")

        assert response.status_code == 200, response.content
        body = response.json()
        assert (body["id"], body["order"], body["status"], body["transaction_id"]) == (
            refund.pk,
            refund.order.number,
            "done",
            "rf-9",
        )
        assert body["completed_at"]
        error = error_of(writer.post(complete_url(refund), {}, format="json"), 409, "refund_not_pending")
        assert error["details"]["status"] == "done"
        refund.refresh_from_db()
        assert refund.transaction_id == "rf-9"

    def test_the_refund_id_is_listed_on_the_order(self, writer, two_stores):
        mine, _theirs, shirt = two_stores
        refund = pending_refund(mine, shirt)
        body = writer.get(f"/api/v1/orders/{refund.order.number}/").json()
        assert [(r["id"], r["status"]) for r in body["refunds"]] == [(refund.pk, "pending")]

    def test_bad_input_unknown_refund_and_scopes(self, client_with_scopes, writer, two_stores):
        mine, _theirs, shirt = two_stores
        refund = pending_refund(mine, shirt)

        error = error_of(writer.post(complete_url(refund), {"status": "done"}, format="json"), 400, "invalid")
        assert "status" in error["details"]["fields"]
        error_of(writer.post("/api/v1/refunds/999999/complete/", {}, format="json"), 404, "not_found")
        reader = client_with_scopes("orders:read")
        assert reader.post(complete_url(refund), {}, format="json").status_code == 403
        refund.refresh_from_db()
        assert refund.status == RefundStatus.PENDING

    def test_store_staff_complete_only_their_stores_refunds(self, client, staff_in_role, two_stores):
        mine, theirs, shirt = two_stores
        my_refund, their_refund = pending_refund(mine, shirt), pending_refund(theirs, shirt)
        client.force_login(staff_in_role(STORE_STAFF, locations=[mine]))

        error_of(client.post(complete_url(their_refund), {}, content_type="application/json"), 404, "not_found")
        response = client.post(complete_url(my_refund), {}, content_type="application/json")

        assert response.status_code == 200, response.content
        their_refund.refresh_from_db()
        my_refund.refresh_from_db()
        assert (my_refund.status, their_refund.status) == (RefundStatus.DONE, RefundStatus.PENDING)


class TestAdmin:
    @pytest.fixture
    def cashier(self, client, staff_in_role, two_stores):
        mine, _theirs, _shirt = two_stores
        client.force_login(staff_in_role(STORE_STAFF, locations=[mine]))
        return client

    def test_the_list_shows_only_their_stores_refunds(self, cashier, two_stores):
        mine, theirs, shirt = two_stores
        my_refund, _their_refund = pending_refund(mine, shirt), pending_refund(theirs, shirt)

        listed = cashier.get(reverse("admin:orders_refund_changelist"))

        assert listed.status_code == 200
        assert [r.pk for r in listed.context["cl"].result_list] == [my_refund.pk]

    def test_complete_on_its_page_with_the_terminals_transaction_id(self, cashier, two_stores):
        mine, theirs, shirt = two_stores
        my_refund, their_refund = pending_refund(mine, shirt), pending_refund(theirs, shirt)
        url = reverse("admin:orders_refund_complete", args=[my_refund.pk])

        page = cashier.get(reverse("admin:orders_refund_change", args=[my_refund.pk]))
        assert url in page.content.decode()
        refused = cashier.post(url, {"payout": "terminal", "transaction_id": ""})
        assert refused.status_code == 200
        assert "transaction_id" in refused.context["form"].errors
        done = cashier.post(url, {"payout": "terminal", "transaction_id": "RRN-5", "terminal": "T-2"})
        other = cashier.post(reverse("admin:orders_refund_complete", args=[their_refund.pk]), {"payout": "cash"})

        assert (done.status_code, other.status_code) == (302, 302)
        my_refund.refresh_from_db()
        their_refund.refresh_from_db()
        assert (my_refund.status, my_refund.transaction_id, my_refund.terminal) == (RefundStatus.DONE, "RRN-5", "T-2")
        assert their_refund.status == RefundStatus.PENDING
        assert url not in cashier.get(reverse("admin:orders_refund_change", args=[my_refund.pk])).content.decode()

    def test_an_online_refund_is_offered_as_made_by_the_bank_first(self, cashier, two_stores):
        mine, _theirs, shirt = two_stores
        refund = pending_refund(mine, shirt)
        url = reverse("admin:orders_refund_complete", args=[refund.pk])
        assert cashier.get(url).context["form"].fields["payout"].initial == "bank"
        assert cashier.post(url, {"payout": "bank"}).status_code == 302
        refund.refresh_from_db()
        assert (refund.status, refund.transaction_id) == (RefundStatus.DONE, "")

    def test_another_stores_refund_does_not_exist(self, cashier, two_stores):
        _mine, theirs, shirt = two_stores
        their_refund = pending_refund(theirs, shirt)
        response = cashier.get(reverse("admin:orders_refund_change", args=[their_refund.pk]))
        assert response.status_code == 302  # "does not exist"

    def test_a_refund_already_made_is_reported(self, cashier, two_stores):
        mine, _theirs, shirt = two_stores
        refund = pending_refund(mine, shirt)
        services.refund_complete(refund=refund, transaction_id="rf-1")

        response = cashier.post(
            reverse("admin:orders_refund_complete", args=[refund.pk]),
            {"payout": "terminal", "transaction_id": "rf-2"},
        )

        assert response.status_code == 200
        assert any("already" in str(m) for m in response.context["messages"])
        refund.refresh_from_db()
        assert refund.transaction_id == "rf-1"

    def test_the_list_costs_the_same_whatever_its_length(self, client, two_stores):
        mine, _theirs, shirt = two_stores
        client.force_login(get_user_model().objects.create_superuser("boss", "boss@example.com", "x"))
        pending_refund(mine, shirt)
        url = reverse("admin:orders_refund_changelist")
        client.get(url)

        with CaptureQueriesContext(connection) as one:
            assert client.get(url).status_code == 200
        pending_refund(mine, shirt)
        pending_refund(mine, shirt)
        with CaptureQueriesContext(connection) as three:
            listed = client.get(url)

        assert len(listed.context["cl"].result_list) == 3
        assert len(three) == len(one)
