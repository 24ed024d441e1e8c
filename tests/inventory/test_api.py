from decimal import Decimal

import factory
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from inventory import services
from inventory.models import (
    Barcode,
    Product,
    Stock,
    StockDocument,
    StockDocumentLine,
    StockMovement,
)
from inventory.services import Cause, ProductQuantity, StockLine
from omni.core.roles import HEAD_OFFICE, STORE_MANAGER, STORE_STAFF
from omni.core.scopes import Scope
from tests.inventory.factories import (
    BarcodeFactory,
    CategoryFactory,
    LocationFactory,
    ProductFactory,
    UserFactory,
    WarehouseFactory,
    ean13,
)

pytestmark = pytest.mark.django_db

PRODUCTS = reverse("api:inventory:product-list")
LOCATIONS = reverse("api:inventory:location-list")
AVAILABILITY = reverse("api:inventory:availability")
RECEIPTS = reverse("api:inventory:stock-receipt-list")
COUNTS = reverse("api:inventory:stock-count-list")


def product_url(sku: str) -> str:
    return reverse("api:inventory:product-detail", kwargs={"sku": sku})


# --- Helpers ----------------------------------------------------------------------------


@pytest.fixture
def reader(client_with_scopes):
    return client_with_scopes(Scope.CATALOG_READ)


@pytest.fixture
def catalog_writer(client_with_scopes):
    return client_with_scopes(Scope.CATALOG_WRITE)


@pytest.fixture
def stock_writer(client_with_scopes):
    return client_with_scopes(Scope.STOCK_WRITE)


def session_client(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def receive(location, *pairs, number=""):
    """Stock built the way production builds it: a receipt through the service."""
    return services.stock_receive(location=location, lines=[ProductQuantity(p.pk, q) for p, q in pairs], number=number)


def reserve(product, location, quantity):
    services.stock_reserve(lines=[StockLine(product.pk, location.pk, quantity)], cause=Cause("order", "W-1"))


def on_hand(product, location) -> int:
    return Stock.objects.get(product=product, location=location).on_hand


def db_snapshot() -> dict:
    """Everything the inventory endpoints may write, to assert that a refused request wrote nothing."""
    return {
        "products": sorted(
            Product.objects.values_list("sku", "name", "description", "category_id", "unit", "price", "is_active")
        ),
        "barcodes": sorted(Barcode.objects.values_list("code", "product_id")),
        "stock": sorted(Stock.objects.values_list("product_id", "location_id", "on_hand", "reserved")),
        "movements": StockMovement.objects.count(),
        "documents": sorted(StockDocument.objects.values_list("kind", "number", "location_id", "note")),
        "document_lines": StockDocumentLine.objects.count(),
    }


def assert_error(response, status: int, code: str) -> dict:
    """The one error shape: ``{"error": {"code", "message", "details"}}``; returns the details."""
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["details"], dict)
    return body["error"]["details"]


def query_count(client, url, params) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200, response.content
    return len(queries)


def skus_of(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["sku"] for item in response.json()["results"]]


def receipt_body(location, *lines, number="R-1", **extra):
    return {
        "location": location.code,
        "number": number,
        "lines": [{"sku": s, "quantity": q} for s, q in lines],
        **extra,
    }


# --- Authentication and permissions -----------------------------------------------------


class TestAuth:
    def test_no_key_is_401(self, api_client):
        response = api_client.get(PRODUCTS)
        assert_error(response, 401, "not_authenticated")
        assert response["WWW-Authenticate"] == "Api-Key"

    def test_wrong_key_is_401(self, api_client):
        api_client.credentials(HTTP_AUTHORIZATION="Api-Key not-a-real-key")
        assert_error(api_client.get(PRODUCTS), 401, "authentication_failed")

    def test_malformed_header_is_401(self, api_client):
        api_client.credentials(HTTP_AUTHORIZATION="Api-Key")
        assert_error(api_client.get(LOCATIONS), 401, "authentication_failed")

    def test_revoked_key_is_401(self, reader):
        reader.api_key.revoke()
        assert_error(reader.get(PRODUCTS), 401, "authentication_failed")

    @pytest.mark.parametrize(
        ("method", "url", "granted", "needed"),
        [
            ("get", PRODUCTS, Scope.CATALOG_WRITE, Scope.CATALOG_READ),
            ("get", LOCATIONS, Scope.STOCK_WRITE, Scope.CATALOG_READ),
            ("get", AVAILABILITY, Scope.CATALOG_WRITE, Scope.CATALOG_READ),
            ("post", PRODUCTS, Scope.CATALOG_READ, Scope.CATALOG_WRITE),
            ("post", RECEIPTS, Scope.CATALOG_WRITE, Scope.STOCK_WRITE),
            ("post", COUNTS, Scope.CATALOG_READ, Scope.STOCK_WRITE),
        ],
    )
    def test_key_without_the_scope_is_403(self, client_with_scopes, method, url, granted, needed):
        # given a product and a store, so that a permitted request would have changed something
        store = LocationFactory()
        ProductFactory(sku="A")
        body = receipt_body(store, ("A", 1)) if url in (RECEIPTS, COUNTS) else {"sku": "B", "name": "B", "price": "1"}
        before = db_snapshot()

        response = getattr(client_with_scopes(granted), method)(url, body if method == "post" else {"sku": "A"})

        assert_error(response, 403, "permission_denied")
        assert needed.value in response.json()["error"]["message"]
        assert db_snapshot() == before

    def test_product_detail_needs_catalog_read(self, client_with_scopes):
        product = ProductFactory()
        assert_error(client_with_scopes(Scope.STOCK_WRITE).get(product_url(product.sku)), 403, "permission_denied")

    def test_staff_session_may_read(self, staff_in_role):
        product = ProductFactory()
        client = session_client(staff_in_role(STORE_STAFF))

        assert skus_of(client.get(PRODUCTS)) == [product.sku]
        assert client.get(product_url(product.sku)).status_code == 200
        assert client.get(LOCATIONS).status_code == 200
        assert client.get(AVAILABILITY, {"sku": product.sku}).status_code == 200

    def test_user_who_is_not_staff_is_refused(self):
        client = session_client(UserFactory(is_staff=False))
        assert_error(client.get(PRODUCTS), 403, "permission_denied")

    def test_staff_without_change_product_cannot_upsert(self, staff_in_role):
        client = session_client(staff_in_role(STORE_MANAGER))
        response = client.post(PRODUCTS, {"sku": "A-1", "name": "A", "price": "1.00"}, format="json")
        assert_error(response, 403, "permission_denied")
        assert not Product.objects.exists()

    def test_staff_with_change_product_can_upsert(self, staff_in_role):
        client = session_client(staff_in_role(HEAD_OFFICE))
        response = client.post(PRODUCTS, {"sku": "A-1", "name": "A", "price": "1.00"}, format="json")
        assert response.status_code == 201, response.content

    @pytest.mark.parametrize("url", [RECEIPTS, COUNTS])
    def test_staff_without_stock_permission_cannot_post_documents(self, staff_in_role, url):
        store, product = LocationFactory(), ProductFactory()
        client = session_client(staff_in_role(STORE_STAFF, locations=[store]))
        before = db_snapshot()

        response = client.post(url, receipt_body(store, (product.sku, 1)), format="json")

        assert_error(response, 403, "permission_denied")
        assert db_snapshot() == before

    @pytest.mark.parametrize("url", [RECEIPTS, COUNTS])
    def test_store_manager_posts_documents_at_their_store(self, staff_in_role, url):
        store, product = LocationFactory(), ProductFactory()
        manager = staff_in_role(STORE_MANAGER, locations=[store])

        response = session_client(manager).post(url, receipt_body(store, (product.sku, 4)), format="json")

        assert response.status_code == 201, response.content
        assert on_hand(product, store) == 4
        assert StockDocument.objects.get().created_by == manager
        assert set(StockMovement.objects.values_list("created_by", "api_key")) == {(manager.pk, None)}

    def test_store_manager_cannot_post_documents_at_another_store(self, staff_in_role):
        own, other, product = LocationFactory(), LocationFactory(), ProductFactory()
        client = session_client(staff_in_role(STORE_MANAGER, locations=[own]))
        before = db_snapshot()

        response = client.post(RECEIPTS, receipt_body(other, (product.sku, 1)), format="json")

        assert_error(response, 403, "permission_denied")
        assert other.code in response.json()["error"]["message"]
        assert db_snapshot() == before

    def test_head_office_posts_documents_anywhere(self, staff_in_role):
        store, product = LocationFactory(), ProductFactory()
        client = session_client(staff_in_role(HEAD_OFFICE))
        response = client.post(RECEIPTS, receipt_body(store, (product.sku, 1)), format="json")
        assert response.status_code == 201, response.content


class TestErrorEnvelope:
    def test_every_kind_of_error_has_the_same_shape(self, client_with_scopes, api_client):
        # given a client that may do everything, and a product whose barcode is taken
        client = client_with_scopes(Scope.CATALOG_READ, Scope.CATALOG_WRITE, Scope.STOCK_WRITE)
        BarcodeFactory(code=ean13(1))

        # then authentication, permission, not found, validation and business rule errors share one shape
        assert_error(api_client.get(PRODUCTS), 401, "not_authenticated")
        assert_error(client_with_scopes().get(PRODUCTS), 403, "permission_denied")
        assert_error(client.get(product_url("NOPE")), 404, "not_found")
        details = assert_error(client.post(PRODUCTS, {"sku": "A"}, format="json"), 400, "invalid")
        assert set(details["fields"]) == {"name", "price"}
        details = assert_error(
            client.post(PRODUCTS, {"sku": "A", "name": "A", "price": "1", "barcodes": [ean13(1)]}, format="json"),
            409,
            "barcode_taken",
        )
        assert details == {"barcodes": {ean13(1): Product.objects.get().sku}}

    def test_malformed_json_is_a_parse_error(self, catalog_writer):
        response = catalog_writer.generic("POST", PRODUCTS, "{not json", content_type="application/json")
        assert_error(response, 400, "parse_error")

    def test_form_encoded_body_is_refused(self, catalog_writer):
        response = catalog_writer.post(PRODUCTS, {"sku": "A", "name": "A", "price": "1"}, format="multipart")
        assert_error(response, 415, "unsupported_media_type")
        assert not Product.objects.exists()

    def test_page_out_of_range_is_404(self, reader):
        assert_error(reader.get(PRODUCTS, {"page": 5}), 404, "not_found")


# --- Products: list ---------------------------------------------------------------------


class TestProductList:
    def test_lists_products_with_category_barcodes_and_currency(self, reader, settings):
        settings.OMNI_CURRENCY = "EUR"
        category = CategoryFactory(code="shirts", name="Shirts")
        product = ProductFactory(
            sku="SH-1", name="Shirt", description="Blue", category=category, unit="pcs", price=Decimal("1990.50")
        )
        BarcodeFactory(product=product, code=ean13(2))
        BarcodeFactory(product=product, code=ean13(1))
        ProductFactory(sku="SH-2", category=None, is_active=False)

        response = reader.get(PRODUCTS)

        assert response.status_code == 200
        body = response.json()
        assert body["count"] == 2
        first, second = body["results"]
        product.refresh_from_db()
        assert first == {
            "sku": "SH-1",
            "name": "Shirt",
            "description": "Blue",
            "category": {"code": "shirts", "name": "Shirts"},
            "unit": "pcs",
            "price": "1990.50",
            "currency": "EUR",
            "barcodes": [ean13(1), ean13(2)],
            "is_active": True,
            "updated_at": first["updated_at"],
        }
        assert first["updated_at"]
        assert (second["sku"], second["category"], second["barcodes"], second["is_active"]) == ("SH-2", None, [], False)

    def test_is_paginated_with_page_size(self, reader):
        ProductFactory.create_batch(5)

        body = reader.get(PRODUCTS, {"page_size": 2, "page": 2}).json()

        assert body["count"] == 5
        assert len(body["results"]) == 2
        assert body["next"] and body["previous"]

    def test_category_includes_every_descendant(self, reader):
        # given clothes > shirts > long sleeves, and a sibling tree
        clothes = CategoryFactory(code="clothes")
        shirts = CategoryFactory(code="shirts", parent=clothes)
        long_sleeves = CategoryFactory(code="long-sleeves", parent=shirts)
        shoes = CategoryFactory(code="shoes")
        ProductFactory(sku="C", category=clothes)
        ProductFactory(sku="S", category=shirts)
        ProductFactory(sku="L", category=long_sleeves)
        ProductFactory(sku="X", category=shoes)
        ProductFactory(sku="N", category=None)

        # then
        assert skus_of(reader.get(PRODUCTS, {"category": "clothes"})) == ["C", "L", "S"]
        assert skus_of(reader.get(PRODUCTS, {"category": "shirts"})) == ["L", "S"]
        assert skus_of(reader.get(PRODUCTS, {"category": "long-sleeves"})) == ["L"]

    def test_unknown_category_is_400(self, reader):
        details = assert_error(reader.get(PRODUCTS, {"category": "nope"}), 400, "unknown_category")
        assert details == {"category": "nope"}

    def test_search_by_sku_name_or_exact_barcode(self, reader):
        shirt = ProductFactory(sku="SHIRT-01", name="Oxford shirt")
        BarcodeFactory(product=shirt, code=ean13(11))
        BarcodeFactory(product=shirt, code=ean13(12))
        socks = ProductFactory(sku="SOCK-02", name="Wool socks")
        BarcodeFactory(product=socks, code=ean13(21))

        assert skus_of(reader.get(PRODUCTS, {"search": "shirt"})) == ["SHIRT-01"]  # sku and name, listed once
        assert skus_of(reader.get(PRODUCTS, {"search": "WOOL"})) == ["SOCK-02"]
        assert skus_of(reader.get(PRODUCTS, {"search": "-0"})) == ["SHIRT-01", "SOCK-02"]
        assert skus_of(reader.get(PRODUCTS, {"search": ean13(21)})) == ["SOCK-02"]
        assert skus_of(reader.get(PRODUCTS, {"search": ean13(21)[:7]})) == []  # barcodes match whole only
        assert skus_of(reader.get(PRODUCTS, {"search": "boots"})) == []

    def test_active_filter(self, reader):
        ProductFactory(sku="ON")
        ProductFactory(sku="OFF", is_active=False)

        assert skus_of(reader.get(PRODUCTS)) == ["OFF", "ON"]
        assert skus_of(reader.get(PRODUCTS, {"active": "true"})) == ["ON"]
        assert skus_of(reader.get(PRODUCTS, {"active": "false"})) == ["OFF"]
        details = assert_error(reader.get(PRODUCTS, {"active": "maybe"}), 400, "invalid")
        assert set(details["fields"]) == {"active"}

    def test_in_stock_at_lists_products_with_available_units_there(self, reader):
        store, other = LocationFactory(code="msk-01"), LocationFactory()
        available, all_reserved, elsewhere, sold_out = (
            ProductFactory(sku="AVAILABLE"),
            ProductFactory(sku="RESERVED"),
            ProductFactory(sku="ELSEWHERE"),
            ProductFactory(sku="SOLD-OUT"),
        )
        ProductFactory(sku="NEVER")
        receive(store, (available, 2), (all_reserved, 1), (sold_out, 1))
        receive(other, (elsewhere, 5))
        reserve(available, store, 1)
        reserve(all_reserved, store, 1)
        services.stock_sell(lines=[StockLine(sold_out.pk, store.pk, 1)], cause=Cause("sale", "S-1"))

        assert skus_of(reader.get(PRODUCTS, {"in_stock_at": "msk-01"})) == ["AVAILABLE"]

    def test_in_stock_at_unknown_location_is_400(self, reader):
        details = assert_error(reader.get(PRODUCTS, {"in_stock_at": "nowhere"}), 400, "unknown_location")
        assert details == {"locations": ["nowhere"]}

    def test_filters_combine(self, reader):
        store, shirts = LocationFactory(), CategoryFactory(code="shirts")
        wanted = ProductFactory(sku="SHIRT-1", category=shirts)
        ProductFactory(sku="SHIRT-2", category=shirts)  # not in stock
        inactive = ProductFactory(sku="SHIRT-3", category=shirts, is_active=False)
        receive(store, (wanted, 1), (inactive, 1))

        response = reader.get(
            PRODUCTS, {"category": "shirts", "search": "shirt", "active": "true", "in_stock_at": store.code}
        )

        assert skus_of(response) == ["SHIRT-1"]

    def test_query_count_does_not_depend_on_page_size(self, reader):
        # given products each with its own category and two barcodes, stocked at a store
        store = LocationFactory()
        parent = CategoryFactory(code="all")
        products = ProductFactory.create_batch(12, category=factory.SubFactory(CategoryFactory, parent=parent))
        for product in products:
            BarcodeFactory.create_batch(2, product=product)
        receive(store, *[(product, 3) for product in products])
        params = {"category": "all", "in_stock_at": store.code, "active": "true", "search": "SKU"}
        reader.get(PRODUCTS)  # the key's last-used time is written once, on its first use

        # when
        small = query_count(reader, PRODUCTS, {**params, "page_size": 2})
        large = query_count(reader, PRODUCTS, {**params, "page_size": 12})
        unfiltered = query_count(reader, PRODUCTS, {"page_size": 12})

        # then: key, count, page, barcodes; filtered: + category, category tree, location
        assert small == large
        assert unfiltered <= 4
        assert large <= unfiltered + 3


# --- Products: detail -------------------------------------------------------------------


class TestProductDetail:
    @pytest.mark.parametrize("sku", ["AB-12.34", "v1.2.3", "X_Y-Z", "тест-1"])
    def test_found_by_sku_with_dots_and_dashes(self, reader, sku):
        ProductFactory(sku=sku, is_active=False)

        response = reader.get(product_url(sku))

        assert response.status_code == 200, response.content
        assert (response.json()["sku"], response.json()["is_active"]) == (sku, False)

    def test_unknown_sku_is_404(self, reader):
        ProductFactory(sku="A-1")
        assert_error(reader.get(product_url("A-2")), 404, "not_found")

    def test_fixed_query_count(self, reader, django_assert_max_num_queries):
        product = ProductFactory()
        BarcodeFactory.create_batch(3, product=product)
        reader.get(PRODUCTS)

        with django_assert_max_num_queries(3):  # key, product with category, barcodes
            assert reader.get(product_url(product.sku)).status_code == 200


# --- Products: upsert -------------------------------------------------------------------


class TestProductUpsert:
    def test_creates_with_201_then_updates_with_200(self, catalog_writer):
        CategoryFactory(code="shirts", name="Shirts")
        body = {
            "sku": "SH-1",
            "name": "Shirt",
            "description": "Cotton",
            "category": "shirts",
            "unit": "pcs",
            "price": "1990.00",
            "is_active": True,
            "barcodes": [ean13(1), ean13(2)],
        }

        created = catalog_writer.post(PRODUCTS, body, format="json")

        assert created.status_code == 201, created.content
        assert created.json() | {"updated_at": None} == {
            "sku": "SH-1",
            "name": "Shirt",
            "description": "Cotton",
            "category": {"code": "shirts", "name": "Shirts"},
            "unit": "pcs",
            "price": "1990.00",
            "currency": "RUB",
            "barcodes": [ean13(1), ean13(2)],
            "is_active": True,
            "updated_at": None,
        }

        # when the ERP sends the product again, changed, without barcodes
        updated = catalog_writer.post(
            PRODUCTS, {"sku": "SH-1", "name": "Shirt, blue", "price": 1790.5, "is_active": False}, format="json"
        )

        # then it is updated in place, defaults apply, barcodes stay
        assert updated.status_code == 200, updated.content
        product = Product.objects.get()
        assert (product.name, product.price, product.category, product.description, product.is_active) == (
            "Shirt, blue",
            Decimal("1790.50"),
            None,
            "",
            False,
        )
        assert updated.json()["barcodes"] == [ean13(1), ean13(2)]
        assert updated.json()["price"] == "1790.50"

    def test_barcodes_are_replaced_and_an_empty_list_removes_them(self, catalog_writer):
        base = {"sku": "A", "name": "A", "price": "1"}
        catalog_writer.post(PRODUCTS, {**base, "barcodes": [ean13(1), ean13(2)]}, format="json")

        response = catalog_writer.post(PRODUCTS, {**base, "barcodes": [ean13(2), ean13(3)]}, format="json")
        assert response.json()["barcodes"] == [ean13(2), ean13(3)]

        response = catalog_writer.post(PRODUCTS, {**base, "barcodes": []}, format="json")
        assert response.json()["barcodes"] == []
        assert not Barcode.objects.exists()

    @pytest.mark.parametrize(
        ("change", "status", "code"),
        [
            ({"category": "nope"}, 400, "unknown_category"),
            ({"barcodes": ["4600000000001"]}, 400, "invalid_barcode"),
            ({"barcodes": ["not-a-barcode"]}, 400, "invalid_barcode"),
            ({"barcodes": [ean13(99)]}, 409, "barcode_taken"),
            ({"price": "-1.00"}, 400, "invalid"),
        ],
    )
    def test_rules_of_the_service_change_nothing(self, catalog_writer, change, status, code):
        # given an existing product, and another that owns a barcode
        CategoryFactory(code="shirts")
        catalog_writer.post(PRODUCTS, {"sku": "A", "name": "A", "price": "5", "category": "shirts"}, format="json")
        BarcodeFactory(code=ean13(99))
        before = db_snapshot()

        # when the existing product is updated against a rule
        response = catalog_writer.post(PRODUCTS, {"sku": "A", "name": "Renamed", "price": "7", **change}, format="json")

        # then
        assert_error(response, status, code)
        assert db_snapshot() == before

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"name": "A", "price": "1"}, "sku"),
            ({"sku": "", "name": "A", "price": "1"}, "sku"),
            ({"sku": "A" * 65, "name": "A", "price": "1"}, "sku"),
            ({"sku": "A", "price": "1"}, "name"),
            ({"sku": "A", "name": "A"}, "price"),
            ({"sku": "A", "name": "A", "price": "abc"}, "price"),
            ({"sku": "A", "name": "A", "price": "1.999"}, "price"),
            ({"sku": "A", "name": "A", "price": "1e20"}, "price"),
            ({"sku": "A", "name": "A", "price": "NaN"}, "price"),
            ({"sku": "A", "name": "A", "price": "1", "unit": "box"}, "unit"),
            ({"sku": "A", "name": "A", "price": "1", "is_active": "perhaps"}, "is_active"),
            ({"sku": "A", "name": "A", "price": "1", "barcodes": "4600000000017"}, "barcodes"),
            ({"sku": "A", "name": "A", "price": "1", "currency": "USD"}, "currency"),
            ({"sku": "A", "name": "A", "price": "1", "updated_at": "2026-01-01T00:00:00Z"}, "updated_at"),
        ],
    )
    def test_malformed_input_names_the_field_and_changes_nothing(self, catalog_writer, body, field):
        ProductFactory(sku="A", name="Original")
        before = db_snapshot()

        details = assert_error(catalog_writer.post(PRODUCTS, body, format="json"), 400, "invalid")

        assert field in details.get("fields", {}) or details.get("field") == field, details
        assert db_snapshot() == before

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"sku": "MUG\u202e1"}, "sku"),
            ({"sku": "MUG\u200b1"}, "sku"),
            ({"sku": "\ufeffMUG-1"}, "sku"),
            ({"sku": "A", "category": "kitchen\u200d"}, "category"),
            ({"sku": "A", "barcodes": [ean13(7) + "\u2060"]}, "barcodes"),
        ],
    )
    def test_invisible_characters_in_codes_are_refused(self, catalog_writer, change, field):
        ProductFactory(sku="A", name="Original")
        CategoryFactory(code="kitchen")
        before = db_snapshot()

        response = catalog_writer.post(PRODUCTS, {"sku": "A", "name": "A", "price": "1", **change}, format="json")

        details = assert_error(response, 400, "invalid")
        assert "The character U+" in str(details["fields"][field])
        assert db_snapshot() == before

    def test_body_that_is_not_an_object_is_400(self, catalog_writer):
        assert_error(catalog_writer.post(PRODUCTS, ["sku"], format="json"), 400, "invalid")


# --- Locations --------------------------------------------------------------------------


class TestLocationList:
    def test_lists_active_locations_with_their_fields(self, reader):
        store = LocationFactory(
            code="msk-01",
            name="Tverskaya",
            city="Moscow",
            address="Tverskaya 1",
            opening_hours="10:00-22:00",
            is_pickup_point=True,
            accepts_returns=True,
            ships_orders=False,
        )
        LocationFactory(code="msk-02", is_active=False)

        body = reader.get(LOCATIONS).json()

        assert body["count"] == 1
        assert body["results"] == [
            {
                "code": store.code,
                "name": "Tverskaya",
                "kind": "store",
                "city": "Moscow",
                "address": "Tverskaya 1",
                "opening_hours": "10:00-22:00",
                "is_pickup_point": True,
                "accepts_returns": True,
                "ships_orders": False,
                "is_active": True,
            }
        ]

    def test_filters(self, reader):
        LocationFactory(code="msk-store", city="Moscow", is_pickup_point=True)
        LocationFactory(code="msk-corner", city="Moscow", is_pickup_point=False)
        WarehouseFactory(code="msk-wh", city="Moscow")
        LocationFactory(code="spb-store", city="Saint Petersburg")
        LocationFactory(code="msk-closed", city="Moscow", is_active=False)

        def codes(**params):
            response = reader.get(LOCATIONS, params)
            assert response.status_code == 200, response.content
            return [item["code"] for item in response.json()["results"]]

        assert codes() == ["msk-corner", "msk-store", "msk-wh", "spb-store"]
        assert codes(kind="warehouse") == ["msk-wh"]
        assert codes(kind="store", city="moscow") == ["msk-corner", "msk-store"]
        assert codes(city="SAINT PETERSBURG") == ["spb-store"]
        assert codes(city="Mosc") == []
        assert codes(click_and_collect="true", city="Moscow") == ["msk-store"]
        assert codes(click_and_collect="false") == ["msk-corner", "msk-wh"]
        assert codes(active="false") == ["msk-closed"]
        assert codes(active="true") == codes()

    @pytest.mark.parametrize(("param", "value"), [("kind", "shop"), ("click_and_collect", "yes"), ("active", "2")])
    def test_malformed_filter_is_400(self, reader, param, value):
        details = assert_error(reader.get(LOCATIONS, {param: value}), 400, "invalid")
        assert set(details["fields"]) == {param}

    def test_query_count_does_not_depend_on_page_size(self, reader):
        LocationFactory.create_batch(8)
        WarehouseFactory.create_batch(4)
        reader.get(LOCATIONS)

        small = query_count(reader, LOCATIONS, {"page_size": 2})
        large = query_count(reader, LOCATIONS, {"page_size": 12})

        assert small == large <= 3  # key, count, page


# --- Availability -----------------------------------------------------------------------


class TestAvailability:
    def test_units_per_location_in_the_order_asked(self, reader):
        # given two stores and a warehouse, one of them inactive
        msk, spb, closed = (
            LocationFactory(code="msk-01", city="Moscow"),
            LocationFactory(code="spb-01", city="Saint Petersburg"),
            LocationFactory(code="old-01"),
        )
        shirt, socks = ProductFactory(sku="SHIRT"), ProductFactory(sku="SOCKS")
        ProductFactory(sku="HAT")  # never stocked
        receive(msk, (shirt, 5), (socks, 1))
        receive(spb, (shirt, 2))
        receive(closed, (shirt, 9))
        reserve(shirt, msk, 2)
        reserve(socks, msk, 1)
        closed.is_active = False
        closed.save()

        # when
        response = reader.get(AVAILABILITY, {"sku": ["SOCKS", "SHIRT", "HAT"]})

        # then
        assert response.status_code == 200, response.content
        assert response.json() == {
            "results": [
                {"sku": "SOCKS", "total_available": 0, "locations": [{"location": "msk-01", "available": 0}]},
                {
                    "sku": "SHIRT",
                    "total_available": 5,
                    "locations": [{"location": "msk-01", "available": 3}, {"location": "spb-01", "available": 2}],
                },
                {"sku": "HAT", "total_available": 0, "locations": []},
            ]
        }

    def test_location_and_city_narrow_the_locations(self, reader):
        msk1, msk2, spb = (
            LocationFactory(code="msk-01", city="Moscow"),
            LocationFactory(code="msk-02", city="Moscow"),
            LocationFactory(code="spb-01", city="Saint Petersburg"),
        )
        shirt = ProductFactory(sku="SHIRT")
        for location, quantity in [(msk1, 1), (msk2, 2), (spb, 4)]:
            receive(location, (shirt, quantity))

        def locations(**params):
            response = reader.get(AVAILABILITY, {"sku": "SHIRT", **params})
            assert response.status_code == 200, response.content
            (result,) = response.json()["results"]
            return {item["location"]: item["available"] for item in result["locations"]}, result["total_available"]

        assert locations(location=["msk-02", "spb-01"]) == ({"msk-02": 2, "spb-01": 4}, 6)
        assert locations(city="moscow") == ({"msk-01": 1, "msk-02": 2}, 3)
        assert locations(city="Moscow", location="spb-01") == ({}, 0)

    def test_repeated_sku_is_answered_once(self, reader):
        ProductFactory(sku="A")
        assert skus_of(reader.get(AVAILABILITY, {"sku": ["A", "A"]})) == ["A"]

    def test_unknown_skus_are_named(self, reader):
        ProductFactory(sku="KNOWN")
        details = assert_error(reader.get(AVAILABILITY, {"sku": ["NOPE-2", "KNOWN", "NOPE-1"]}), 400, "unknown_sku")
        assert details == {"skus": ["NOPE-1", "NOPE-2"]}

    def test_unknown_location_is_named(self, reader):
        ProductFactory(sku="A")
        LocationFactory(code="msk-01")
        details = assert_error(
            reader.get(AVAILABILITY, {"sku": "A", "location": ["msk-01", "nowhere"]}), 400, "unknown_location"
        )
        assert details == {"locations": ["nowhere"]}

    @pytest.mark.parametrize(
        ("params", "field"),
        [
            ({}, "sku"),
            ({"sku": ""}, "sku"),
            ({"sku": [f"S-{n}" for n in range(201)]}, "sku"),
            ({"sku": "A", "location": ""}, "location"),
        ],
    )
    def test_malformed_query_is_400(self, reader, params, field):
        details = assert_error(reader.get(AVAILABILITY, params), 400, "invalid")
        assert set(details["fields"]) == {field}

    def test_two_hundred_skus_are_accepted(self, reader):
        products = ProductFactory.create_batch(200)
        response = reader.get(AVAILABILITY, {"sku": [p.sku for p in products]})
        assert len(skus_of(response)) == 200

    def test_query_count_does_not_depend_on_the_number_of_skus(self, reader):
        stores = LocationFactory.create_batch(3)
        products = ProductFactory.create_batch(30)
        for store in stores:
            receive(store, *[(product, 2) for product in products])
        reader.get(LOCATIONS)
        codes = [store.code for store in stores]

        few = query_count(reader, AVAILABILITY, {"sku": [p.sku for p in products[:2]], "location": codes})
        many = query_count(reader, AVAILABILITY, {"sku": [p.sku for p in products], "location": codes})

        assert few == many <= 4  # key, SKUs known, locations known, stock


# --- Stock receipts ---------------------------------------------------------------------


class TestStockReceipts:
    def test_a_receipt_past_the_largest_stock_a_row_holds_is_refused_and_changes_nothing(self, stock_writer):
        store, shirt = LocationFactory(code="msk-01"), ProductFactory(sku="SHIRT")
        receive(store, (shirt, 1))
        Stock.objects.filter(product=shirt, location=store).update(on_hand=2_147_483_000)
        before = db_snapshot()

        response = stock_writer.post(RECEIPTS, receipt_body(store, ("SHIRT", 1_000)), format="json")

        details = assert_error(response, 409, "stock_limit_exceeded")
        assert details["lines"] == [{"sku": "SHIRT", "location": "msk-01", "on_hand": 2_147_483_000, "adding": 1_000}]
        assert db_snapshot() == before

    def test_records_the_receipt_and_answers_201_with_the_document(self, stock_writer):
        store = LocationFactory(code="msk-01")
        shirt, socks = ProductFactory(sku="SHIRT"), ProductFactory(sku="SOCKS")
        receive(store, (shirt, 2))

        response = stock_writer.post(
            RECEIPTS,
            receipt_body(store, ("SHIRT", 3), ("SOCKS", 10), ("SHIRT", 1), number="INV-42", note="From supplier"),
            format="json",
        )

        assert response.status_code == 201, response.content
        body = response.json()
        assert body | {"created_at": None} == {
            "number": "INV-42",
            "kind": "receipt",
            "location": "msk-01",
            "note": "From supplier",
            "created_at": None,
            "lines": [
                {"sku": "SHIRT", "quantity": 4, "on_hand_before": 2, "on_hand_delta": 4},
                {"sku": "SOCKS", "quantity": 10, "on_hand_before": 0, "on_hand_delta": 10},
            ],
        }
        assert body["created_at"]
        assert (on_hand(shirt, store), on_hand(socks, store)) == (6, 10)
        document = StockDocument.objects.get(number="INV-42")
        assert (document.api_key, document.created_by) == (stock_writer.api_key, None)
        assert set(StockMovement.objects.filter(cause_id="INV-42").values_list("api_key", flat=True)) == {
            stock_writer.api_key.pk
        }

    def test_repeat_with_the_same_contents_returns_the_first_document(self, stock_writer):
        store, product = LocationFactory(), ProductFactory(sku="A")
        body = receipt_body(store, ("A", 5), number="INV-1")
        first = stock_writer.post(RECEIPTS, body, format="json")
        before = db_snapshot()

        again = stock_writer.post(RECEIPTS, body, format="json")

        assert (first.status_code, again.status_code) == (201, 200)
        assert again.json() == first.json()
        assert db_snapshot() == before
        assert on_hand(product, store) == 5

    @pytest.mark.parametrize(
        "change",
        [
            {"lines": [{"sku": "A", "quantity": 6}]},
            {"lines": [{"sku": "A", "quantity": 5}, {"sku": "B", "quantity": 1}]},
            {"location": "other"},
        ],
    )
    def test_same_number_with_other_contents_is_409(self, stock_writer, change):
        store = LocationFactory()
        LocationFactory(code="other")
        ProductFactory(sku="A")
        ProductFactory(sku="B")
        body = receipt_body(store, ("A", 5), number="INV-1")
        stock_writer.post(RECEIPTS, body, format="json")
        before = db_snapshot()

        response = stock_writer.post(RECEIPTS, {**body, **change}, format="json")

        details = assert_error(response, 409, "document_number_conflict")
        assert details["number"] == "INV-1"
        assert db_snapshot() == before

    def test_unknown_skus_are_all_named_and_nothing_changes(self, stock_writer):
        store = LocationFactory()
        ProductFactory(sku="KNOWN")
        before = db_snapshot()

        response = stock_writer.post(
            RECEIPTS, receipt_body(store, ("NOPE-2", 1), ("KNOWN", 1), ("NOPE-1", 1)), format="json"
        )

        assert assert_error(response, 400, "unknown_sku") == {"skus": ["NOPE-1", "NOPE-2"]}
        assert "NOPE-1" in response.json()["error"]["message"]
        assert db_snapshot() == before

    def test_unknown_location_changes_nothing(self, stock_writer):
        ProductFactory(sku="A")
        before = db_snapshot()

        response = stock_writer.post(
            RECEIPTS, {"location": "nowhere", "number": "R-1", "lines": [{"sku": "A", "quantity": 1}]}, format="json"
        )

        assert assert_error(response, 400, "unknown_location") == {"locations": ["nowhere"]}
        assert db_snapshot() == before

    @pytest.mark.parametrize("quantity", [0, -1, 1.5, 1.0, "abc", "3", True, None, 10**12])
    def test_quantity_must_be_a_positive_whole_number(self, stock_writer, quantity):
        store, product = LocationFactory(), ProductFactory(sku="A")
        receive(store, (product, 1))
        before = db_snapshot()

        response = stock_writer.post(RECEIPTS, receipt_body(store, ("A", quantity)), format="json")

        details = assert_error(response, 400, "invalid")
        assert set(details["fields"]["lines"]["0"]) == {"quantity"}
        assert db_snapshot() == before

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"number": ""}, "number"),
            ({"number": None}, "number"),
            ({"location": ""}, "location"),
            ({"lines": []}, "lines"),
            ({"lines": "A"}, "lines"),
            ({"lines": [{"sku": "A"}]}, "lines"),
            ({"lines": [{"sku": "A", "quantity": 1, "price": "9.99"}]}, "lines"),
            ({"lines": [{"sku": "A", "quantity": 1}] * 501}, "lines"),
            ({"note": "x" * 256}, "note"),
            ({"created_at": "2026-01-01T00:00:00Z"}, "created_at"),
        ],
    )
    def test_malformed_body_names_the_field_and_changes_nothing(self, stock_writer, change, field):
        store = LocationFactory()
        ProductFactory(sku="A")
        before = db_snapshot()

        response = stock_writer.post(RECEIPTS, {**receipt_body(store, ("A", 1)), **change}, format="json")

        details = assert_error(response, 400, "invalid")
        assert set(details["fields"]) == {field}
        assert db_snapshot() == before

    def test_missing_fields_are_named(self, stock_writer):
        details = assert_error(stock_writer.post(RECEIPTS, {}, format="json"), 400, "invalid")
        assert set(details["fields"]) == {"location", "number", "lines"}
        assert not StockDocument.objects.exists()

    def test_five_hundred_lines_are_accepted(self, stock_writer):
        store = LocationFactory()
        products = ProductFactory.create_batch(500)

        response = stock_writer.post(RECEIPTS, receipt_body(store, *[(p.sku, 1) for p in products]), format="json")

        assert response.status_code == 201, response.content
        assert Stock.objects.filter(location=store, on_hand=1).count() == 500


# --- Stock counts -----------------------------------------------------------------------


class TestStockCounts:
    def test_count_sets_on_hand_and_records_the_difference(self, stock_writer):
        store = LocationFactory(code="msk-01")
        shirt, socks, hat = ProductFactory(sku="SHIRT"), ProductFactory(sku="SOCKS"), ProductFactory(sku="HAT")
        receive(store, (shirt, 10), (socks, 2))

        response = stock_writer.post(
            COUNTS, receipt_body(store, ("SHIRT", 7), ("SOCKS", 0), ("HAT", 3), number="C-1"), format="json"
        )

        assert response.status_code == 201, response.content
        body = response.json()
        assert (body["kind"], body["number"], body["location"]) == ("count", "C-1", "msk-01")
        assert body["lines"] == [
            {"sku": "SHIRT", "quantity": 7, "on_hand_before": 10, "on_hand_delta": -3},
            {"sku": "SOCKS", "quantity": 0, "on_hand_before": 2, "on_hand_delta": -2},
            {"sku": "HAT", "quantity": 3, "on_hand_before": 0, "on_hand_delta": 3},
        ]
        assert (on_hand(shirt, store), on_hand(socks, store), on_hand(hat, store)) == (7, 0, 3)

    def test_repeat_with_the_same_contents_changes_nothing(self, stock_writer):
        store, product = LocationFactory(), ProductFactory(sku="A")
        receive(store, (product, 10))
        body = receipt_body(store, ("A", 4), number="C-1")
        first = stock_writer.post(COUNTS, body, format="json")
        before = db_snapshot()

        again = stock_writer.post(COUNTS, body, format="json")

        assert (first.status_code, again.status_code) == (201, 200)
        assert again.json() == first.json()
        assert db_snapshot() == before

    def test_count_below_reserved_is_409_and_changes_nothing(self, stock_writer):
        store, product = LocationFactory(), ProductFactory(sku="A")
        receive(store, (product, 5))
        reserve(product, store, 4)
        before = db_snapshot()

        response = stock_writer.post(COUNTS, receipt_body(store, ("A", 3), number="C-1"), format="json")

        details = assert_error(response, 409, "count_below_reserved")
        assert details["lines"] == [{"sku": "A", "location": store.code, "counted": 3, "reserved": 4}]
        assert db_snapshot() == before

    def test_same_number_with_other_contents_is_409(self, stock_writer):
        store, product = LocationFactory(), ProductFactory(sku="A")
        receive(store, (product, 5))
        stock_writer.post(COUNTS, receipt_body(store, ("A", 4), number="C-1"), format="json")
        before = db_snapshot()

        response = stock_writer.post(COUNTS, receipt_body(store, ("A", 3), number="C-1"), format="json")

        assert_error(response, 409, "document_number_conflict")
        assert db_snapshot() == before

    @pytest.mark.parametrize("quantity", [-1, 1.5, "abc", None])
    def test_quantity_must_be_zero_or_a_positive_whole_number(self, stock_writer, quantity):
        store, product = LocationFactory(), ProductFactory(sku="A")
        receive(store, (product, 1))
        before = db_snapshot()

        details = assert_error(
            stock_writer.post(COUNTS, receipt_body(store, ("A", quantity)), format="json"), 400, "invalid"
        )

        assert set(details["fields"]["lines"]["0"]) == {"quantity"}
        assert db_snapshot() == before

    def test_unknown_sku_and_location(self, stock_writer):
        store = LocationFactory()
        ProductFactory(sku="A")
        before = db_snapshot()

        response = stock_writer.post(COUNTS, receipt_body(store, ("A", 1), ("B", 1)), format="json")
        assert assert_error(response, 400, "unknown_sku") == {"skus": ["B"]}
        response = stock_writer.post(
            COUNTS, {"location": "nowhere", "number": "C-1", "lines": [{"sku": "A", "quantity": 1}]}, format="json"
        )
        assert_error(response, 400, "unknown_location")
        assert db_snapshot() == before

    def test_a_count_and_a_receipt_may_share_a_number(self, stock_writer):
        store, product = LocationFactory(), ProductFactory(sku="A")
        assert (
            stock_writer.post(RECEIPTS, receipt_body(store, ("A", 5), number="N-1"), format="json").status_code == 201
        )
        assert stock_writer.post(COUNTS, receipt_body(store, ("A", 2), number="N-1"), format="json").status_code == 201
        assert on_hand(product, store) == 2
