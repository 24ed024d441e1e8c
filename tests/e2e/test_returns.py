"""The return desk in chromium: the cashier finds Ivan Petrov's parka by the last digits of his
phone, takes it back, sees the refund, and pays it back to his card with the terminal's
transaction id."""

import re

import pytest

pytestmark = pytest.mark.e2e


def test_a_return_completed_with_its_refund(desk_world, browser_page, login, shot):
    from orders.models import OrderReturn, RefundStatus

    page = browser_page
    login(page, "cashier", desk_world["cashier"])
    page.goto("/admin/orders/orderreturn/desk/")

    page.fill("#id_q", "100-00-02")  # as cashiers type the end of a phone
    pick = page.locator("#return-results-table a.return-pick").first
    pick.wait_for()
    assert "Parka" in page.inner_text("#return-results-table")
    pick.click()
    page.wait_for_url(re.compile(r"/desk/[A-Z]-\d+/$"))
    page.wait_for_load_state("load")

    page.locator("#return-form input[name^=quantity_]").first.fill("1")
    page.locator("#refund-amount").wait_for()
    preview = page.inner_text("#refund-preview")
    assert "Картой курьеру" in preview and "courier_card" not in preview
    assert "Начисленные баллы — списываются" in preview
    amount = page.inner_text("#refund-amount")
    assert re.fullmatch(r"\d[\d\s\u00a0]*,\d\d", amount.strip()), amount
    page.fill("#id_reason", "Не подошёл размер")
    shot(page, "returns-preview")

    page.click("#accept-return")
    page.locator("#return-refunds").wait_for()
    message = page.inner_text(".messagelist")
    assert "ожидает выплаты" in message and amount.strip() in message

    page.click(".refund-form input[type=submit]")  # no transaction id: refused
    assert "идентификатор транзакции" in page.inner_text(".refund-form .errorlist").lower()
    page.fill(".refund-form input[name$=transaction_id]", "RRN-000123")
    page.fill(".refund-form input[name$=terminal]", "T-01")
    page.click(".refund-form input[type=submit]")
    page.locator(".messagelist .success").wait_for()
    assert "возврат выплачен" in page.inner_text(".messagelist")
    shot(page, "returns-refund-completed")

    order_return = OrderReturn.objects.get()
    refund = order_return.refunds.get()
    assert (refund.status, refund.transaction_id, refund.terminal) == (RefundStatus.DONE, "RRN-000123", "T-01")
