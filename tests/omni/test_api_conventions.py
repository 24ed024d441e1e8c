import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from tests.inventory.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.omni.urls")]


def assert_error(response, status: int, code: str):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]


class TestApiKeys:
    def test_no_key_is_401_with_challenge(self, api_client):
        response = api_client.get("/api/v1/scoped/")
        assert_error(response, 401, "not_authenticated")
        assert response["WWW-Authenticate"] == "Api-Key"

    @pytest.mark.parametrize("header", ["Api-Key wrong", "Api-Key", "Api-Key a b"])
    def test_wrong_or_malformed_key_is_401(self, api_client, header):
        api_client.credentials(HTTP_AUTHORIZATION=header)
        assert_error(api_client.get("/api/v1/scoped/"), 401, "authentication_failed")

    def test_revoked_key_is_401(self, client_with_scopes):
        client = client_with_scopes("catalog:read")
        client.api_key.revoke()
        assert_error(client.get("/api/v1/scoped/"), 401, "authentication_failed")

    def test_key_without_scope_is_403_naming_it(self, client_with_scopes):
        client = client_with_scopes("catalog:read")
        error = assert_error(client.post("/api/v1/scoped/", {"quantity": 1}), 403, "permission_denied")
        assert "stock:write" in error["message"]

    def test_key_with_scope_passes_and_is_marked_used(self, client_with_scopes):
        client = client_with_scopes("catalog:read", "stock:write")
        assert client.get("/api/v1/scoped/").json() == {"ok": True}
        assert client.post("/api/v1/scoped/", {"quantity": 2}).json() == {"quantity": 2}
        client.api_key.refresh_from_db()
        assert client.api_key.last_used_at is not None

    def test_a_key_is_looked_up_once_per_cache_period(self, client_with_scopes, django_assert_num_queries):
        # given a key used a moment ago (its lookup, and last_used_at written)
        client = client_with_scopes("catalog:read")
        client.get("/api/v1/scoped/")
        # when it is used again, then it costs no query
        with django_assert_num_queries(0):
            assert client.get("/api/v1/scoped/").status_code == 200

    def test_a_key_revoked_by_another_process_is_refused_once_the_cache_period_ends(
        self, client_with_scopes, settings, monkeypatch
    ):
        from omni.core.api import authentication
        from omni.core.models import ApiKey

        client = client_with_scopes("catalog:read")
        clock = [1000.0]
        monkeypatch.setattr(authentication.time, "monotonic", lambda: clock[0])
        assert client.get("/api/v1/scoped/").status_code == 200
        # another server process revokes it: no signal reaches this one
        ApiKey.objects.filter(pk=client.api_key.pk).update(revoked_at=timezone.now())
        clock[0] += settings.API_KEY_CACHE_SECONDS - 0.5
        assert client.get("/api/v1/scoped/").status_code == 200
        clock[0] += 0.5
        assert_error(client.get("/api/v1/scoped/"), 401, "authentication_failed")

    def test_new_scopes_saved_in_this_process_apply_at_once(self, client_with_scopes):
        client = client_with_scopes("catalog:read")
        assert client.get("/api/v1/scoped/").status_code == 200
        client.api_key.scopes = ["stock:write"]
        client.api_key.save(update_fields=["scopes"])
        assert_error(client.get("/api/v1/scoped/"), 403, "permission_denied")

    def test_without_the_cache_every_request_looks_the_key_up(
        self, client_with_scopes, settings, django_assert_num_queries
    ):
        settings.API_KEY_CACHE_SECONDS = 0
        client = client_with_scopes("catalog:read")
        client.get("/api/v1/scoped/")
        with django_assert_num_queries(1):
            assert client.get("/api/v1/scoped/").status_code == 200

    def test_endpoint_without_declared_scopes_is_closed_to_keys(self, client_with_scopes):
        client = client_with_scopes(*["catalog:read", "catalog:write", "stock:write"])
        assert_error(client.get("/api/v1/unscoped/"), 403, "permission_denied")

    def test_only_the_hash_is_stored(self, client_with_scopes):
        from omni.core.models import ApiKey
        from omni.core.services import api_key_create

        api_key, raw = api_key_create(name="shop", scopes=["catalog:read"])
        stored = ApiKey.objects.get(pk=api_key.pk)
        assert raw not in (stored.hashed_key, stored.prefix + "x")
        assert stored.hashed_key == ApiKey.hash(raw)


class TestStaffSession:
    def test_staff_may_read_with_their_session(self, client):
        client.force_login(UserFactory(is_staff=True))
        assert client.get("/api/v1/scoped/").json() == {"ok": True}

    def test_staff_need_the_django_permission_to_write(self, client):
        user = UserFactory(is_staff=True)
        client.force_login(user)
        assert_error(
            client.post("/api/v1/scoped/", {"quantity": 1}, content_type="application/json"), 403, "permission_denied"
        )

        user.user_permissions.add(Permission.objects.get(codename="receive_stock"))
        client.force_login(user)
        assert client.post("/api/v1/scoped/", {"quantity": 1}, content_type="application/json").status_code == 200

    def test_non_staff_user_is_refused(self, client):
        client.force_login(UserFactory(is_staff=False))
        assert_error(client.get("/api/v1/scoped/"), 403, "permission_denied")


class TestErrorShape:
    def test_validation_error_names_the_field(self, client_with_scopes):
        client = client_with_scopes("stock:write")
        error = assert_error(client.post("/api/v1/scoped/", {"quantity": -1}), 400, "invalid")
        assert "quantity" in error["details"]["fields"]

    def test_malformed_json_is_400(self, client_with_scopes):
        client = client_with_scopes("stock:write")
        response = client.post("/api/v1/scoped/", "{not json", content_type="application/json")
        assert_error(response, 400, "parse_error")

    def test_domain_error_is_409_with_its_code_and_details(self, client_with_scopes):
        client = client_with_scopes("stock:write")
        error = assert_error(client.post("/api/v1/scoped/", {"quantity": 11}), 409, "insufficient_stock")
        assert error["details"] == {"skus": ["A"]}

    def test_method_not_allowed_is_405(self, client_with_scopes):
        client = client_with_scopes("catalog:read")
        assert_error(client.delete("/api/v1/scoped/"), 405, "method_not_allowed")

    def test_unknown_api_url_is_404_in_the_same_shape(self, client_with_scopes):
        assert_error(client_with_scopes("catalog:read").get("/api/v1/no-such-thing/"), 404, "not_found")

    def test_throttled_request_is_429_with_retry_after(self, client_with_scopes, settings):
        from django.core.cache import cache
        from rest_framework.throttling import SimpleRateThrottle

        cache.clear()
        original = SimpleRateThrottle.THROTTLE_RATES
        SimpleRateThrottle.THROTTLE_RATES = {"client": "2/minute"}
        try:
            client = client_with_scopes("catalog:read")
            client.get("/api/v1/scoped/")
            client.get("/api/v1/scoped/")
            response = client.get("/api/v1/scoped/")
        finally:
            SimpleRateThrottle.THROTTLE_RATES = original
            cache.clear()
        error = assert_error(response, 429, "throttled")
        assert error["details"]["retry_after"] > 0
        assert int(response["Retry-After"]) > 0


class TestLanguage:
    def test_errors_follow_accept_language(self, api_client):
        english = api_client.get("/api/v1/scoped/", HTTP_ACCEPT_LANGUAGE="en").json()["error"]["message"]
        russian = api_client.get("/api/v1/scoped/", HTTP_ACCEPT_LANGUAGE="ru").json()["error"]["message"]
        assert english != russian
        assert "Учетные данные" in russian or "учетные данные" in russian.lower()


def test_api_key_revoke_sets_the_time():
    from omni.core.services import api_key_create

    api_key, _raw = api_key_create(name="pos", scopes=["catalog:read"])
    before = timezone.now()
    api_key.revoke()
    assert api_key.revoked_at >= before


@pytest.mark.parametrize(("language_code", "expected"), [("en", "credentials"), ("ru", "Учетные данные")])
def test_default_language_comes_from_language_code(api_client, settings, language_code, expected):
    settings.LANGUAGE_CODE = language_code
    message = api_client.get("/api/v1/scoped/").json()["error"]["message"]
    assert expected.lower() in message.lower()
