"""The loyalty setup API: the programme and tiers (loyalty:admin), promo codes (promo:write)."""

from decimal import Decimal

import pytest
from django.urls import reverse

from loyalty.models import Programme, PromoCode, Tier
from loyalty.services import promo_apply, promo_release
from omni.core.models import AuditEvent
from omni.core.scopes import Scope
from tests.inventory.api_support import assert_error
from tests.loyalty.factories import PromoCodeFactory, cart

pytestmark = pytest.mark.django_db

PROGRAMME = reverse("api:loyalty:programme")
PROMOS = reverse("api:loyalty:promo-code-list")


def promo_url(code: str, name: str = "detail") -> str:
    return reverse(f"api:loyalty:promo-code-{name}", kwargs={"code": code})


def programme_state() -> tuple:
    return (
        list(Programme.objects.values_list()),
        sorted(Tier.objects.values_list("name", "min_spend", "earn_rate")),
    )


@pytest.fixture
def admin(client_with_scopes):
    return client_with_scopes(Scope.LOYALTY_ADMIN, Scope.LOYALTY_READ)


@pytest.fixture
def promoter(client_with_scopes):
    return client_with_scopes(Scope.PROMO_WRITE, Scope.LOYALTY_READ)


class TestProgramme:
    def test_read(self, client_with_scopes):
        body = client_with_scopes(Scope.LOYALTY_READ).get(PROGRAMME).json()

        assert body["holding_days"] == 14 and body["max_redeem_percent"] == "30.00"
        assert [(t["name"], t["min_spend"], t["earn_rate"]) for t in body["tiers"]] == [
            ("Base", "0.00", "5.00"),
            ("Silver", "10000.00", "7.00"),
            ("Gold", "50000.00", "10.00"),
        ]

    def test_update_rules_and_tiers_by_name(self, admin, programme):
        response = admin.patch(
            PROGRAMME,
            {
                "holding_days": 21,
                "expiry_days": 180,
                "max_redeem_percent": "50",
                "tiers": [
                    {"name": "Gold", "min_spend": "40000", "earn_rate": "12"},
                    {"name": "Platinum", "min_spend": "100000", "earn_rate": "15"},
                ],
            },
        )

        assert response.status_code == 200, response.content
        programme.refresh_from_db()
        assert (programme.holding_days, programme.expiry_days, programme.max_redeem_percent) == (21, 180, 50)
        assert sorted(Tier.objects.values_list("name", "min_spend", "earn_rate")) == [
            ("Base", Decimal("0.00"), Decimal("5.00")),
            ("Gold", Decimal("40000.00"), Decimal("12.00")),
            ("Platinum", Decimal("100000.00"), Decimal("15.00")),
            ("Silver", Decimal("10000.00"), Decimal("7.00")),
        ]
        assert [t["name"] for t in response.json()["tiers"]] == ["Base", "Silver", "Gold", "Platinum"]
        assert AuditEvent.objects.filter(object_id=programme.pk, field_name="holding_days").exists()

    @pytest.mark.parametrize(
        "body",
        [
            {"expiry_days": 0},
            {"max_redeem_percent": "101"},
            {"point_value": "0"},
            {"holding_days": "14"},
            {"name": "Renamed"},
            {"tiers": [{"name": "Gold", "min_spend": "10000", "earn_rate": "9"}]},  # Silver's threshold
            {
                "tiers": [
                    {"name": "New", "min_spend": "1", "earn_rate": "9"},
                    {"name": "New", "min_spend": "2", "earn_rate": "1"},
                ]
            },
            {"tiers": [{"name": "Gold", "min_spend": "-1", "earn_rate": "9"}]},
            {"holding_days": 30, "tiers": [{"name": "  ", "min_spend": "5", "earn_rate": "1"}]},
        ],
    )
    def test_bad_input_is_400_and_changes_nothing(self, admin, body):
        before = programme_state()

        assert_error(admin.patch(PROGRAMME, body), 400, "invalid")
        assert programme_state() == before

    def test_read_scope_cannot_update(self, client_with_scopes):
        before = programme_state()
        reader = client_with_scopes(Scope.LOYALTY_READ, Scope.LOYALTY_WRITE, Scope.PROMO_WRITE)

        assert_error(reader.patch(PROGRAMME, {"holding_days": 1}), 403, "permission_denied")
        assert_error(client_with_scopes(Scope.LOYALTY_ADMIN).get(PROGRAMME), 403, "permission_denied")
        assert programme_state() == before


class TestPromoCodes:
    def test_create_then_read_its_use(self, promoter):
        response = promoter.post(
            PROMOS, {"code": "spring10", "kind": "percent", "value": "10", "max_uses": 5, "channels": ["site"]}
        )

        assert response.status_code == 201, response.content
        assert response.json()["code"] == "SPRING10"
        assert response.json()["usage"] == {
            "orders": 0,
            "discount_total": "0.00",
            "points_total": 0,
            "order_total": "0.00",
            "released": 0,
        }
        promo_apply(code="SPRING10", reference="W-1", lines=cart(1000), channel="site")
        promo_apply(code="SPRING10", reference="W-2", lines=cart(500), channel="site")
        promo_release(code="SPRING10", reference="W-2")

        body = promoter.get(promo_url("spring10")).json()
        assert body["used_count"] == 1
        assert body["usage"] == {
            "orders": 1,
            "discount_total": "100.00",
            "points_total": 0,
            "order_total": "1000.00",
            "released": 1,
        }
        usages = promoter.get(promo_url("SPRING10", "usages")).json()["results"]
        assert [(u["order"], u["status"]) for u in usages] == [("W-2", "released"), ("W-1", "applied")]

    def test_deactivate(self, promoter):
        PromoCodeFactory(code="OLD")

        response = promoter.post(promo_url("OLD", "deactivate"))

        assert response.status_code == 200, response.content
        assert response.json()["is_active"] is False
        assert not PromoCode.objects.get(code="OLD").is_active
        assert promoter.post(promo_url("OLD", "deactivate")).status_code == 200

    @pytest.mark.parametrize(
        "change",
        [
            {"kind": "percent", "value": "150"},
            {"kind": "points", "value": "10.5"},
            {"kind": "gift"},
            {"code": "has space"},
            {"valid_from": "2030-01-02T00:00:00Z", "valid_until": "2030-01-01T00:00:00Z"},
            {"channels": ["moon"]},
            {"used_count": 3},
        ],
    )
    def test_bad_input_is_400_and_creates_nothing(self, promoter, change):
        body = {"code": "NEW", "kind": "amount", "value": "100", **change}

        assert_error(promoter.post(PROMOS, body), 400, "invalid")
        assert not PromoCode.objects.exists()

    def test_a_taken_code_is_a_conflict(self, promoter):
        PromoCodeFactory(code="TAKEN")

        assert_error(promoter.post(PROMOS, {"code": "taken", "kind": "amount", "value": "5"}), 409, "promo_code_taken")
        assert PromoCode.objects.count() == 1

    def test_a_retry_with_the_same_idempotency_key_creates_one(self, promoter):
        body = {"code": "ONCE", "kind": "points", "value": "100"}
        first = promoter.post(PROMOS, body, HTTP_IDEMPOTENCY_KEY="p-1")
        again = promoter.post(PROMOS, body, HTTP_IDEMPOTENCY_KEY="p-1")

        assert first.status_code == again.status_code == 201
        assert again["Idempotent-Replayed"] == "true"
        assert PromoCode.objects.count() == 1

    def test_scopes(self, client_with_scopes):
        PromoCodeFactory(code="KEEP")
        reader = client_with_scopes(Scope.LOYALTY_READ, Scope.LOYALTY_WRITE)

        assert reader.get(promo_url("KEEP")).status_code == 200
        assert_error(reader.post(PROMOS, {"code": "X", "kind": "amount", "value": "5"}), 403, "permission_denied")
        assert_error(reader.post(promo_url("KEEP", "deactivate")), 403, "permission_denied")
        assert list(PromoCode.objects.values_list("code", "is_active")) == [("KEEP", True)]

    def test_unknown_code_is_404(self, promoter):
        assert_error(promoter.get(promo_url("NOPE")), 404, "not_found")
        assert_error(promoter.post(promo_url("NOPE", "deactivate")), 404, "not_found")
