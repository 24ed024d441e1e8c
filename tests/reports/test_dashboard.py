"""The dashboard in the admin: who may see it, what it shows, and that a store manager sees their stores only."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

URL = "/admin/reports/dashboard/"
MARCH_QUERY = {"date_from": "2026-03-01", "date_to": "2026-03-31"}


def test_head_office_sees_every_section_with_charts_and_definitions(client, shop, manager_of):
    client.force_login(manager_of(role="Head office"))

    response = client.get(URL, MARCH_QUERY)

    assert response.status_code == 200
    html = response.content.decode()
    for section in ("sales", "customers", "click_and_collect", "returns", "loyalty", "stock"):
        assert f'id="section-{section}"' in html
    assert "<svg" in html and "<polyline" in html and "<rect" in html
    assert "//cdn" not in html.lower() and '<script src="http' not in html
    # every figure states its definition on hover and below
    assert 'title="Revenue ÷ orders completed in the period."' in html
    assert "650.00" in html  # revenue of March
    assert "b — Store B" in html and "a — Store A" in html


def test_store_manager_sees_their_store_only(client, shop, manager_of):
    client.force_login(manager_of(shop.store_a))

    response = client.get(URL, MARCH_QUERY)

    assert response.status_code == 200
    sales = {figure.key: figure for figure in response.context["sections"]["sales"]["figures"]}
    assert str(sales["revenue"].value) == "400.00"
    html = response.content.decode()
    assert "b — Store B" not in html
    assert "You see the stores you work at only." in html


def test_store_manager_cannot_ask_for_another_store(client, shop, manager_of):
    client.force_login(manager_of(shop.store_a))

    response = client.get(URL, {**MARCH_QUERY, "store": shop.store_b.pk})

    assert response.status_code == 200
    assert "store" in response.context["form"].errors
    sales = {figure.key: figure for figure in response.context["sections"]["sales"]["figures"]}
    assert str(sales["revenue"].value) != "100.00"  # never store B's figures
    assert "b — Store B" not in response.content.decode()


def test_store_staff_may_not_see_the_dashboard(client, shop, manager_of):
    client.force_login(manager_of(shop.store_a, role="Store staff"))

    assert client.get(URL).status_code == 403
    index = client.get(reverse("admin:index")).content.decode()
    assert URL not in index


def test_dashboard_is_linked_from_the_admin_index(client, shop, manager_of):
    client.force_login(manager_of(shop.store_a))

    index = client.get(reverse("admin:index")).content.decode()

    assert URL in index
    assert "dashboard" in index.lower()


def test_default_period_renders_without_data(client, db, manager_of):
    client.force_login(manager_of(role="Head office"))

    response = client.get(URL)

    assert response.status_code == 200
    assert "Nothing in this period." in response.content.decode()


def test_a_period_at_the_edge_of_the_calendar_is_refused_on_the_page(client, db, manager_of):
    client.force_login(manager_of(role="Head office"))

    response = client.get(URL, {"date_from": "0001-01-01", "date_to": "9999-12-31"})

    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"date_from", "date_to"}
    assert "Enter a date between 1900-01-01 and 2999-12-31." in response.content.decode()


def test_weekly_chart_on_a_long_period(client, shop, manager_of):
    client.force_login(manager_of(role="Head office"))

    response = client.get(URL, {"date_from": "2026-01-01", "date_to": "2026-03-31", "granularity": "week"})

    assert response.status_code == 200
    assert "Sales by week" in response.content.decode()


def test_dashboard_is_cached_until_asked_again(client, shop, manager_of, settings):
    from django.core.cache import cache

    from orders.hooks import order_changed
    from orders.models import Order

    settings.REPORTS_CACHE_SECONDS = 300
    cache.clear()
    client.force_login(manager_of(role="Head office"))
    first = client.get(URL, MARCH_QUERY)
    changed = Order.objects.get(number="S-000009")
    changed.paid = 0
    changed.save(update_fields=["paid"])
    order_changed(changed)  # as a service does after its writes: the summaries follow it

    cached = client.get(URL, MARCH_QUERY)
    fresh = client.get(URL, {**MARCH_QUERY, "refresh": "1"})

    def revenue(response):
        return str(next(f.value for f in response.context["sections"]["sales"]["figures"] if f.key == "revenue"))

    assert [revenue(first), revenue(cached), revenue(fresh)] == ["650.00", "650.00", "600.00"]
    assert "Figures computed at" in fresh.content.decode()
    cache.clear()


@pytest.mark.parametrize(
    ("language", "words"),
    [("en", "Figures computed at {at}, kept until {until}"), ("ru", "Цифры рассчитаны в {at} и хранятся до {until}")],
)
def test_the_page_says_when_its_figures_were_computed_and_until_when_they_are_kept(
    client, shop, manager_of, settings, language, words
):
    import datetime

    from django.core.cache import cache
    from django.utils import timezone

    settings.REPORTS_CACHE_SECONDS = 300
    cache.clear()
    client.force_login(manager_of(role="Head office"))

    response = client.get(URL, MARCH_QUERY, HTTP_ACCEPT_LANGUAGE=language)

    computed_at = timezone.localtime(response.context["computed_at"])
    until = computed_at + datetime.timedelta(minutes=5)
    assert words.format(at=f"{computed_at:%H:%M}", until=f"{until:%H:%M}") in response.content.decode()
    cache.clear()


def test_figures_computed_for_each_page_say_so(client, shop, manager_of, settings):
    settings.REPORTS_CACHE_SECONDS = 0
    client.force_login(manager_of(role="Head office"))

    html = client.get(URL, MARCH_QUERY).content.decode()

    assert "Figures computed at" in html and "kept until" not in html


def test_a_bookmark_of_the_dashboard_before_the_reports_app_still_opens_it(client, shop, manager_of):
    client.force_login(manager_of(role="Head office"))

    response = client.get("/admin/omni/dashboard/", MARCH_QUERY)

    assert response.status_code == 302
    assert response["Location"] == f"{URL}?date_from=2026-03-01&date_to=2026-03-31"
