"""The locations API's writes: create, update, close — through ``inventory.locations``."""

from decimal import Decimal

import pytest
from django.urls import reverse

from inventory.models import Location
from omni.core.models import AuditEvent
from omni.core.scopes import Scope
from tests.inventory.api_support import LOCATIONS, assert_error, receive, reserve
from tests.inventory.factories import LocationFactory, ProductFactory

pytestmark = pytest.mark.django_db

ARBAT = {
    "code": "msk-arbat",
    "name": "Arbat",
    "kind": "store",
    "city": "Moscow",
    "address": "Arbat St, 10",
    "opening_hours": "Mon–Sun 10:00–22:00",
    "latitude": "55.751244",
    "longitude": 37.618423,
    "is_pickup_point": True,
}


def detail(code: str) -> str:
    return reverse("api:inventory:location-detail", kwargs={"code": code})


def deactivate(code: str) -> str:
    return reverse("api:inventory:location-deactivate", kwargs={"code": code})


def snapshot() -> list:
    return sorted(Location.objects.values_list())


@pytest.fixture
def writer(client_with_scopes):
    return client_with_scopes(Scope.LOCATIONS_WRITE, Scope.CATALOG_READ)


class TestCreate:
    def test_a_store_with_its_point_on_the_map(self, writer):
        response = writer.post(LOCATIONS, ARBAT, format="json")

        assert response.status_code == 201, response.content
        body = response.json()
        assert body["latitude"] == "55.751244" and body["longitude"] == "37.618423"
        assert body["is_pickup_point"] is True and body["ships_orders"] is False and body["is_active"] is True
        arbat = Location.objects.get(code="msk-arbat")
        assert (arbat.latitude, arbat.longitude) == (Decimal("55.751244"), Decimal("37.618423"))
        assert arbat.opening_hours == "Mon–Sun 10:00–22:00"
        assert AuditEvent.objects.filter(object_id=arbat.pk, kind="created").exists()
        assert "msk-arbat" in [loc["code"] for loc in writer.get(LOCATIONS).json()["results"]]

    @pytest.mark.parametrize(
        "change",
        [
            {"name": "  "},
            {"kind": "shop"},
            {"latitude": "91"},
            {"longitude": None},
            {"latitude": "55.1234567"},
            {"code": "has space"},
            {"colour": "red"},
        ],
    )
    def test_bad_input_is_400_and_creates_nothing(self, writer, change):
        response = writer.post(LOCATIONS, {**ARBAT, **change}, format="json")

        assert_error(response, 400, "invalid")
        assert not Location.objects.exists()

    def test_a_taken_code_is_a_conflict(self, writer):
        LocationFactory(code="msk-arbat")
        before = snapshot()

        assert_error(writer.post(LOCATIONS, ARBAT, format="json"), 409, "location_code_taken")
        assert snapshot() == before

    def test_a_retry_with_the_same_idempotency_key_creates_one(self, writer):
        first = writer.post(LOCATIONS, ARBAT, format="json", HTTP_IDEMPOTENCY_KEY="loc-1")
        again = writer.post(LOCATIONS, ARBAT, format="json", HTTP_IDEMPOTENCY_KEY="loc-1")

        assert first.status_code == again.status_code == 201
        assert again["Idempotent-Replayed"] == "true"
        assert Location.objects.count() == 1


class TestUpdate:
    def test_only_the_fields_sent_change(self, writer):
        store = LocationFactory(code="s-1", name="Old", latitude=Decimal("10"), longitude=Decimal("20"))

        response = writer.patch(detail("s-1"), {"opening_hours": "9-21", "ships_orders": True, "latitude": "11.5"})

        assert response.status_code == 200, response.content
        store.refresh_from_db()
        assert (store.name, store.opening_hours, store.ships_orders) == ("Old", "9-21", True)
        assert (store.latitude, store.longitude) == (Decimal("11.5"), Decimal("20"))
        assert response.json()["longitude"] == "20.000000"

    def test_both_coordinates_can_be_removed(self, writer):
        LocationFactory(code="s-1", latitude=Decimal("10"), longitude=Decimal("20"))

        response = writer.patch(detail("s-1"), {"latitude": None, "longitude": None})

        assert response.status_code == 200, response.content
        assert Location.objects.filter(code="s-1", latitude=None, longitude=None).exists()

    def test_one_coordinate_removed_is_refused(self, writer):
        LocationFactory(code="s-1", latitude=Decimal("10"), longitude=Decimal("20"))
        before = snapshot()

        assert "latitude" in assert_error(writer.patch(detail("s-1"), {"latitude": None}), 400, "invalid")["fields"]
        assert snapshot() == before

    def test_unknown_location_is_404(self, writer):
        assert_error(writer.patch(detail("nope"), {"name": "X"}), 404, "not_found")
        assert_error(writer.get(detail("nope")), 404, "not_found")


class TestDeactivate:
    def test_a_closed_location_leaves_the_list(self, writer):
        LocationFactory(code="s-1")

        response = writer.post(deactivate("s-1"))

        assert response.status_code == 200, response.content
        assert response.json()["is_active"] is False
        assert writer.get(LOCATIONS).json()["results"] == []
        assert writer.get(detail("s-1")).json()["is_active"] is False

    def test_a_location_holding_reservations_stays_open(self, writer):
        store, mug = LocationFactory(code="s-1"), ProductFactory()
        receive(store, (mug, 2))
        reserve(mug, store, 1)

        assert_error(writer.post(deactivate("s-1")), 409, "location_in_use")
        assert_error(writer.patch(detail("s-1"), {"is_active": False}), 409, "location_in_use")
        assert Location.objects.get(code="s-1").is_active


class TestScopes:
    def test_a_reader_may_read_but_not_write(self, client_with_scopes):
        LocationFactory(code="s-1")
        reader = client_with_scopes(Scope.CATALOG_READ)
        before = snapshot()

        assert reader.get(detail("s-1")).status_code == 200
        assert_error(reader.post(LOCATIONS, ARBAT, format="json"), 403, "permission_denied")
        assert_error(reader.patch(detail("s-1"), {"name": "X"}), 403, "permission_denied")
        assert_error(reader.post(deactivate("s-1")), 403, "permission_denied")
        assert snapshot() == before
