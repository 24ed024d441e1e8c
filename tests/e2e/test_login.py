import pytest

pytestmark = pytest.mark.e2e


def test_the_cashier_logs_in_to_her_desks_in_russian(desk_world, browser_page, login, shot):
    login(browser_page, "cashier", desk_world["cashier"])

    assert browser_page.locator("html").get_attribute("lang") == "ru"
    desks = browser_page.locator("#desk-links")
    for name in ["Касса", "Выдача заказов", "Прием возвратов", "Найти покупателя"]:
        assert desks.get_by_role("link", name=name).is_visible()
    shot(browser_page, "login-cashier-home")
