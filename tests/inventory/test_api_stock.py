"""The inventory API's stock: availability, receipts and counts."""

import json

import pytest

from inventory.api.serializers import AvailabilitySerializer
from inventory.models import Stock, StockDocument, StockMovement
from inventory.selectors import availability
from tests.inventory.api_support import (
    AVAILABILITY,
    COUNTS,
    LOCATIONS,
    RECEIPTS,
    assert_error,
    db_snapshot,
    on_hand,
    query_count,
    receipt_body,
    receive,
    reserve,
    skus_of,
)
from tests.inventory.factories import (
    LocationFactory,
    ProductFactory,
)

pytestmark = pytest.mark.django_db


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

    def test_the_answer_is_what_the_documented_serializer_writes(self, reader):
        # given SKUs and codes with characters JSON escapes, stocked here and there
        stores = [LocationFactory(code="msk-01"), LocationFactory(code='spb "центр"\\1')]
        products = [ProductFactory(sku="ШАПКА-1"), ProductFactory(sku='A"B\\C'), ProductFactory(sku="NONE")]
        receive(stores[0], (products[0], 3), (products[1], 1))
        receive(stores[1], (products[0], 2))
        reserve(products[0], stores[1], 2)
        skus = [products[1].sku, "NONE", products[0].sku]

        # when
        response = reader.get(AVAILABILITY, {"sku": skus})

        # then the text written by hand is the JSON AvailabilitySerializer gives (the schema's)
        by_sku = availability(skus=skus)
        expected = AvailabilitySerializer(
            {
                "results": [
                    {
                        "sku": sku,
                        "total_available": sum(by_sku[sku].values()),
                        "locations": [{"location": code, "available": units} for code, units in by_sku[sku].items()],
                    }
                    for sku in skus
                ]
            }
        ).data
        assert response["Content-Type"] == "application/json"
        assert response.json() == json.loads(json.dumps(expected))
        assert [item["location"] for item in response.json()["results"][2]["locations"]] == sorted(
            store.code for store in stores
        )

    def test_locations_come_by_code_whatever_characters_the_codes_hold(self, reader):
        # given codes whose JSON text sorts unlike the code (a space or "!" sorts below the closing
        # quote, a quote and a backslash are escaped) beside plain ones, and a control character
        # no entry path lets in but the database can hold
        codes = ["spb", "spb 2", "spb!", "spb-1", 'spb"x', "spb\\x", "Spb", "ЕКБ-1", "a\x01b"]
        shirt = ProductFactory(sku="SHIRT")
        for units, code in enumerate(codes, start=1):
            receive(LocationFactory(code=code), (shirt, units))

        # when
        response = reader.get(AVAILABILITY, {"sku": "SHIRT"})

        # then each location is its code and its units, by code
        assert response.status_code == 200, response.content
        (result,) = response.json()["results"]
        assert result["locations"] == [{"location": code, "available": codes.index(code) + 1} for code in sorted(codes)]
        assert result["total_available"] == sum(range(1, len(codes) + 1))

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
            found = {item["location"]: item["available"] for item in result["locations"]}
            # the selector the abandoned carts read narrows as the API does
            codes = params.get("location", [])
            selected = availability(
                skus=["SHIRT"], location_codes=[codes] if isinstance(codes, str) else codes, city=params.get("city", "")
            )
            assert selected == {"SHIRT": found}
            return found, result["total_available"]

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

        assert few == many <= 2  # stock, locations known (the key was checked before; stocked SKUs are known)


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
