import pytest

pytestmark = pytest.mark.e2e


def test_the_cashier_logs_in_and_sees_the_admin_in_russian(desk_world, browser_page, login, shot):
    login(browser_page, "cashier", desk_world["cashier"])

    assert browser_page.locator("html").get_attribute("lang") == "ru"
    assert browser_page.get_by_text("Заказы").first.is_visible()
    shot(browser_page, "login-cashier-home")
