"""The orders admin: the click-and-collect desk, the till, the return desk, the customer's page,
and store staff limited to their own stores."""

from decimal import Decimal

import pytest
from django.urls import reverse

from inventory.models import Stock
from loyalty.errors import CodeExpired
from omni.core.roles import HEAD_OFFICE, STORE_MANAGER, STORE_STAFF
from orders import services
from orders.models import Order, OrderReturn, OrderStatus
from tests.loyalty.factories import PromoCodeFactory
from tests.orders.factories import cash, collect, customer, points_for, product, sell, stock, store

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


class TestSale:
    URL = reverse("admin:orders_order_sale")

    def test_the_receipt_is_what_the_services_compute(self, cashier, two_stores):
        mine, _theirs, shirt = two_stores
        socks = product("333.33")
        stock(mine, socks, 5)
        person = customer()
        points_for(person, 500)
        PromoCodeFactory(code="SALE7", kind="percent", value=Decimal("7"))
        phone = person.identities.get(kind="phone").value
        data = {
            "location": mine.pk,
            "customer": phone,
            "lines": f"{shirt.sku} 1\n{socks.sku} 2",
            "promo_code": "sale7",
            "points": 150,
            "otp_code": "",
            "payment_method": "card_in_store",
            "terminal": "T1",
            "transaction_id": "",
            "acquiring_bank": "",
            "cash_amount": "",
        }

        computed = cashier.post(self.URL, {**data, "_compute": "1"})

        assert computed.status_code == 200, messages_of(computed)
        receipt = computed.context["receipt"]
        assert not Order.objects.exists()
        assert Stock.objects.get(location=mine, product=shirt).on_hand == 10

        sold = cashier.post(self.URL, {**data, "_sell": "1"})

        assert sold.status_code == 302, messages_of(sold)
        order = Order.objects.get()
        assert (order.customer, order.status) == (person, OrderStatus.SOLD)
        assert (receipt.subtotal, receipt.discount, receipt.points_value, receipt.total) == (
            order.subtotal,
            order.discount,
            order.points_value,
            order.total,
        )
        assert [line.total for line in receipt.preview_lines] == [line.total for line in order.lines.order_by("id")]
        assert order.paid == order.total
        assert Stock.objects.get(location=mine, product=socks).on_hand == 3

    def test_wrong_codes_in_the_preview_count(self, cashier, two_stores, programme, monkeypatch, settings):
        from loyalty.models import OneTimeCode
        from loyalty.services import otp

        programme.otp_required = True
        programme.save()
        monkeypatch.setattr(otp, "generate_code", lambda: "482913")
        mine, _theirs, shirt = two_stores
        person = customer()
        points_for(person, 500)
        otp.otp_send(customer=person, channel="store")
        data = {
            "location": mine.pk,
            "customer": person.identities.get(kind="phone").value,
            "lines": f"{shirt.sku} 1",
            "promo_code": "",
            "points": 100,
            "otp_code": "000000",
            "payment_method": "card_in_store",
            "terminal": "T1",
            "transaction_id": "",
            "acquiring_bank": "",
            "cash_amount": "",
        }

        for _attempt in range(settings.LOYALTY_OTP_MAX_ATTEMPTS):
            computed = cashier.post(self.URL, {**data, "_compute": "1"})
            assert computed.context["receipt"] is None
            assert any("code" in message for message in messages_of(computed)), messages_of(computed)

        assert OneTimeCode.objects.get().attempts == settings.LOYALTY_OTP_MAX_ATTEMPTS
        refused = cashier.post(self.URL, {**data, "otp_code": "482913", "_sell": "1"})
        assert refused.status_code == 200
        assert str(CodeExpired.message) in messages_of(refused)
        assert not Order.objects.exists()

    def test_the_right_code_previews_then_sells(self, cashier, two_stores, programme, monkeypatch):
        from loyalty.models import OneTimeCode
        from loyalty.services import otp

        programme.otp_required = True
        programme.save()
        monkeypatch.setattr(otp, "generate_code", lambda: "482913")
        mine, _theirs, shirt = two_stores
        person = customer()
        points_for(person, 500)
        otp.otp_send(customer=person, channel="store")
        data = {
            "location": mine.pk,
            "customer": person.identities.get(kind="phone").value,
            "lines": f"{shirt.sku} 1",
            "promo_code": "",
            "points": 100,
            "otp_code": "482913",
            "payment_method": "card_in_store",
            "terminal": "T1",
            "transaction_id": "",
            "acquiring_bank": "",
            "cash_amount": "",
        }

        computed = cashier.post(self.URL, {**data, "_compute": "1"})
        assert computed.context["receipt"].points_value == Decimal("100.00"), messages_of(computed)
        assert OneTimeCode.objects.get().used_at is None
        sold = cashier.post(self.URL, {**data, "_sell": "1"})
        assert sold.status_code == 302, messages_of(sold)
        assert Order.objects.get().points_redeemed == 100
        assert OneTimeCode.objects.get().used_at is not None

    def test_barcodes_an_anonymous_customer_and_a_split_payment(self, cashier, two_stores):
        from tests.inventory.factories import BarcodeFactory

        mine, _theirs, shirt = two_stores
        barcode = BarcodeFactory(product=shirt)
        response = cashier.post(
            self.URL,
            {
                "location": mine.pk,
                "customer": "",
                "lines": f"{barcode.code} 2",
                "payment_method": "card_in_store",
                "cash_amount": "500.00",
                "_sell": "1",
            },
        )
        assert response.status_code == 302, messages_of(response)
        order = Order.objects.get()
        assert order.customer is None
        assert sorted(order.payments.values_list("method", "amount")) == [
            ("card_in_store", Decimal("1500.00")),
            ("cash", Decimal("500.00")),
        ]

    def test_only_in_my_stores(self, cashier, two_stores):
        _mine, theirs, shirt = two_stores
        response = cashier.post(
            self.URL, {"location": theirs.pk, "lines": f"{shirt.sku} 1", "payment_method": "cash", "_sell": "1"}
        )
        assert response.status_code == 200
        assert "location" in response.context["form"].errors
        assert not Order.objects.exists()


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
