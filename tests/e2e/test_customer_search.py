import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


def test_the_cashier_finds_a_customer_by_the_last_digits_of_the_phone(desk_world, browser_page, login, shot):
    page = browser_page
    login(page, "cashier", desk_world["cashier"])
    page.get_by_role("link", name="Найти покупателя").click()

    page.fill("#searchbar", "100-00-02")
    page.press("#searchbar", "Enter")

    results = page.locator("#result_list tbody tr")
    expect(results).to_have_count(1)
    assert "Petrov" in results.first.inner_text()
    shot(page, "customer-search-last-digits")

    results.first.locator("th a, td a").first.click()
    contacts = page.locator("#card-contacts")
    expect(contacts).to_contain_text("+7 916 100-00-02")
    assert contacts.bounding_box()["y"] < 768  # the summary opens the card, not the edit form
    shot(page, "customer-card")
