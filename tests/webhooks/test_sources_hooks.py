"""The hooks the lower apps call for the webhook sources: once per service call, with the right objects."""

from decimal import Decimal

import pytest

from customers import hooks as customer_hooks
from customers import merge
from customers.services import ConsentChange, IdentityInput, consents_record, customer_identify, customer_update
from inventory import hooks as inventory_hooks
from inventory.services import (
    Cause,
    ProductData,
    ProductQuantity,
    StockLine,
    product_upsert,
    stock_receive,
    stock_release,
    stock_reserve,
    transfer_create,
    transfer_receive,
    transfer_ship,
)
from loyalty import hooks as loyalty_hooks
from loyalty.models import BonusType
from loyalty.services import points_adjust, points_bonus
from omni.core.actors import SYSTEM
from tests.inventory.factories import LocationFactory, ProductFactory, WarehouseFactory
from tests.loyalty.factories import ProgrammeFactory, customer, member
from tests.orders.factories import collect, points_for, stock

pytestmark = pytest.mark.django_db


@pytest.fixture
def heard(monkeypatch):
    """Every call of the hooks, as (hook name, args, kwargs); the registered callbacks are put back after."""
    calls = []
    hooks = [
        inventory_hooks.stock_changed,
        inventory_hooks.product_changed,
        inventory_hooks.transfer_received,
        customer_hooks.customer_created,
        customer_hooks.customer_updated,
        customer_hooks.customer_merged,
        loyalty_hooks.points_changed,
    ]
    for hook in hooks:
        monkeypatch.setattr(hook, "_callbacks", {})

        def listen(*args, _name=hook.name, **kwargs):
            calls.append((_name, args, kwargs))

        listen.__qualname__ = f"listen_{hook.name}"
        hook.register(listen)
    return calls


def named(calls, name):
    return [(args, kwargs) for hook, args, kwargs in calls if hook == name]


def test_a_reservation_announces_its_pairs_once(heard):
    shop, shirt, socks = LocationFactory(), ProductFactory(), ProductFactory()
    stock_receive(location=shop, lines=[ProductQuantity(shirt.pk, 5), ProductQuantity(socks.pk, 5)])
    heard.clear()

    stock_reserve(lines=[StockLine(shirt.pk, shop.pk, 1), StockLine(socks.pk, shop.pk, 2)], cause=Cause.none())
    stock_release(lines=[StockLine(socks.pk, shop.pk, 2)], cause=Cause.none())

    assert named(heard, "inventory.stock_changed") == [
        (([(shirt.pk, shop.pk), (socks.pk, shop.pk)],), {}),
        (([(socks.pk, shop.pk)],), {}),
    ]


def test_a_receipt_with_reservation_on_arrival_announces_once(heard):
    warehouse, shop, item = WarehouseFactory(), LocationFactory(), ProductFactory()
    stock_receive(location=warehouse, lines=[ProductQuantity(item.pk, 5)])
    transfer = transfer_create(
        source=warehouse,
        destination=shop,
        lines=[ProductQuantity(item.pk, 2)],
        cause=Cause("order", "W-1"),
        reserve_on_receipt=True,
    )
    transfer_ship(transfer=transfer)
    heard.clear()

    transfer_receive(transfer=transfer)

    assert named(heard, "inventory.stock_changed") == [(([(item.pk, shop.pk)],), {})]
    assert [kwargs["received"] for _args, kwargs in named(heard, "inventory.transfer_received")] == [{item.pk: 2}]


def test_placing_an_order_announces_its_reservation_once(heard):
    shop, item, person = LocationFactory(), ProductFactory(), customer()
    stock(shop, item, 3)
    heard.clear()

    collect(person, shop, (item, 2))

    assert named(heard, "inventory.stock_changed") == [(([(item.pk, shop.pk)],), {})]


def test_product_upsert_announces_the_product(heard):
    product, created = product_upsert(data=ProductData(sku="SKU-1", name="Shirt", price=Decimal("10.00")))
    product_upsert(data=ProductData(sku="SKU-1", name="Shirt, blue", price=Decimal("10.00")))

    announced = named(heard, "inventory.product_changed")
    assert created and [args[0].pk for args, _kwargs in announced] == [product.pk, product.pk]
    assert announced[-1][0][0].name == "Shirt, blue"


def test_identify_creates_then_updates_once_per_call(heard):
    yes = [ConsentChange(purpose="personal_data", granted=True)]
    result = customer_identify(identities=[IdentityInput("phone", "+79161000001")], consents=yes)
    customer_identify(
        identities=[IdentityInput("phone", "+79161000001"), IdentityInput("email", "a@example.com")],
        profile={"first_name": "Anna"},
    )
    customer_identify(identities=[IdentityInput("phone", "+79161000001")])  # nothing new: silent

    assert [args[0].pk for args, _kw in named(heard, "customers.customer_created")] == [result.customer.pk]
    updated = named(heard, "customers.customer_updated")
    assert [args[0].first_name for args, _kw in updated] == ["Anna"]


def test_profile_and_consent_changes_are_updates(heard):
    person = customer()
    customer_update(customer=person, data={"city": "Kazan"})
    customer_update(customer=person, data={"city": "Kazan"})  # no change: silent
    consents_record(
        customer=person,
        changes=[ConsentChange(purpose="personal_data", granted=True)],
        source_channel="system",
    )

    assert [args[0].pk for args, _kw in named(heard, "customers.customer_updated")] == [person.pk, person.pk]


def test_merge_announces_both_ids(heard):
    survivor, merged = customer(), customer()
    merge.customer_merge(survivor=survivor, merged=merged, actor=SYSTEM)

    assert [(args[0], args[1].pk) for args, _kw in named(heard, "customers.customer_merged")] == [
        (merged.pk, survivor.pk)
    ]


def test_every_ledger_write_announces_the_account_once(heard):
    ProgrammeFactory()
    account = member()
    heard.clear()

    points_bonus(account=account, points=100, bonus_type=BonusType.CAMPAIGN, cause=Cause("test", "1"))
    points_adjust(account=account, points=-30, reason="Damaged card", actor=SYSTEM)

    assert [args[0].pk for args, _kw in named(heard, "loyalty.points_changed")] == [account.pk, account.pk]


def test_spending_points_on_an_order_announces_the_account(heard):
    ProgrammeFactory()
    shop, item, person = LocationFactory(), ProductFactory(price=Decimal("1000.00")), customer()
    stock(shop, item, 3)
    account = points_for(person, 500)
    heard.clear()

    collect(person, shop, (item, 1), points=100)

    assert [args[0].pk for args, _kw in named(heard, "loyalty.points_changed")] == [account.pk]


def test_merging_two_members_announces_both_accounts(heard):
    ProgrammeFactory()
    keeping, moving = member(), member()
    heard.clear()

    merge.customer_merge(survivor=keeping.customer, merged=moving.customer, actor=SYSTEM)

    assert sorted(args[0].pk for args, _kw in named(heard, "loyalty.points_changed")) == sorted([keeping.pk, moving.pk])
