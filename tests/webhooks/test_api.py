"""The key's own subscriptions over the API."""

import pytest

from omni.webhooks.models import Delivery, Subscription

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(client_with_scopes, settings):
    settings.OMNI_WEBHOOK_ALLOW_PRIVATE_URLS = True
    return client_with_scopes("webhooks:manage")


def test_subscribe_read_with_secret_list_without_it_ping_and_deliveries(
    manager, receiver, django_capture_on_commit_callbacks
):
    response = manager.post("/api/v1/webhooks/", {"url": receiver.url, "event_types": ["order.created"]}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["secret"].startswith("whsec_") and body["pause_after_hours"] == 24
    receiver.secret = body["secret"]
    listed = manager.get("/api/v1/webhooks/").json()["results"]
    assert [item["id"] for item in listed] == [body["id"]] and "secret" not in listed[0]
    with django_capture_on_commit_callbacks(execute=True):
        ping = manager.post(f"/api/v1/webhooks/{body['id']}/ping/")
    assert ping.status_code == 202
    assert receiver.types == ["ping"]
    deliveries = manager.get(f"/api/v1/webhooks/{body['id']}/deliveries/").json()["results"]
    assert [(d["event_type"], d["status"], d["response_code"]) for d in deliveries] == [("ping", "succeeded", 200)]


def test_bad_input_is_refused_and_changes_nothing(manager, settings):
    settings.OMNI_WEBHOOK_ALLOW_PRIVATE_URLS = False
    for payload in (
        {"url": "https://127.0.0.1/x", "event_types": ["order.created"]},
        {"url": "https://shop.example/x", "event_types": ["no.such"]},
        {"url": "https://shop.example/x", "event_types": []},
        {"url": "https://shop.example/x", "event_types": ["order.created"], "secret": "mine"},
    ):
        response = manager.post("/api/v1/webhooks/", payload, format="json")
        assert response.status_code == 400, payload
        assert response.json()["error"]["code"] == "invalid"
    assert not Subscription.objects.exists()


def test_another_keys_subscription_is_not_found(manager, client_with_scopes, receiver):
    other = client_with_scopes("webhooks:manage")
    created = other.post("/api/v1/webhooks/", {"url": receiver.url, "event_types": ["order.created"]}, format="json")
    pk = created.json()["id"]
    assert manager.get(f"/api/v1/webhooks/{pk}/").status_code == 404
    assert manager.delete(f"/api/v1/webhooks/{pk}/").status_code == 404
    assert manager.patch(f"/api/v1/webhooks/{pk}/", {"is_active": False}, format="json").status_code == 404
    assert other.patch(f"/api/v1/webhooks/{pk}/", {"is_active": False}, format="json").json()["is_active"] is False
    assert other.delete(f"/api/v1/webhooks/{pk}/").status_code == 204
    assert not Delivery.objects.exists()


def test_a_key_without_the_scope_is_refused(client_with_scopes):
    assert client_with_scopes("orders:read").get("/api/v1/webhooks/").status_code == 403


def test_staff_without_the_permission_cannot_read_secrets(client, staff_in_role, receiver, subscribe):
    subscription = subscribe("order.created")
    client.force_login(staff_in_role("Store staff"))
    assert client.get(f"/api/v1/webhooks/{subscription.pk}/").status_code == 403


def test_a_revoked_keys_subscriptions_get_nothing_new(subscribe):
    from omni.webhooks.outbox import event_record

    subscription = subscribe("order.created")
    subscription.api_key.revoke()
    event_record(event_type="order.created", object_type="order", object_id="A-1", data={})
    assert not Delivery.objects.exists()
