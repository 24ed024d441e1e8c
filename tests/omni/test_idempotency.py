import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from omni.core.api.idempotency import idempotency_keys_forget
from omni.core.models import IdempotencyKey, NumberSequence

URL = "/api/v1/idempotent/"
pytestmark = pytest.mark.urls("tests.omni.urls")


def counter() -> int:
    """How many times the view's side effect ran."""
    return NumberSequence.objects.filter(name__startswith="idempotency-test-").count()


@pytest.mark.django_db
class TestIdempotencyKey:
    def test_retry_returns_the_first_response_and_changes_nothing(self, client_with_scopes):
        client = client_with_scopes("stock:write")
        first = client.post(URL, {"note": "a"}, HTTP_IDEMPOTENCY_KEY="k-1")
        again = client.post(URL, {"note": "a"}, HTTP_IDEMPOTENCY_KEY="k-1")

        assert first.status_code == again.status_code == 201
        assert again.json() == first.json()
        assert first.json()["note"] == "a"
        assert again["Idempotent-Replayed"] == "true"
        assert counter() == 1

    def test_same_key_with_another_body_is_422_and_changes_nothing(self, client_with_scopes):
        client = client_with_scopes("stock:write")
        client.post(URL, {"note": "a"}, HTTP_IDEMPOTENCY_KEY="k-1")

        response = client.post(URL, {"note": "b"}, HTTP_IDEMPOTENCY_KEY="k-1")

        assert response.status_code == 422
        assert response.json()["error"]["code"] == "idempotency_conflict"
        assert counter() == 1

    def test_keys_belong_to_one_client(self, client_with_scopes):
        shop, pos = client_with_scopes("stock:write"), client_with_scopes("stock:write")
        first = shop.post(URL, {}, HTTP_IDEMPOTENCY_KEY="same").json()["number"]
        second = pos.post(URL, {}, HTTP_IDEMPOTENCY_KEY="same").json()["number"]
        assert first != second
        assert counter() == 2

    def test_without_a_key_every_request_counts(self, client_with_scopes):
        client = client_with_scopes("stock:write")
        client.post(URL, {})
        client.post(URL, {})
        assert counter() == 2
        assert not IdempotencyKey.objects.exists()

    def test_a_failed_request_stores_nothing_so_a_retry_runs_again(self, client_with_scopes):
        client = client_with_scopes("stock:write")
        assert client.post(URL, {"fail": True}, HTTP_IDEMPOTENCY_KEY="k").status_code == 409
        assert not IdempotencyKey.objects.exists()
        assert client.post(URL, {"fail": True}, HTTP_IDEMPOTENCY_KEY="k").status_code == 409

    def test_overlong_key_is_400(self, client_with_scopes):
        response = client_with_scopes("stock:write").post(URL, {}, HTTP_IDEMPOTENCY_KEY="k" * 256)
        assert response.status_code == 400
        assert "Idempotency-Key" in response.json()["error"]["details"]["fields"]
        assert counter() == 0

    def test_old_keys_are_forgotten_after_their_retention(self, client_with_scopes, settings):
        client = client_with_scopes("stock:write")
        client.post(URL, {}, HTTP_IDEMPOTENCY_KEY="old")
        client.post(URL, {}, HTTP_IDEMPOTENCY_KEY="new")
        IdempotencyKey.objects.filter(key="old").update(created_at=timezone.now() - timedelta(hours=49))

        assert idempotency_keys_forget() == 1
        assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_identical_requests_racing_make_one_change(client_with_scopes):
    from rest_framework.test import APIClient

    raw_header = client_with_scopes("stock:write")._credentials["HTTP_AUTHORIZATION"]
    barrier = threading.Barrier(8)

    def post(_):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=raw_header)
        try:
            barrier.wait()
            response = client.post(URL, {"note": "race"}, format="json", HTTP_IDEMPOTENCY_KEY="race-1")
            return response.status_code, response.json()
        finally:
            connection.close()

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(post, range(8)))

    assert {status for status, _body in results} == {201}
    assert len({body["number"] for _status, body in results}) == 1
    assert counter() == 1
