"""The inventory API's catalogue: products listed, found and written."""

from decimal import Decimal

import factory
import pytest

from inventory import services
from inventory.models import Barcode, Product
from inventory.services import Cause, StockLine
from tests.inventory.api_support import (
    PRODUCTS,
    assert_error,
    db_snapshot,
    product_url,
    query_count,
    receive,
    reserve,
    skus_of,
)
from tests.inventory.factories import (
    BarcodeFactory,
    CategoryFactory,
    LocationFactory,
    ProductFactory,
    ean13,
)

pytestmark = pytest.mark.django_db


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
            "model": None,
            "attributes": {},
            "images": [],
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

        # then: key, count, page, barcodes, attribute values, images; filtered: + category, category tree, location
        assert small == large
        assert unfiltered <= 6
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

        with django_assert_max_num_queries(5):  # key, product with category and model, barcodes, attributes, images
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
            "model": None,
            "attributes": {},
            "images": [],
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
