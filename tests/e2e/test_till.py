"""The till in a browser: a barcode typed as a scanner does (the code and Enter), a customer found
by the last digits of the phone, points spent, the sale made, the points earned shown as pending."""

import pytest

from tests.e2e.support import htmx_idle

pytestmark = pytest.mark.e2e

SALE = "/admin/orders/order/sale/"


def a_barcode_in_stock_at(store_code: str) -> tuple[str, str]:
    from inventory.models import Stock

    stock = (
        Stock.objects.filter(location__code=store_code, on_hand__gt=2, product__barcodes__isnull=False)
        .select_related("product")
        .order_by("product__price")
        .last()
    )
    return stock.product.barcodes.first().code, stock.product.sku


def in_view(page, selector: str) -> bool:
    box = page.locator(selector).bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= page.viewport_size["height"]


def test_a_sale_with_a_scanned_barcode_and_points(desk_world, browser_page, login, shot):
    from orders.models import Order

    page = browser_page
    barcode, sku = a_barcode_in_stock_at("MSK-TVER")
    login(page, "cashier", desk_world["cashier"])

    page.goto(SALE)
    assert page.evaluate("document.activeElement.id") == "id_scan"
    assert "Tverskaya" in page.locator(".till-store").inner_text()  # her store, preselected
    page.keyboard.type(barcode)
    page.keyboard.press("Enter")
    page.locator(".till-line").first.wait_for()
    htmx_idle(page)
    assert sku in page.locator(".till-line").first.inner_text()
    assert page.evaluate("document.activeElement.id") == "id_scan"  # ready for the next scan

    page.fill("#id_customer_query", "100-00-02")  # what cashiers type: the phone's last digits
    page.locator(".desk-pick-customer", has_text="Petrov").first.click()
    page.locator("#till-customer-name").wait_for()
    htmx_idle(page)
    assert "Petrov" in page.locator("#till-receipt").inner_text()

    page.fill("#id_points", "50")
    page.press("#id_points", "Enter")
    page.locator("#till-receipt", has_text="50 баллов").wait_for()
    assert in_view(page, "#till-total") and in_view(page, ".till-sell")
    shot(page, "till-before-sale")

    page.click(".till-sell")
    page.locator("#till-result").wait_for()

    order = Order.objects.latest("pk")
    result = page.locator("#till-result").inner_text()
    assert order.number in result and order.points_redeemed == 50
    assert order.points_earned > 0
    assert f"{order.points_earned} " in result and "ожида" in result  # pending until a date
    assert page.evaluate("document.activeElement.id") == "id_scan"  # the next customer
    shot(page, "till-sold")
