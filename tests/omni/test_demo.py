from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command

from inventory.models import Product, StockMovement
from inventory.selectors import stock_discrepancies
from omni.core.models import ApiKey

pytestmark = pytest.mark.django_db


def test_seed_demo_is_idempotent_and_prints_working_logins(settings):
    settings.DEBUG = True
    first = StringIO()
    call_command("seed_demo", stdout=first)
    counts = (Product.objects.count(), StockMovement.objects.count())

    second = StringIO()
    call_command("seed_demo", stdout=second)

    assert (Product.objects.count(), StockMovement.objects.count()) == counts
    assert counts[0] >= 200
    assert stock_discrepancies() == []
    assert authenticate(username="cashier", password="omni-cashier") is not None
    raw_key = second.getvalue().strip().splitlines()[-1].strip()
    assert ApiKey.objects.get(name="demo-online-shop").hashed_key == ApiKey.hash(raw_key)


def test_seed_demo_refuses_to_run_in_production(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError):
        call_command("seed_demo", stdout=StringIO())
    assert not Product.objects.exists()


def test_seed_demo_customers_are_findable_by_phone_in_any_form(settings):
    from customers.selectors import customer_lookup

    settings.DEBUG = True
    call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())

    from customers.models import Customer

    assert Customer.objects.count() == 6
    from loyalty.models import Account
    from orders.models import Order

    assert Account.objects.count() == 6
    assert Order.objects.count() == 3
    assert customer_lookup("phone", "8 916 100 00 01") is not None


def test_demo_online_shop_key_holds_what_an_online_shop_needs_and_nothing_more(settings, client):
    settings.DEBUG = True
    out = StringIO()
    call_command("seed_demo", stdout=out)
    raw_key = out.getvalue().strip().splitlines()[-1].strip()
    headers = {"Authorization": f"Api-Key {raw_key}"}

    scopes = set(ApiKey.objects.get(name="demo-online-shop").scopes)
    assert {"catalog:read", "customers:write", "loyalty:write", "orders:write"} <= scopes
    # An online shop neither edits the catalogue, nor counts a store's stock, nor reads the reports.
    assert not scopes & {"catalog:write", "stock:write", "reports:read"}
    assert client.get("/api/v1/availability/?sku=SHI-0001-S", headers=headers).status_code == 200
    assert (
        client.get("/api/v1/reports/orders.csv?date_from=2026-01-01&date_to=2026-01-31", headers=headers).status_code
        == 403
    )
