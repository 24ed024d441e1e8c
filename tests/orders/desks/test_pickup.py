"""The pickup desk: the list with names and search, the handover with refusals previewed live, the
payment defaulting to what is due, the result, and store staff kept to their own stores."""

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from customers.identities import identity_label
from customers.models import IdentityKind
from inventory.models import Stock
from loyalty import selectors as loyalty_selectors
from omni.core.roles import STORE_STAFF
from orders import services
from orders.models import Order, OrderLine, OrderStatus, Payment, PaymentMethod, Refund, RefundStatus
from orders.services import PaymentInput
from tests.customers.factories import IdentityFactory
from tests.orders.factories import collect, customer, deliver, points_for, product, stock, store

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def shop():
    return store(code="MSK-TVER", name="Tverskaya", ships_orders=True)


@pytest.fixture
def goods(shop):
    shirt = product("1000.00", sku="SHI-1", name="Oxford shirt")
    socks = product("250.00", sku="SOC-1", name="Wool socks")
    stock(shop, shirt, 10)
    stock(shop, socks, 20)
    return shirt, socks


@pytest.fixture
def cashier(client, staff_in_role, shop):
    client.force_login(staff_in_role(STORE_STAFF, locations=[shop]))
    return client


def ready(order):
    services.order_mark_ready(order=order)
    order.refresh_from_db()
    return order


def selected_method(html: str) -> str:
    match = re.search(r'<select id="id_payment_method"[^>]*>(.*?)</select>', html, re.S)
    assert match, "no payment select"
    options = re.findall(r'<option value="([^"]*)"( selected)?>', match.group(1))
    return [value for value, selected in options if selected][0], [value for value, _s in options]


def due_shown(html: str) -> str:
    return re.search(r'id="handover-due">([^<]*)<', html).group(1).strip()


def text_of(response) -> str:
    return response.content.decode()


class TestPaymentDefaultsToWhatIsDue:
    def test_something_due_offers_the_card_first_and_no_nothing_to_pay(self, cashier, shop, goods):
        shirt, socks = goods
        order = ready(collect(customer(), shop, (shirt, 2), (socks, 1)))

        html = text_of(cashier.get(reverse("admin:orders_order_handover", args=[order.pk])))

        method, offered = selected_method(html)
        assert method == PaymentMethod.CARD_IN_STORE
        assert "" not in offered  # «Оплата не требуется» is not offered while 2 250 is due
        assert due_shown(html) == "2\xa0250,00" or due_shown(html) == "2,250.00"

    def test_a_prepaid_order_offers_nothing_to_pay_only(self, cashier, shop, goods):
        shirt, _socks = goods
        order = ready(collect(customer(), shop, (shirt, 1), payments=[PaymentInput("card_online", transaction_id="t")]))

        html = text_of(cashier.get(reverse("admin:orders_order_handover", args=[order.pk])))

        assert selected_method(html) == ("", [""])

    def test_the_default_is_handed_over_at_the_first_press(self, cashier, shop, goods):
        shirt, _socks = goods
        order = ready(collect(customer(), shop, (shirt, 1)))
        line = order.lines.get()
        html = text_of(cashier.get(reverse("admin:orders_order_handover", args=[order.pk])))
        method, _offered = selected_method(html)

        response = cashier.post(
            reverse("admin:orders_order_handover", args=[order.pk]),
            {f"refused_{line.pk}": "0", "payment_method": method},
        )

        assert response.status_code == 302
        order.refresh_from_db()
        assert (order.status, order.paid) == (OrderStatus.COLLECTED, Decimal("1000.00"))
        assert order.payments.get().method == PaymentMethod.CARD_IN_STORE


class TestRefusalPreview:
    def test_refusing_a_line_lowers_the_due_and_the_handover_records_exactly_that(self, cashier, shop, goods):
        shirt, socks = goods
        person = customer()
        account = points_for(person, 250)
        # round shares: SQLite checks the line figures in floating point
        order = ready(collect(person, shop, (shirt, 2), (socks, 2), points=250))
        shirt_line, socks_line = order.lines.order_by("id")
        form = {f"refused_{shirt_line.pk}": "1", f"refused_{socks_line.pk}": "1", "payment_method": "cash"}
        url = reverse("admin:orders_order_handover_preview", args=[order.pk])

        before = due_shown(text_of(cashier.get(url, {**form, f"refused_{shirt_line.pk}": "0"}, **HTMX)))
        fragment = text_of(cashier.get(url, form, **HTMX))
        preview = services.order_hand_over_preview(order=order, refused={shirt.sku: 1, socks.sku: 1})

        assert due_shown(fragment) != before
        assert selected_method(fragment)[0] == "cash"  # the cashier's choice is kept
        assert 'id="handover-heading-due" hx-swap-oob="true"' in fragment  # the heading follows
        assert Order.objects.get(pk=order.pk).status == OrderStatus.READY_FOR_PICKUP  # the preview wrote nothing

        response = cashier.post(reverse("admin:orders_order_handover", args=[order.pk]), form)

        assert response.status_code == 302
        order.refresh_from_db()
        assert (order.status, order.total, order.paid) == (OrderStatus.COLLECTED, preview.total, preview.due)
        assert order.payments.get(method=PaymentMethod.CASH).amount == preview.due
        for line_preview in preview.lines:
            line = OrderLine.objects.get(pk=line_preview.line.pk)
            assert (line.kept_quantity, line.refused_quantity, line.total, line.refused_total) == (
                line_preview.taken,
                line_preview.refused,
                line_preview.total,
                line_preview.refused_total,
            )
        assert loyalty_selectors.balance(account).available == preview.points_given_back > 0

    def test_a_prepaid_refusal_shows_the_pending_refund_that_is_then_recorded(self, cashier, shop, goods):
        shirt, socks = goods
        order = ready(
            collect(
                customer(), shop, (shirt, 1), (socks, 2), payments=[PaymentInput("card_online", transaction_id="t")]
            )
        )
        _shirt_line, socks_line = order.lines.order_by("id")
        form = {f"refused_{socks_line.pk}": "2", "payment_method": ""}
        preview = services.order_hand_over_preview(order=order, refused={socks.sku: 2})

        fragment = text_of(cashier.get(reverse("admin:orders_order_handover_preview", args=[order.pk]), form, **HTMX))
        assert (preview.due, preview.refund, preview.refund_pending) == (Decimal("0.00"), Decimal("500.00"), True)
        assert "pending" in fragment or "ожидает" in fragment

        response = cashier.post(reverse("admin:orders_order_handover", args=[order.pk]), form, follow=True)

        refund = Refund.objects.get(order=order)
        assert (refund.amount, refund.status) == (preview.refund, RefundStatus.PENDING)
        result = text_of(response)
        assert 'id="handover-result"' in result
        assert "Wool socks" in result and "pending" in result

    def test_the_preview_writes_nothing(self, shop, goods):
        shirt, socks = goods
        order = ready(collect(customer(), shop, (shirt, 2), (socks, 1)))
        counts = (Payment.objects.count(), Refund.objects.count(), list(Stock.objects.values_list("reserved")))

        services.order_hand_over_preview(order=order, refused={shirt.sku: 1})

        order.refresh_from_db()
        assert (Payment.objects.count(), Refund.objects.count(), list(Stock.objects.values_list("reserved"))) == counts
        assert order.lines.get(sku=shirt.sku).refused_quantity == 0

    @pytest.mark.parametrize(
        "refused",
        [{"SHI-1": "abc"}, {"SHI-1": "-1"}, {"SHI-1": "3"}, {"SHI-1": "2", "SOC-1": "1"}],
        ids=["not a number", "negative", "more than ordered", "everything"],
    )
    def test_bad_refusals_are_explained_and_change_nothing(self, cashier, shop, goods, refused):
        shirt, socks = goods
        order = ready(collect(customer(), shop, (shirt, 2), (socks, 1)))
        ids = {line.sku: line.pk for line in order.lines.all()}
        form = {f"refused_{ids[sku]}": value for sku, value in refused.items()} | {"payment_method": "cash"}

        fragment = cashier.get(reverse("admin:orders_order_handover_preview", args=[order.pk]), form, **HTMX)
        posted = cashier.post(reverse("admin:orders_order_handover", args=[order.pk]), form)

        assert fragment.status_code == posted.status_code == 200
        assert 'class="errorlist"' in text_of(fragment)
        assert "disabled" in text_of(fragment)
        order.refresh_from_db()
        assert order.status == OrderStatus.READY_FOR_PICKUP
        assert not order.payments.exists()


class TestDeskList:
    def test_lines_show_names_and_skus_and_the_customer(self, cashier, shop, goods):
        shirt, socks = goods
        person = customer(first_name="Anna", last_name="Smirnova")
        order = ready(collect(person, shop, (shirt, 1), (socks, 2)))

        html = text_of(cashier.get(reverse("admin:orders_order_desk")))

        row = html[html.index(f'id="desk-order-{order.pk}"') :]
        row = row[: row.index("</tr>")]
        assert "Oxford shirt" in row and "SHI-1" in row and "Wool socks" in row and "× 2" in row
        assert "Smirnova Anna" in row
        assert identity_label("phone", person.identities.get(kind=IdentityKind.PHONE).value) in row  # +7 916 …

    def test_search_by_the_last_digits_of_the_phone(self, cashier, shop, goods):
        shirt, _socks = goods
        wanted = customer()
        IdentityFactory(customer=wanted, value="+79001000002")
        found = ready(collect(wanted, shop, (shirt, 1)))
        other = ready(collect(customer(), shop, (shirt, 1)))

        for typed in ("100-00-02", "00-02", "+7 900 100-00-02"):
            html = text_of(cashier.get(reverse("admin:orders_order_desk"), {"q": typed}, **HTMX))
            assert found.number in html, typed
            assert other.number not in html, typed
        assert "<html" not in html  # htmx gets the list only

    def test_search_by_name_and_card(self, cashier, shop, goods):
        shirt, _socks = goods
        anna = customer(first_name="Anna", last_name="Smirnova")
        IdentityFactory(customer=anna, kind=IdentityKind.CARD, value="2990000000057")
        order = ready(collect(anna, shop, (shirt, 1)))
        for typed in ("smirn", "Anna Smirnova", "2990000000057", "0057"):
            html = text_of(cashier.get(reverse("admin:orders_order_desk"), {"q": typed}, **HTMX))
            assert order.number in html, typed

    def test_a_scanned_order_number_opens_its_handover(self, cashier, shop, goods):
        shirt, _socks = goods
        order = ready(collect(customer(), shop, (shirt, 1)))

        response = cashier.get(reverse("admin:orders_order_desk"), {"q": order.number.lower()})

        assert response.status_code == 302
        assert response.url == reverse("admin:orders_order_handover", args=[order.pk])

    def test_the_list_costs_the_same_queries_for_many_orders(self, cashier, shop, goods):
        shirt, socks = goods

        def queries() -> int:
            with CaptureQueriesContext(connection) as captured:
                assert cashier.get(reverse("admin:orders_order_desk"), {"q": "Petrov"}, **HTMX).status_code == 200
            return len(captured)

        ready(collect(customer(), shop, (shirt, 1), (socks, 1)))
        few = queries()
        for _ in range(5):
            ready(collect(customer(), shop, (shirt, 1), (socks, 1)))
            collect(customer(), shop, (socks, 1))
        # session, user, permissions, locations; then the orders, their lines, their customers' phones
        assert queries() == few <= 8

    def test_a_preview_is_a_handful_of_queries(self, cashier, shop, goods):
        shirt, socks = goods
        person = customer()
        points_for(person, 100)
        order = ready(collect(person, shop, *[(shirt, 1), (socks, 3)], points=100))
        line = order.lines.first()
        url = reverse("admin:orders_order_handover_preview", args=[order.pk])

        with CaptureQueriesContext(connection) as captured:
            assert cashier.get(url, {f"refused_{line.pk}": "1"}, **HTMX).status_code == 200

        assert len(captured) <= 11  # 4 for the session and permissions


class TestCourierAndOtherStores:
    def test_a_courier_delivery_is_recorded_with_courier_methods(self, cashier, shop, goods):
        shirt, _socks = goods
        order = deliver(customer(), (shirt, 1))
        assert order.location == shop
        services.order_pack(order=order)
        services.order_ship(order=order)

        desk = text_of(cashier.get(reverse("admin:orders_order_desk")))
        html = text_of(cashier.get(reverse("admin:orders_order_handover", args=[order.pk])))

        assert 'id="desk-with_courier"' in desk and order.number in desk
        assert selected_method(html) == (
            PaymentMethod.COURIER_CARD,
            [PaymentMethod.COURIER_CASH, PaymentMethod.COURIER_CARD, PaymentMethod.SBP],
        )
        line = order.lines.get()
        cashier.post(
            reverse("admin:orders_order_handover", args=[order.pk]),
            {f"refused_{line.pk}": "0", "payment_method": PaymentMethod.COURIER_CARD},
        )
        order.refresh_from_db()
        assert order.status == OrderStatus.DELIVERED

    def test_another_stores_order_is_neither_found_nor_handed_over(self, cashier, goods):
        shirt, _socks = goods
        theirs = store(code="SPB-NEV")
        stock(theirs, shirt, 5)
        order = ready(collect(customer(), theirs, (shirt, 1)))
        line = order.lines.get()

        listed = text_of(cashier.get(reverse("admin:orders_order_desk"), {"q": order.number}, **HTMX))
        preview = cashier.get(reverse("admin:orders_order_handover_preview", args=[order.pk]), **HTMX)
        posted = cashier.post(
            reverse("admin:orders_order_handover", args=[order.pk]),
            {f"refused_{line.pk}": "0", "payment_method": "cash"},
        )

        assert f"/{order.pk}/" not in listed and "No order of your stores matches" in listed
        assert preview.status_code == posted.status_code == 302
        order.refresh_from_db()
        assert order.status == OrderStatus.READY_FOR_PICKUP


def test_a_second_press_shows_what_was_recorded_and_changes_nothing(cashier, shop, goods):
    shirt, _socks = goods
    order = ready(collect(customer(), shop, (shirt, 1)))
    line = order.lines.get()
    url = reverse("admin:orders_order_handover", args=[order.pk])
    form = {f"refused_{line.pk}": "0", "payment_method": "cash"}

    first = cashier.post(url, form)
    second = cashier.post(url, form)

    assert first.status_code == second.status_code == 302
    assert second.url == reverse("admin:orders_order_desk") + f"?done={order.pk}"
    assert Order.objects.get(pk=order.pk).payments.count() == 1


@pytest.mark.parametrize("refused", [{"SHI-1": 1}, {"SOC-1": 2}, {"SHI-1": 1, "SOC-1": 1}, {"SOC-1": 3}])
def test_the_preview_agrees_with_the_handover_when_shares_do_not_round(shop, goods, refused):
    shirt, socks = goods
    person = customer()
    points_for(person, 300)
    order = ready(collect(person, shop, (shirt, 3), (socks, 3), points=299))

    preview = services.order_hand_over_preview(order=order, refused=refused)
    services.order_hand_over(order=order, refused=refused, payments=[PaymentInput("cash")])

    order.refresh_from_db()
    assert (order.total, order.paid) == (preview.total, preview.due)
    recorded = [(line.kept_quantity, line.total, line.refused_total) for line in order.lines.order_by("id")]
    assert recorded == [(p.taken, p.total, p.refused_total) for p in preview.lines]


def test_a_refusal_above_the_line_names_the_product_even_with_a_percent_in_it(cashier, shop):
    cotton = product("500.00", sku="TEE-1", name="T-shirt 100% cotton")
    stock(shop, cotton, 5)
    order = ready(collect(customer(), shop, (cotton, 2)))
    line = order.lines.get()

    response = cashier.get(
        reverse("admin:orders_order_handover_preview", args=[order.pk]), {f"refused_{line.pk}": "7"}, **HTMX
    )

    assert response.status_code == 200
    assert "T-shirt 100% cotton: at most 2 can be refused." in text_of(response)
