"""The orders admin: the click-and-collect desk, the till, the return desk, the customer's page,
and store staff limited to their own stores."""

from decimal import Decimal

import pytest
from django.urls import reverse

from inventory.models import Stock
from omni.core.roles import HEAD_OFFICE, STORE_MANAGER, STORE_STAFF
from orders import services
from orders.models import OrderReturn, OrderStatus
from tests.orders.factories import cash, collect, customer, product, sell, stock, store

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_stores():
    mine, theirs = store(code="mine", name="My store"), store(code="theirs", name="Their store")
    shirt = product("1000.00")
    stock(mine, shirt, 10)
    stock(theirs, shirt, 10)
    return mine, theirs, shirt


@pytest.fixture
def cashier(client, staff_in_role, two_stores):
    mine, _theirs, _shirt = two_stores
    client.force_login(staff_in_role(STORE_STAFF, locations=[mine]))
    return client


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


class TestStoreStaffSeeOnlyTheirStores:
    def test_list_and_pages(self, cashier, two_stores):
        mine, theirs, shirt = two_stores
        my_order = collect(customer(), mine, (shirt, 1))
        their_order = collect(customer(), theirs, (shirt, 1))

        listed = cashier.get(reverse("admin:orders_order_changelist"))
        assert listed.status_code == 200
        assert [o.number for o in listed.context["cl"].result_list] == [my_order.number]

        assert cashier.get(reverse("admin:orders_order_change", args=[my_order.pk])).status_code == 200
        other = cashier.get(reverse("admin:orders_order_change", args=[their_order.pk]))
        assert other.status_code == 200  # read-only: tests/orders/desks/test_returns.py

    def test_they_cannot_change_another_stores_order(self, cashier, two_stores):
        mine, theirs, shirt = two_stores
        their_order = collect(customer(), theirs, (shirt, 1))

        cashier.post(reverse("admin:orders_order_ready", args=[their_order.pk]))
        cashier.post(reverse("admin:orders_order_cancel", args=[their_order.pk]), {"reason": "x"})
        cashier.post(
            reverse("admin:orders_order_changelist"),
            {"action": "cancel_selected", "_selected_action": [their_order.pk]},
        )

        their_order.refresh_from_db()
        assert their_order.status == OrderStatus.PLACED
        assert Stock.objects.get(location=theirs, product=shirt).reserved == 1

    def test_returns_of_another_store_are_not_listed(self, cashier, two_stores):
        mine, theirs, shirt = two_stores
        their_sale = sell(theirs, (shirt, 1))
        services.return_accept(
            order=their_sale, location=theirs, lines=[services.ReturnLineInput(shirt.sku, 1)], reason="x"
        )
        listed = cashier.get(reverse("admin:orders_orderreturn_changelist"))
        assert list(listed.context["cl"].result_list) == []

    def test_head_office_sees_every_store(self, client, staff_in_role, two_stores):
        mine, theirs, shirt = two_stores
        collect(customer(), mine, (shirt, 1))
        collect(customer(), theirs, (shirt, 1))
        client.force_login(staff_in_role(HEAD_OFFICE))
        listed = client.get(reverse("admin:orders_order_changelist"))
        assert len(listed.context["cl"].result_list) == 2


class TestDesk:
    def test_sections_of_my_store(self, cashier, two_stores):
        mine, theirs, shirt = two_stores
        to_prepare = collect(customer(), mine, (shirt, 1))
        ready = collect(customer(), mine, (shirt, 1))
        services.order_mark_ready(order=ready)
        collect(customer(), theirs, (shirt, 1))

        response = cashier.get(reverse("admin:orders_order_desk"))

        sections = {key: [o.number for o in orders] for key, _title, orders in response.context["sections"]}
        assert sections == {
            "to_prepare": [to_prepare.number],
            "awaiting_transfer": [],
            "awaiting_decision": [],
            "ready": [ready.number],
            "expiring": [],
            "with_courier": [],
        }
        assert ready.number.encode() in response.content

    def test_ready_then_hand_over_with_a_refusal_and_payment(self, cashier, two_stores):
        mine, _theirs, shirt = two_stores
        socks = product("200.00")
        stock(mine, socks, 5)
        order = collect(customer(), mine, (shirt, 2), (socks, 1))

        cashier.post(reverse("admin:orders_order_ready", args=[order.pk]))
        order.refresh_from_db()
        assert order.status == OrderStatus.READY_FOR_PICKUP

        url = reverse("admin:orders_order_handover", args=[order.pk])
        assert cashier.get(url).status_code == 200
        shirt_line, socks_line = order.lines.order_by("id")
        response = cashier.post(
            url,
            {
                f"refused_{shirt_line.pk}": 1,
                f"refused_{socks_line.pk}": 0,
                "payment_method": "card_in_store",
                "terminal": "T-7",
                "transaction_id": "",
                "acquiring_bank": "Sber",
            },
        )
        assert response.status_code == 302, messages_of(response)
        order.refresh_from_db()
        assert (order.status, order.total, order.paid) == (
            OrderStatus.COLLECTED,
            Decimal("1200.00"),
            Decimal("1200.00"),
        )
        payment = order.payments.get()
        assert (payment.terminal, payment.acquiring_bank, payment.employee.employee.locations.get()) == (
            "T-7",
            "Sber",
            mine,
        )

    def test_a_payment_that_does_not_match_is_shown_and_nothing_changes(self, cashier, two_stores):
        mine, _theirs, shirt = two_stores
        order = collect(customer(), mine, (shirt, 1))
        services.order_mark_ready(order=order)
        line = order.lines.get()
        response = cashier.post(
            reverse("admin:orders_order_handover", args=[order.pk]), {f"refused_{line.pk}": 0, "payment_method": ""}
        )
        assert response.status_code == 200
        assert any("1000.00" in text for text in messages_of(response))
        order.refresh_from_db()
        assert order.status == OrderStatus.READY_FOR_PICKUP

    def test_cancel_from_the_desk(self, cashier, two_stores):
        mine, _theirs, shirt = two_stores
        order = collect(customer(), mine, (shirt, 1))
        response = cashier.post(reverse("admin:orders_order_cancel", args=[order.pk]), {"reason": "Asked to"})
        assert response.status_code == 302
        order.refresh_from_db()
        assert (order.status, order.cancel_reason) == (OrderStatus.CANCELLED, "Asked to")


class TestReturnDesk:
    @pytest.mark.parametrize(
        "url", ["/admin/orders/orderreturn/desk/W-%00/", "/admin/orders/orderreturn/desk/?q=W-%00"]
    )
    def test_a_nul_character_in_the_address_is_a_bad_request(self, client, staff_in_role, two_stores, url):
        client.force_login(staff_in_role(STORE_STAFF, locations=[two_stores[0]]))

        response = client.get(url)

        assert response.status_code == 400

    def test_find_by_phone_preview_and_confirm(self, client, staff_in_role, two_stores):
        mine, theirs, shirt = two_stores
        person = customer()
        web_order = collect(person, theirs, (shirt, 2))  # bought elsewhere
        services.order_mark_ready(order=web_order)
        services.order_hand_over(order=web_order, payments=cash())
        client.force_login(staff_in_role(STORE_STAFF, locations=[mine]))

        found = client.get(reverse("admin:orders_orderreturn_desk"), {"q": person.identities.get(kind="phone").value})
        assert [o.number for o in found.context["orders"]] == [web_order.number]
        by_number = client.get(reverse("admin:orders_orderreturn_desk"), {"q": web_order.number})
        assert by_number.status_code == 302

        url = reverse("admin:orders_orderreturn_take", args=[web_order.number])
        line = web_order.lines.get()
        data = {
            "location": mine.pk,
            "reason": "Wrong colour",
            "refund_method": "original",
            f"quantity_{line.pk}": 1,
            f"condition_{line.pk}": "resellable",
        }
        preview = client.post(url, {**data, "_preview": "1"})
        assert preview.status_code == 200, messages_of(preview)
        assert preview.context["preview"].refund_amount == Decimal("1000.00")
        assert not OrderReturn.objects.exists()

        confirmed = client.post(url, {**data, "_confirm": "1"})
        assert confirmed.status_code == 302, messages_of(confirmed)
        order_return = OrderReturn.objects.get()
        assert (order_return.location, order_return.refund_amount) == (mine, Decimal("1000.00"))
        assert Stock.objects.get(location=mine, product=shirt).on_hand == 11

    def test_the_late_return_box_is_for_managers(self, client, staff_in_role, two_stores):
        mine, _theirs, shirt = two_stores
        order = sell(mine, (shirt, 1))
        url = reverse("admin:orders_orderreturn_take", args=[order.number])
        client.force_login(staff_in_role(STORE_STAFF, locations=[mine]))
        assert "accept_late" not in client.get(url).context["form"].fields
        client.force_login(staff_in_role(STORE_MANAGER, locations=[mine]))
        assert "accept_late" in client.get(url).context["form"].fields


class TestCustomerPage:
    def test_shows_every_order_and_return_of_every_channel(self, client, staff_in_role, two_stores):
        mine, theirs, shirt = two_stores
        person = customer()
        web = collect(person, theirs, (shirt, 1), channel="site")
        sale = sell(mine, (shirt, 1), person=person)
        order_return = services.return_accept(
            order=sale, location=mine, lines=[services.ReturnLineInput(shirt.sku, 1)], reason="x"
        )
        client.force_login(staff_in_role(STORE_STAFF, locations=[mine]))

        response = client.get(reverse("admin:customers_customer_change", args=[person.pk]))

        assert response.status_code == 200
        content = response.content.decode()
        for text in (web.number, sale.number, order_return.number):
            assert text in content

    def test_the_customer_form_still_saves(self, client, superuser_client_customer):
        client, person, url, data = superuser_client_customer
        response = client.post(url, data)
        assert response.status_code == 302
        person.refresh_from_db()
        assert person.city == "Omsk"


@pytest.fixture
def superuser_client_customer(client, two_stores):
    from tests.inventory.factories import UserFactory

    mine, _theirs, shirt = two_stores
    person = customer()
    collect(person, mine, (shirt, 1))
    client.force_login(UserFactory(is_superuser=True))
    url = reverse("admin:customers_customer_change", args=[person.pk])
    identity = person.identities.get(kind="phone")
    data = {
        "first_name": person.first_name,
        "last_name": person.last_name,
        "middle_name": "",
        "birthday": "",
        "gender": "",
        "city": "Omsk",
        "preferred_store": "",
        "preferred_channel": "",
        "preferred_payment_method": "",
        "tags": "[]",
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
        "identities-0-id": str(identity.pk),
        "identities-0-customer": str(person.pk),
    }
    return client, person, url, data
