"""The transfers API: send or ask, ship or decline, receive, cancel — through the services."""

import pytest
from django.urls import reverse

from inventory.models import Stock, Transfer, TransferLine, TransferStatus
from omni.core.scopes import Scope
from tests.inventory.api_support import assert_error, receive
from tests.inventory.factories import LocationFactory, ProductFactory, WarehouseFactory

pytestmark = pytest.mark.django_db

TRANSFERS = reverse("api:inventory:transfer-list")


def action(number: str, name: str) -> str:
    return reverse(f"api:inventory:transfer-{name}", kwargs={"number": number})


def stock(product, location) -> tuple[int, int]:
    row = Stock.objects.filter(product=product, location=location).first()
    return (0, 0) if row is None else (row.on_hand, row.reserved)


def snapshot() -> dict:
    return {
        "transfers": sorted(Transfer.objects.values_list("number", "status")),
        "lines": sorted(
            TransferLine.objects.values_list("transfer_id", "quantity", "asked_quantity", "received_quantity")
        ),
        "stock": sorted(Stock.objects.values_list("product_id", "location_id", "on_hand", "reserved")),
    }


@pytest.fixture
def writer(client_with_scopes):
    return client_with_scopes(Scope.TRANSFERS_WRITE, Scope.TRANSFERS_READ)


@pytest.fixture
def place():
    warehouse, store = WarehouseFactory(code="wh-1"), LocationFactory(code="store-1")
    mug, kettle = ProductFactory(sku="MUG"), ProductFactory(sku="KETTLE")
    receive(warehouse, (mug, 10), (kettle, 3))
    return {"wh": warehouse, "store": store, "mug": mug, "kettle": kettle}


def send(client, lines=(("MUG", 4),), **extra):
    body = {"source": "wh-1", "destination": "store-1", "lines": [{"sku": s, "quantity": q} for s, q in lines], **extra}
    return client.post(TRANSFERS, body, format="json")


class TestSendShipReceive:
    def test_a_sent_transfer_reserves_ships_and_arrives_short(self, writer, place):
        # when the warehouse sends 4 mugs
        response = send(writer)

        # then they are reserved there
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["status"] == "requested"
        assert body["source"] == "wh-1" and body["destination"] == "store-1"
        assert body["lines"] == [{"sku": "MUG", "asked_quantity": None, "quantity": 4, "received_quantity": None}]
        assert stock(place["mug"], place["wh"]) == (10, 4)

        # when shipped, then received one short
        number = body["number"]
        shipped = writer.post(action(number, "ship"), {}, format="json")
        assert shipped.status_code == 200, shipped.content
        assert shipped.json()["status"] == "in_transit"
        assert stock(place["mug"], place["wh"]) == (6, 0)
        received = writer.post(action(number, "receive"), {"lines": [{"sku": "MUG", "quantity": 3}]}, format="json")

        # then the store holds 3 and the line records what arrived
        assert received.status_code == 200, received.content
        assert received.json()["status"] == "received"
        assert received.json()["lines"][0]["received_quantity"] == 3
        assert stock(place["mug"], place["store"]) == (3, 0)

    def test_list_and_detail(self, writer, place):
        number = send(writer).json()["number"]
        LocationFactory(code="elsewhere")

        listed = writer.get(TRANSFERS, {"location": "store-1", "status": "requested"})
        assert listed.status_code == 200, listed.content
        assert [t["number"] for t in listed.json()["results"]] == [number]
        assert writer.get(TRANSFERS, {"location": "elsewhere"}).json()["results"] == []
        detail = writer.get(reverse("api:inventory:transfer-detail", kwargs={"number": number}))
        assert detail.json()["number"] == number

    def test_cancel_releases_the_reservation(self, writer, place):
        number = send(writer).json()["number"]

        response = writer.post(action(number, "cancel"))

        assert response.status_code == 200, response.content
        assert response.json()["status"] == "cancelled"
        assert stock(place["mug"], place["wh"]) == (10, 0)


class TestAskShipDecline:
    def test_an_asked_transfer_reserves_nothing_until_shipped_in_part(self, writer, place):
        response = send(writer, (("MUG", 5), ("KETTLE", 2)), ask=True)
        assert response.status_code == 201, response.content
        assert response.json()["status"] == "asked"
        assert stock(place["mug"], place["wh"]) == (10, 0)

        # when the warehouse sends 2 of the 5 mugs and no kettles
        shipped = writer.post(
            action(response.json()["number"], "ship"),
            {"lines": [{"sku": "MUG", "quantity": 2}, {"sku": "KETTLE", "quantity": 0}]},
            format="json",
        )

        assert shipped.status_code == 200, shipped.content
        assert shipped.json()["status"] == "in_transit"
        lines = {line["sku"]: line for line in shipped.json()["lines"]}
        assert (lines["MUG"]["asked_quantity"], lines["MUG"]["quantity"]) == (5, 2)
        assert lines["KETTLE"]["quantity"] == 0
        assert stock(place["mug"], place["wh"]) == (8, 0)
        assert stock(place["kettle"], place["wh"]) == (3, 0)

    def test_decline_with_a_reason(self, writer, place):
        number = send(writer, ask=True).json()["number"]

        response = writer.post(action(number, "decline"), {"reason": "Sold out"}, format="json")

        assert response.status_code == 200, response.content
        assert response.json()["status"] == "declined"
        assert response.json()["decline_reason"] == "Sold out"

    def test_declining_a_sent_transfer_is_a_conflict(self, writer, place):
        number = send(writer).json()["number"]
        before = snapshot()

        response = writer.post(action(number, "decline"), {"reason": "No"}, format="json")

        assert assert_error(response, 409, "invalid_transition")["status"] == TransferStatus.REQUESTED
        assert snapshot() == before

    def test_shipping_more_than_asked_changes_nothing(self, writer, place):
        number = send(writer, ask=True).json()["number"]
        before = snapshot()

        response = writer.post(action(number, "ship"), {"lines": [{"sku": "MUG", "quantity": 9}]}, format="json")

        assert_error(response, 400, "invalid_quantity")
        assert snapshot() == before

    def test_lines_are_refused_when_shipping_a_sent_transfer(self, writer, place):
        number = send(writer).json()["number"]
        before = snapshot()

        response = writer.post(action(number, "ship"), {"lines": [{"sku": "MUG", "quantity": 1}]}, format="json")

        assert "lines" in assert_error(response, 400, "invalid")["fields"]
        assert snapshot() == before


class TestRefusals:
    @pytest.mark.parametrize(
        "body, code",
        [
            ({"source": "wh-1", "destination": "store-1", "lines": []}, "invalid"),
            ({"source": "wh-1", "destination": "store-1", "lines": [{"sku": "MUG", "quantity": 0}]}, "invalid"),
            (
                {"source": "wh-1", "destination": "nowhere", "lines": [{"sku": "MUG", "quantity": 1}]},
                "unknown_location",
            ),
            ({"source": "wh-1", "destination": "store-1", "lines": [{"sku": "NOPE", "quantity": 1}]}, "unknown_sku"),
            ({"source": "wh-1", "destination": "store-1", "lines": [{"sku": "MUG", "quantity": 1}], "x": 1}, "invalid"),
        ],
    )
    def test_bad_input_is_400_and_changes_nothing(self, writer, place, body, code):
        before = snapshot()

        response = writer.post(TRANSFERS, body, format="json")

        assert_error(response, 400, code)
        assert snapshot() == before

    def test_more_than_the_source_holds_is_a_conflict(self, writer, place):
        before = snapshot()
        assert_error(send(writer, (("MUG", 11),)), 409, "insufficient_stock")
        assert snapshot() == before

    def test_scopes(self, client_with_scopes, place):
        reader = client_with_scopes(Scope.TRANSFERS_READ)
        assert_error(send(reader), 403, "permission_denied")
        assert_error(reader.post(action("TR-000001", "ship"), {}, format="json"), 403, "permission_denied")
        assert_error(client_with_scopes(Scope.CATALOG_READ).get(TRANSFERS), 403, "permission_denied")
        assert Transfer.objects.count() == 0

    def test_unknown_transfer_is_404(self, writer, place):
        assert_error(writer.post(action("TR-999999", "receive"), {}, format="json"), 404, "not_found")

    def test_a_retry_with_the_same_idempotency_key_creates_one_transfer(self, writer, place):
        body = {"source": "wh-1", "destination": "store-1", "lines": [{"sku": "MUG", "quantity": 2}]}
        first = writer.post(TRANSFERS, body, format="json", HTTP_IDEMPOTENCY_KEY="t-1")
        again = writer.post(TRANSFERS, body, format="json", HTTP_IDEMPOTENCY_KEY="t-1")

        assert first.status_code == again.status_code == 201
        assert again.json()["number"] == first.json()["number"]
        assert again["Idempotent-Replayed"] == "true"
        assert Transfer.objects.count() == 1
        assert stock(place["mug"], place["wh"]) == (10, 2)
