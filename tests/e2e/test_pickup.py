"""The pickup desk in the browser: the cashier finds the order by the last digits of the phone,
the customer refuses one line after trying it on, the due drops on screen, she pays by card and the
order is collected with the refused line recorded."""

import pytest
from django.db.models import F

from customers.models import IdentityKind
from customers.selectors import customer_lookup
from inventory.models import Location, Stock
from omni.core.channels import Channel
from orders import services
from orders.models import Fulfilment, Order, OrderStatus, PaymentMethod
from orders.services import LineInput

pytestmark = pytest.mark.e2e


@pytest.fixture
def waiting_order(desk_world):
    """Ivan Petrov's click-and-collect order at MSK-TVER, ready and not paid: two lines."""
    tver = Location.objects.get(code="MSK-TVER")
    skus = list(
        Stock.objects.filter(location=tver, on_hand__gte=F("reserved") + 2)
        .order_by("product__sku")
        .values_list("product__sku", flat=True)[:2]
    )
    ivan = customer_lookup(IdentityKind.PHONE, "+79161000002")
    order = services.order_place(
        channel=Channel.SITE,
        fulfilment=Fulfilment.CLICK_AND_COLLECT,
        customer=ivan,
        location=tver,
        lines=[LineInput(skus[0], 1), LineInput(skus[1], 1)],
    )
    services.order_mark_ready(order=order)
    order.refresh_from_db()
    return order


def money_text(page, selector: str) -> str:
    return page.inner_text(selector).replace("\xa0", " ").replace("\u202f", " ").strip()


def test_a_handover_with_one_refused_line(desk_world, waiting_order, browser_page, login, shot):
    page = browser_page
    first, second = waiting_order.lines.order_by("id")
    login(page, "cashier", desk_world["cashier"])
    page.goto("/admin/orders/order/desk/")

    # find the order by what the customer says: the last digits of the phone
    page.fill("#desk-q", "100-00-02")
    page.locator("#desk-sections .pickup-found").wait_for()
    row = page.locator(f"#desk-order-{waiting_order.pk}")
    assert first.name in row.inner_text() and second.name in row.inner_text()
    assert "Smirnova" not in page.inner_text("#desk-sections")  # the other customer's order is filtered out
    shot(page, "pickup-found")

    row.get_by_role("link", name="Выдать").click()
    page.wait_for_url(f"**/{waiting_order.pk}/handover/")
    due_before = money_text(page, "#handover-due")
    assert page.locator("#id_payment_method").input_value() == PaymentMethod.CARD_IN_STORE

    # the customer tries the second item on and leaves it
    page.fill(f"#id_refused_{second.pk}", "1")
    page.wait_for_function(
        "before => document.querySelector('#handover-due').innerText.trim() !== before",
        arg=page.inner_text("#handover-due").strip(),
    )
    due_after = money_text(page, "#handover-due")
    assert due_after != due_before
    assert money_text(page, "#handover-heading-due") == due_after
    assert page.locator("#id_payment_method").input_value() == PaymentMethod.CARD_IN_STORE
    shot(page, "pickup-refused-one-line")

    page.click(".pickup-submit")
    page.locator("#handover-result").wait_for()
    assert "выдан" in page.inner_text("#handover-result")
    shot(page, "pickup-handed-over")

    order = Order.objects.get(pk=waiting_order.pk)
    assert order.status == OrderStatus.COLLECTED
    assert [(line.sku, line.refused_quantity) for line in order.lines.order_by("id")] == [
        (first.sku, 0),
        (second.sku, 1),
    ]
    assert order.paid == order.total == first.total
    assert order.payments.get().method == PaymentMethod.CARD_IN_STORE
