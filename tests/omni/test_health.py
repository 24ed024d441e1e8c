import pytest
from django.db import DatabaseError

from omni.api import health

pytestmark = pytest.mark.django_db


def test_health_needs_no_key_and_reports_the_database(api_client, settings):
    settings.CELERY_BROKER_URL = ""
    response = api_client.get("/api/v1/health/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "not_configured"}


def test_health_reports_a_configured_broker(api_client, settings):
    import os

    broker = os.environ.get("CELERY_BROKER_URL")
    if not broker:
        pytest.skip("no broker configured (CI sets CELERY_BROKER_URL to Redis)")
    settings.CELERY_BROKER_URL = broker
    response = api_client.get("/api/v1/health/")
    assert response.json()["broker"] == "ok", response.json()


def test_unreachable_broker_is_503(api_client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    response = api_client.get("/api/v1/health/")
    assert response.status_code == 503
    assert response.json()["broker"] == "unavailable"


def test_database_failure_is_503(api_client, monkeypatch):
    class BrokenCursor:
        def __enter__(self):
            raise DatabaseError("connection refused")

        def __exit__(self, *args):
            return False

    monkeypatch.setattr(health.connection, "cursor", BrokenCursor)
    response = api_client.get("/api/v1/health/")
    assert response.status_code == 503
    assert response.json()["database"] == "unavailable"
