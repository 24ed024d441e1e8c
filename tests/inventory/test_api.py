"""The inventory API: who may call it, the one error shape, the locations."""

import pytest
from rest_framework.test import APIClient

from inventory.models import Product, StockDocument, StockMovement
from omni.core.roles import HEAD_OFFICE, STORE_MANAGER, STORE_STAFF
from omni.core.scopes import Scope
from tests.inventory.api_support import (
    AVAILABILITY,
    COUNTS,
    LOCATIONS,
    PRODUCTS,
    RECEIPTS,
    assert_error,
    db_snapshot,
    on_hand,
    product_url,
    query_count,
    receipt_body,
    skus_of,
)
from tests.inventory.factories import (
    BarcodeFactory,
    LocationFactory,
    ProductFactory,
    UserFactory,
    WarehouseFactory,
    ean13,
)

pytestmark = pytest.mark.django_db


def session_client(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


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
                "latitude": None,
                "longitude": None,
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
