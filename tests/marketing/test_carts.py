import datetime
from unittest import mock

import pytest
from django.test import override_settings
from django.utils import timezone

from customers.models import Message
from omni.core.errors import InvalidInput
from omni.marketing.carts import CartLineInput, cart_record, carts_recovered, carts_remind
from omni.marketing.models import Cart, CartStatus, SkipReason
from tests.marketing.factories import member
from tests.orders.factories import deliver, product, stock, store, warehouse

pytestmark = pytest.mark.django_db

NOW = timezone.now()
LATER = NOW + datetime.timedelta(minutes=61)


@pytest.fixture
def goods():
    shirt, socks = product(sku="SHI-1"), product(sku="SOC-1")
    stock(warehouse(), shirt, 5)
    return shirt, socks


def left(person, *items, cart_id="c-1", at=NOW):
    return cart_record(
        channel="site",
        external_id=cart_id,
        customer=person,
        lines=[CartLineInput(item.sku, quantity) for item, quantity in items],
        changed_at=at,
    )


def remind(now=LATER):
    with mock.patch("customers.messaging.services._schedule"):
        return carts_remind(now=now)


def test_a_cart_left_for_an_hour_brings_one_reminder_with_its_lines_and_availability(goods):
    # given
    shirt, socks = goods
    person = member(language="en", first_name="Anna", preferred_channel="email")
    left(person, (shirt, 2), (socks, 1))
    # when: not yet an hour, then an hour, then again
    assert remind(now=NOW + datetime.timedelta(minutes=59)) == {}
    assert remind() == {"reminded": 1}
    assert remind(now=LATER + datetime.timedelta(hours=2)) == {}
    # then
    message = Message.objects.get(customer=person, kind="cart_reminder")
    assert message.channel == "email" and message.purpose == "marketing"
    assert message.body.splitlines()[:3] == [
        "Anna, you left these in your cart:",
        f"— {shirt.name} × 2 (in stock)",
        f"— {socks.name} × 1 (running out)",
    ]
    assert "/m/unsubscribe/" in message.body.splitlines()[-1]
    assert Cart.objects.get().status == CartStatus.REMINDED


def test_an_anonymous_cart_is_reminded_once_its_customer_is_known(goods):
    shirt, _socks = goods
    cart_record(channel="app", external_id="a-1", lines=[CartLineInput("SHI-1", 1)], changed_at=NOW)
    assert remind() == {}
    person = member()
    cart_record(channel="app", external_id="a-1", customer=person, lines=[], changed_at=NOW - datetime.timedelta(1))
    cart = Cart.objects.get()
    assert cart.customer == person and cart.lines == [{"sku": "SHI-1", "quantity": 1}]  # an older report: lines kept
    assert remind() == {"reminded": 1}


def test_no_reminder_when_the_customer_ordered_those_goods(goods):
    shirt, _socks = goods
    person = member()
    left(person, (shirt, 1))
    deliver(person, (shirt, 1))
    assert remind() == {"ordered": 1}
    assert not Message.objects.filter(kind="cart_reminder").exists()


def test_no_reminder_without_consent_or_beyond_the_weekly_cap_until_the_window_closes(goods):
    shirt, _socks = goods
    unconsented = member(consents=())
    left(unconsented, (shirt, 1), cart_id="c-1")
    with override_settings(MARKETING_WEEKLY_CAP=0):
        capped = member()
        left(capped, (shirt, 1), cart_id="c-2")
        # refused for reasons that can change: the carts wait, with the reason, and are checked again
        assert remind() == {"waiting": 2}
        assert remind(now=LATER + datetime.timedelta(minutes=10)) == {}  # not checked again so soon
        assert remind(now=LATER + datetime.timedelta(minutes=31)) == {"waiting": 2}
        # past the window they are skipped for good, with their last reason
        assert remind(now=NOW + datetime.timedelta(hours=24)) == {"too_late": 2}
        assert remind(now=NOW + datetime.timedelta(hours=25)) == {}
    carts = {c.external_id: (c.status, c.reason) for c in Cart.objects.all()}
    assert carts == {
        "c-1": (CartStatus.SKIPPED, SkipReason.NO_CONSENT),
        "c-2": (CartStatus.SKIPPED, SkipReason.CAPPED),
    }
    assert not Message.objects.filter(kind="cart_reminder").exists()


def test_a_cart_refused_for_want_of_consent_is_reminded_once_the_customer_consents(goods):
    from customers.models import ConsentPurpose
    from customers.services import ConsentChange, consents_record

    shirt, _socks = goods
    person = member(consents=())
    left(person, (shirt, 1))
    assert remind() == {"waiting": 1}
    assert Cart.objects.get().status == CartStatus.OPEN
    consents_record(
        customer=person, changes=[ConsentChange(ConsentPurpose.MARKETING, True, "sms")], source_channel="site"
    )
    assert remind(now=LATER + datetime.timedelta(minutes=31)) == {"reminded": 1}
    cart = Cart.objects.get()
    assert (cart.status, cart.reason) == (CartStatus.REMINDED, "")
    assert Message.objects.filter(customer=person, kind="cart_reminder", channel="sms").count() == 1


def test_an_order_is_final_and_a_cart_never_checked_in_its_window_is_too_late(goods):
    shirt, _socks = goods
    ordered = member(consents=())
    left(ordered, (shirt, 1), cart_id="c-1")
    assert remind() == {"waiting": 1}
    deliver(ordered, (shirt, 1))
    assert remind(now=LATER + datetime.timedelta(minutes=31)) == {"ordered": 1}
    cart_record(channel="app", external_id="anon", lines=[CartLineInput("SHI-1", 1)], changed_at=NOW)
    assert remind(now=NOW + datetime.timedelta(hours=30)) == {"too_late": 1}
    carts = {c.external_id: (c.status, c.reason) for c in Cart.objects.all()}
    assert carts == {"c-1": (CartStatus.ORDERED, ""), "anon": (CartStatus.SKIPPED, SkipReason.TOO_LATE)}
    # a customer known only now gets no reminder for a cart this old
    cart_record(channel="app", external_id="anon", customer=member(), lines=[], changed_at=NOW)
    assert remind(now=NOW + datetime.timedelta(hours=31)) == {}


def test_the_revenue_a_reminder_brought_back_is_recorded(goods):
    shirt, _socks = goods
    stock(store(), shirt, 5)
    person = member()
    left(person, (shirt, 1))
    remind()
    with mock.patch("django.utils.timezone.now", return_value=LATER + datetime.timedelta(hours=1)):
        order = deliver(person, (shirt, 1))
    assert carts_recovered(now=LATER + datetime.timedelta(hours=2)) == 1
    cart = Cart.objects.get()
    assert (cart.recovered_order, cart.recovered_total) == (order.number, order.total)


def test_bad_cart_reports_are_refused_and_change_nothing(goods):
    person = member()
    with pytest.raises(InvalidInput):
        left(person, (product(sku="GONE-1"), 0))
    with pytest.raises(InvalidInput):
        cart_record(channel="site", external_id="x", lines=[CartLineInput("NOPE", 1)], changed_at=NOW)
    assert not Cart.objects.exists()


def test_the_api_records_a_cart_and_refuses_an_unknown_sku(client_with_scopes, goods):
    person = member()
    client = client_with_scopes("carts:write")
    body = {
        "channel": "site",
        "cart_id": "c-9",
        "customer_id": person.pk,
        "lines": [{"sku": "SHI-1", "quantity": 2}],
        "updated_at": NOW.isoformat(),
    }
    response = client.post("/api/v1/carts/", body, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "open" and response.json()["customer_id"] == person.pk
    bad = client.post("/api/v1/carts/", {**body, "lines": [{"sku": "NOPE", "quantity": 1}]}, format="json")
    assert bad.status_code == 400 and bad.json()["error"]["details"]["field"] == "lines"
    nobody = client.post("/api/v1/carts/", {**body, "customer_id": 999999}, format="json")
    assert nobody.status_code == 400
    assert Cart.objects.get().lines == [{"sku": "SHI-1", "quantity": 2}]


def test_the_admin_shows_carts_and_the_recovered_revenue(admin_client, goods):
    shirt, _socks = goods
    left(member(), (shirt, 1))
    remind()
    Cart.objects.update(recovered_order="W-1", recovered_total=1500)
    page = admin_client.get("/admin/marketing/cart/")
    assert page.status_code == 200
    assert "1 reminders, 1 carts recovered" in page.context["subtitle"]
