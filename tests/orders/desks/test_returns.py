"""The return desk on one screen: find the purchase, see the refund live, accept it as pending,
pay it out at the terminal or in cash; and orders of other stores open read-only."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from omni.core.roles import STORE_STAFF
from orders import services
from orders.models import Order, OrderReturn, OrderStatus, Refund, RefundStatus
from orders.services import PaymentInput, ReturnLineInput
from tests.orders.factories import collect, customer, points_for, product, sell, stock, store

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def two_stores():
    mine, theirs = store(code="mine", name="My store"), store(code="theirs", name="Their store")
    parka = product("9290.00", name="Parka, black, L")
    stock(mine, parka, 10)
    stock(theirs, parka, 10)
    return mine, theirs, parka


@pytest.fixture
def cashier(client, staff_in_role, two_stores):
    client.force_login(staff_in_role(STORE_STAFF, locations=[two_stores[0]]))
    return client


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def card_sale(shop, parka, person, *, points=0) -> Order:
    """A parka bought by card in ``shop``, part paid with points."""
    if points:
        points_for(person, points)
    return sell(shop, (parka, 1), person=person, points=points, payments=[PaymentInput(method="card_in_store")])


def return_data(order: Order, location, **extra) -> dict:
    line = order.lines.get()
    return {
        "location": location.pk,
        "reason": "Did not fit",
        "refund_method": "original",
        f"quantity_{line.pk}": 1,
        f"condition_{line.pk}": "resellable",
        **extra,
    }


def accepted(order: Order, location) -> OrderReturn:
    return services.return_accept(
        order=order, location=location, lines=[ReturnLineInput(order.lines.get().sku, 1)], reason="Did not fit"
    )


class TestFind:
    def test_by_the_last_digits_of_the_phone_as_cashiers_type_them(self, cashier, two_stores):
        mine, theirs, parka = two_stores
        person = customer()
        order = collect(person, theirs, (parka, 1))
        services.order_mark_ready(order=order)
        services.order_hand_over(order=order, payments=[PaymentInput(method="cash")])
        phone = person.identities.get(kind="phone").value
        typed = f"{phone[-7:-4]}-{phone[-4:-2]}-{phone[-2:]}"

        found = cashier.get(reverse("admin:orders_orderreturn_desk"), {"q": typed}, **HTMX)

        assert found.status_code == 200
        content = found.content.decode()
        assert order.number in content
        assert "Parka, black, L" in content  # the product's name, not only its SKU
        assert "Their store" in content  # where it was bought
        assert "<html" not in content  # a fragment for htmx

    def test_by_the_last_digits_of_the_receipt(self, cashier, two_stores):
        mine, _theirs, parka = two_stores
        sale = sell(mine, (parka, 1))

        found = cashier.get(reverse("admin:orders_orderreturn_desk"), {"q": sale.number[-3:]})

        assert [o.number for o in found.context["orders"]] == [sale.number]

    def test_three_digits_of_a_phone_find_nothing(self, cashier, two_stores):
        mine, _theirs, parka = two_stores
        person = customer()
        sell(mine, (parka, 1), person=person)
        found = cashier.get(
            reverse("admin:orders_orderreturn_desk"), {"q": person.identities.get(kind="phone").value[-3:] + "x"}
        )
        assert found.status_code == 200
        assert found.context["orders"] == []
        assert "No purchase handed over" in found.content.decode()

    def test_a_cleared_search_box_clears_the_results(self, cashier):
        response = cashier.get(reverse("admin:orders_orderreturn_desk"), {"q": ""}, **HTMX)
        assert response.status_code == 200
        assert "No purchase" not in response.content.decode()


class TestPreview:
    def test_shows_the_refund_with_labels_and_the_points(self, cashier, two_stores):
        mine, _theirs, parka = two_stores
        person = customer()
        order = card_sale(mine, parka, person, points=200)
        url = reverse("admin:orders_orderreturn_preview", args=[order.number])

        response = cashier.post(url, {**return_data(order, mine), "reason": ""}, **HTMX)

        assert response.status_code == 200
        content = response.content.decode()
        preview = response.context["preview"]
        assert preview.refund_amount == Decimal("9090.00")  # 9,290 less the 200 points paid with
        assert preview.points_given_back == 200
        assert preview.points_reversed > 0
        assert "9,090.00" in content
        assert "Card in store" in content and "card_in_store" not in content
        assert 'id="points-given-back"' in content and 'id="points-reversed"' in content
        assert 'id="accept-return"' in content
        assert not OrderReturn.objects.exists()

    def test_in_russian_the_amounts_are_grouped(self, cashier, two_stores):
        mine, _theirs, parka = two_stores
        order = card_sale(mine, parka, customer())
        url = reverse("admin:orders_orderreturn_preview", args=[order.number])

        response = cashier.post(url, return_data(order, mine), HTTP_ACCEPT_LANGUAGE="ru", **HTMX)

        content = response.content.decode()
        assert "9\xa0290,00" in content
        assert "картой в магазине" in content.lower()

    def test_bad_input_is_explained_and_changes_nothing(self, cashier, two_stores):
        mine, _theirs, parka = two_stores
        order = card_sale(mine, parka, customer())
        url = reverse("admin:orders_orderreturn_preview", args=[order.number])
        line = order.lines.get()

        too_many = cashier.post(url, return_data(order, mine, **{f"quantity_{line.pk}": 5}), **HTMX)
        garbage = cashier.post(url, {**return_data(order, mine), f"quantity_{line.pk}": "x", "location": "z"}, **HTMX)
        unknown = cashier.post(reverse("admin:orders_orderreturn_preview", args=["W-999999"]), {}, **HTMX)
        page = cashier.get(reverse("admin:orders_orderreturn_take", args=["W-999999"]), follow=True)

        assert [r.status_code for r in (too_many, garbage, unknown, page)] == [200] * 4
        assert "errorlist" in too_many.content.decode() and too_many.context["preview"] is None
        assert garbage.context["preview"] is None
        assert "No completed order" in unknown.content.decode()
        assert any("W-999999" in m for m in messages_of(page))
        assert not OrderReturn.objects.exists()


class TestAccept:
    def test_a_card_refund_is_said_to_be_pending(self, cashier, two_stores):
        mine, _theirs, parka = two_stores
        order = card_sale(mine, parka, customer())
        url = reverse("admin:orders_orderreturn_take", args=[order.number])

        response = cashier.post(url, {**return_data(order, mine), "_confirm": "1"}, follow=True)

        order_return = OrderReturn.objects.get()
        assert response.redirect_chain[-1][0] == reverse("admin:orders_orderreturn_accepted", args=[order_return.pk])
        [text] = messages_of(response)
        assert order_return.number in text
        assert "9,290.00 to refund — awaiting payout" in text
        assert "refunded" not in text
        refund = Refund.objects.get()
        assert refund.status == RefundStatus.PENDING
        assert "Complete the refund" in response.content.decode()

    def test_a_cash_refund_is_said_to_be_made(self, cashier, two_stores):
        mine, _theirs, parka = two_stores
        order = sell(mine, (parka, 1))
        url = reverse("admin:orders_orderreturn_take", args=[order.number])

        response = cashier.post(url, {**return_data(order, mine), "_confirm": "1"}, follow=True)

        [text] = messages_of(response)
        assert "9,290.00 is refunded" in text
        assert "Complete the refund" not in response.content.decode()

    def test_without_a_reason_nothing_is_accepted(self, cashier, two_stores):
        mine, _theirs, parka = two_stores
        order = card_sale(mine, parka, customer())
        url = reverse("admin:orders_orderreturn_take", args=[order.number])

        response = cashier.post(url, {**return_data(order, mine), "reason": " ", "_confirm": "1"})

        assert response.status_code == 200
        assert "reason" in response.context["form"].errors
        assert not OrderReturn.objects.exists()

    def test_after_the_window_the_refusal_is_shown_and_nothing_changes(self, cashier, two_stores):
        mine, _theirs, parka = two_stores
        order = card_sale(mine, parka, customer())
        Order.objects.filter(pk=order.pk).update(completed_at=timezone.now() - datetime.timedelta(days=40))
        url = reverse("admin:orders_orderreturn_take", args=[order.number])

        response = cashier.post(url, {**return_data(order, mine), "_confirm": "1"})

        assert response.status_code == 200
        assert any("return window" in text for text in response.context["refusals"])
        assert 'id="return-deadline"' in response.content.decode()
        assert not OrderReturn.objects.exists()


class TestCompleteTheRefund:
    @pytest.fixture
    def pending(self, two_stores):
        mine, _theirs, parka = two_stores
        order_return = accepted(card_sale(mine, parka, customer()), mine)
        refund = Refund.objects.get(order_return=order_return)
        return refund, reverse("admin:orders_orderreturn_refund", args=[refund.pk])

    def test_by_card_needs_the_transaction_id_and_records_it(self, cashier, pending):
        refund, url = pending
        prefix = f"refund{refund.pk}"

        refused = cashier.post(url, {f"{prefix}-payout": "terminal", f"{prefix}-transaction_id": " "})

        assert refused.status_code == 200
        assert "transaction id" in refused.content.decode()
        refund.refresh_from_db()
        assert refund.status == RefundStatus.PENDING

        done = cashier.post(
            url,
            {f"{prefix}-payout": "terminal", f"{prefix}-transaction_id": "RRN-42", f"{prefix}-terminal": "T-7"},
            follow=True,
        )

        refund.refresh_from_db()
        assert (refund.status, refund.transaction_id, refund.terminal) == (RefundStatus.DONE, "RRN-42", "T-7")
        assert any("RRN-42" in m and "completed" in m for m in messages_of(done))
        assert "Complete the refund" not in done.content.decode()

    def test_in_cash_completes(self, cashier, pending):
        refund, url = pending
        response = cashier.post(url, {f"refund{refund.pk}-payout": "cash"}, follow=True)
        refund.refresh_from_db()
        assert (refund.status, refund.method) == (RefundStatus.DONE, "cash")
        assert any("in cash" in m for m in messages_of(response))

    def test_twice_is_refused_and_changes_nothing(self, cashier, pending):
        refund, url = pending
        services.refund_complete(refund=refund, payout="terminal", transaction_id="RRN-1")
        response = cashier.post(url, {f"refund{refund.pk}-payout": "cash"}, follow=True)
        assert any("already" in m for m in messages_of(response))
        refund.refresh_from_db()
        assert (refund.method, refund.transaction_id) == ("card_in_store", "RRN-1")

    def test_another_stores_refund_and_a_get_are_refused(self, cashier, two_stores, pending):
        _mine, theirs, parka = two_stores
        their_refund = Refund.objects.get(order_return=accepted(card_sale(theirs, parka, customer()), theirs))
        url = reverse("admin:orders_orderreturn_refund", args=[their_refund.pk])

        assert cashier.post(url, {f"refund{their_refund.pk}-payout": "cash"}).status_code == 302
        assert cashier.get(pending[1]).status_code == 405
        their_refund.refresh_from_db()
        assert their_refund.status == RefundStatus.PENDING


class TestOtherStoresOrders:
    def test_open_read_only(self, cashier, two_stores):
        _mine, theirs, parka = two_stores
        their_order = collect(customer(), theirs, (parka, 1))

        page = cashier.get(reverse("admin:orders_order_change", args=[their_order.pk]))

        assert page.status_code == 200
        content = page.content.decode()
        assert their_order.number in content and "Parka, black, L" in content
        assert 'id="read-only-notice"' in content and "Their store" in content
        for action in ("ready", "cancel", "payment", "handover"):
            assert reverse(f"admin:orders_order_{action}", args=[their_order.pk]) not in content

    def test_actions_on_them_are_refused(self, cashier, two_stores):
        _mine, theirs, parka = two_stores
        their_order = collect(customer(), theirs, (parka, 1))

        ready = cashier.post(reverse("admin:orders_order_ready", args=[their_order.pk]), follow=True)
        cancel = cashier.post(reverse("admin:orders_order_cancel", args=[their_order.pk]), {"reason": "x"})
        pay = cashier.post(reverse("admin:orders_order_payment", args=[their_order.pk]), {"method": "sbp"})
        hand = cashier.get(reverse("admin:orders_order_handover", args=[their_order.pk]))

        assert any("only its staff" in m for m in messages_of(ready))
        for response in (cancel, pay, hand):
            assert response.status_code == 302
            assert response.url == reverse("admin:orders_order_change", args=[their_order.pk])
        their_order.refresh_from_db()
        assert (their_order.status, their_order.paid) == (OrderStatus.PLACED, Decimal("0.00"))

    def test_a_return_at_my_store_of_their_order_links_to_it(self, cashier, two_stores):
        mine, theirs, parka = two_stores
        their_sale = card_sale(theirs, parka, customer())
        order_return = accepted(their_sale, mine)

        desk = cashier.get(reverse("admin:orders_orderreturn_accepted", args=[order_return.pk]))
        order_url = reverse("admin:orders_order_change", args=[their_sale.pk])
        assert order_url in desk.content.decode()

        page = cashier.get(order_url)
        assert page.status_code == 200
        assert order_return.number in page.content.decode()
        return_page = cashier.get(reverse("admin:orders_orderreturn_change", args=[order_return.pk])).content.decode()
        assert order_url in return_page
        assert reverse("admin:orders_orderreturn_accepted", args=[order_return.pk]) in return_page

    def test_an_order_that_does_not_exist_still_says_so(self, cashier):
        response = cashier.get(reverse("admin:orders_order_change", args=[999999]))
        assert response.status_code == 302
        assert cashier.get(reverse("admin:orders_order_change", args=["x"])).status_code == 302
