"""Fixtures the inventory tests share: API clients holding one scope each, a staff member logged in
to the admin, and the small catalogue and stores the import and export tests start from."""

from decimal import Decimal

import pytest

from omni.core.scopes import Scope
from tests.inventory.admin_support import receive as admin_receive
from tests.inventory.factories import (
    BarcodeFactory,
    CategoryFactory,
    LocationFactory,
    ProductFactory,
    WarehouseFactory,
    ean13,
)
from tests.inventory.import_support import receive


@pytest.fixture
def reader(client_with_scopes):
    return client_with_scopes(Scope.CATALOG_READ)


@pytest.fixture
def catalog_writer(client_with_scopes):
    return client_with_scopes(Scope.CATALOG_WRITE)


@pytest.fixture
def stock_writer(client_with_scopes):
    return client_with_scopes(Scope.STOCK_WRITE)


@pytest.fixture
def login(client, staff_in_role):
    """``login("Store staff", store)``: the test client, logged in as a new member of the role."""

    def make(role, *locations):
        user = staff_in_role(role, locations=locations)
        client.force_login(user)
        return user

    return make


@pytest.fixture
def catalogue():
    CategoryFactory(code="kitchen", name="Kitchen")
    CategoryFactory(code="garden", name="Garden")
    existing = ProductFactory(sku="MUG-1", name="Mug", price=Decimal("100.00"), category=None)
    BarcodeFactory(product=existing, code=ean13(1))
    return existing


@pytest.fixture
def stores():
    store_a = LocationFactory(code="store-a")
    store_b = LocationFactory(code="store-b")
    kettle = ProductFactory(sku="KETTLE")
    mug = ProductFactory(sku="MUG")
    BarcodeFactory(product=mug, code=ean13(77))
    receive(store_a, (kettle, 10), (mug, 5), number="R-0")
    return {"a": store_a, "b": store_b, "kettle": kettle, "mug": mug}


@pytest.fixture
def world():
    """Two stores and a warehouse, each with a product only it holds."""
    store_a = LocationFactory(code="store-a", name="Store Alpha")
    store_b = LocationFactory(code="store-b", name="Store Bravo")
    warehouse = WarehouseFactory(code="wh-1", name="Main Warehouse")
    only_a = ProductFactory(sku="ONLY-A", name="Kettle")
    only_b = ProductFactory(sku="ONLY-B", name="Toaster")
    shared = ProductFactory(sku="SHARED", name="Mug")
    admin_receive(store_a, (only_a, 10), (shared, 4), number="R-A")
    admin_receive(store_b, (only_b, 7), (shared, 3), number="R-B")
    admin_receive(warehouse, (only_a, 50), (only_b, 50), (shared, 50), number="R-W")
    return {
        "a": store_a,
        "b": store_b,
        "wh": warehouse,
        "only_a": only_a,
        "only_b": only_b,
        "shared": shared,
    }
