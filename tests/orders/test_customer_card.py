"""The customer's card as a store worker opens it: the summary first (identities, loyalty, last
orders of every channel, open cases, consents, preferences), the edit form folded below; and the
order entries of the timeline in the reader's language."""

import re

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.html import format_html

from customers.admin import add_customer_card_panel, panels
from customers.cases import case_open
from customers.models import ConsentPurpose, ContactChannel
from customers.services import ConsentChange, consents_record
from omni.core.channels import Channel
from omni.core.roles import STORE_STAFF
from tests.orders.factories import customer, deliver, points_for, product, sell, stock, store, warehouse

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop_and_shirt():
    shop, shirt = store(code="MSK-TVER", name="Tverskaya"), product("1234.00")
    stock(shop, shirt, 10)
    stock(warehouse(), shirt, 10)
    return shop, shirt


def card_html(client, person, language="ru") -> str:
    response = client.get(reverse("admin:customers_customer_change", args=[person.pk]), HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return response.content.decode()


def summary_of(html: str) -> str:
    """The part of the page above the folded form."""
    return html[html.index('class="customer-card"') : html.index('<details class="card-edit"')]


def profile_post(person, **changes) -> dict:
    identities = list(person.identities.all())
    data = {"first_name": person.first_name, "last_name": person.last_name, "tags": ""}
    data |= {
        "identities-TOTAL_FORMS": str(len(identities)),
        "identities-INITIAL_FORMS": str(len(identities)),
        "identities-MIN_NUM_FORMS": "0",
        "identities-MAX_NUM_FORMS": "1000",
    }
    for n, identity in enumerate(identities):
        data |= {f"identities-{n}-id": str(identity.pk), f"identities-{n}-customer": str(person.pk)}
    return data | changes


class TestSummaryFirst:
    def test_a_cashier_sees_identities_points_last_orders_cases_consents_and_preferences_first(
        self, client, staff_in_role, shop_and_shirt
    ):
        shop, shirt = shop_and_shirt
        client.force_login(staff_in_role(STORE_STAFF, locations=[shop]))
        person = customer(tags=["size:M", "likes:shoes"])
        points_for(person, 1500)
        elsewhere = deliver(person, (shirt, 1), channel=Channel.APP)
        here = sell(shop, (shirt, 2), person=person)
        case_open(customer=person, subject="Zip broken", channel=Channel.STORE, store=shop)
        consents_record(
            customer=person,
            changes=[ConsentChange(ConsentPurpose.PERSONAL_DATA, True)]
            + [ConsentChange(ConsentPurpose.MARKETING, True, ContactChannel.SMS)],
            source_channel=Channel.STORE,
        )

        summary = summary_of(card_html(client, person))

        phone = person.identities.get(kind="phone").value
        assert f"{phone[:2]} {phone[2:5]} {phone[5:8]}-{phone[8:10]}-{phone[10:]}" in summary
        assert re.search(r"1\xa0500</span> баллов", summary)  # available, with a thousands separator
        for order in (elsewhere, here):
            assert reverse("admin:orders_order_change", args=[order.pk]) in summary
            assert order.number in summary
        assert "мобильное приложение" in summary and "Tverskaya" in summary
        assert "Zip broken" in summary
        assert '<li class="yes" title="дано">✓ SMS</li>' in summary
        assert '<li class="no" title="не дано">✗ e-mail</li>' in summary
        assert "<li>size:M</li><li>likes:shoes</li>" in summary

    def test_pending_points_and_when_they_become_spendable(self, client, staff_in_role, shop_and_shirt):
        shop, shirt = shop_and_shirt
        client.force_login(staff_in_role(STORE_STAFF, locations=[shop]))
        person = customer()
        points_for(person, 10)
        order = sell(shop, (shirt, 1), person=person)

        summary = summary_of(card_html(client, person))

        assert order.points_earned > 0
        assert f"{order.points_earned} балл" in summary and "можно списать с" in summary

    def test_the_edit_form_is_folded_below_the_summary_and_opens_on_an_error(self, client, superuser):
        client.force_login(superuser)
        person = customer(first_name="Ivan")
        url = reverse("admin:customers_customer_change", args=[person.pk])

        html = card_html(client, person, "en")
        assert html.index('class="customer-card"') < html.index('<details class="card-edit">')
        assert html.index('<details class="card-edit">') < html.index('name="first_name"')
        tags_input = re.search(r'<input[^>]*name="tags"[^>]*>', html).group(0)
        assert "value=" not in tags_input  # empty, not a raw "[]"

        response = client.post(url, profile_post(person, tags='["size:M", unclosed'))
        assert response.status_code == 200
        assert '<details class="card-edit" open>' in response.content.decode()

    def test_preferences_are_typed_separated_by_commas(self, client, superuser):
        client.force_login(superuser)
        person = customer(first_name="Ivan")
        url = reverse("admin:customers_customer_change", args=[person.pk])

        response = client.post(url, profile_post(person, tags="size:M,  likes:shoes ,"))

        assert response.status_code == 302
        person.refresh_from_db()
        assert person.tags == ["likes:shoes", "size:M"]
        assert 'value="likes:shoes, size:M"' in card_html(client, person)


class TestPanelRegistry:
    def test_boxes_come_in_their_order_and_a_box_with_nothing_to_show_is_left_out(self, client, superuser, monkeypatch):
        monkeypatch.setattr(panels, "_card_panels", dict(panels._card_panels))  # undone after the test
        client.force_login(superuser)
        person = customer()
        add_customer_card_panel(
            "test-first", "First box", lambda request, c: format_html("<p>first {}</p>", c.pk), order=1
        )
        add_customer_card_panel("test-empty", "Empty box", lambda request, c: "", order=2)
        summary = summary_of(card_html(client, person, "en"))

        assert f"<p>first {person.pk}</p>" in summary
        assert summary.index("First box") < summary.index("Loyalty")
        assert "Empty box" not in summary


@pytest.fixture
def superuser():
    from tests.inventory.factories import UserFactory

    return UserFactory(is_superuser=True)


def test_order_entries_of_the_timeline_read_in_the_readers_language(shop_and_shirt):
    shop, shirt = shop_and_shirt
    person = customer()
    with translation.override("en"):
        order = deliver(person, (shirt, 1))
    entry = person.interactions.get(event="order.placed")

    assert entry.params == {"number": order.number, "total": "1234.00"}
    with translation.override("ru"):
        assert entry.text == f"Оформлен заказ {order.number} на сумму 1\xa0234,00\xa0₽."
    with translation.override("en"):
        assert entry.text == f"Order {order.number} placed: 1,234.00\xa0₽."


def test_an_erased_profile_says_so_first_and_its_form_is_only_shown(client, staff_in_role, shop_and_shirt):
    from customers.personal_data import customer_anonymise

    shop, _shirt = shop_and_shirt
    client.force_login(staff_in_role(STORE_STAFF, locations=[shop]))
    person = customer()
    customer_anonymise(customer=person)

    html = card_html(client, person)

    assert "Персональные данные удалены" in summary_of(html)
    assert "Не участвует в программе лояльности." in summary_of(html)
    assert "Заказов пока нет." in summary_of(html)
    assert "<summary>Весь профиль</summary>" in html
