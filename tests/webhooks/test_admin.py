"""The admin: subscribing with checked URLs, a test ping, deliveries sent again."""

import pytest

from omni.webhooks.models import Delivery, DeliveryStatus, Subscription
from omni.webhooks.outbox import event_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_ru(admin_client):
    admin_client.cookies["django_language"] = "ru"
    return admin_client


def test_a_subscription_is_added_with_its_types_and_a_private_url_refused(admin_client, receiver, settings, subscribe):
    api_key = subscribe("order.created").api_key
    form = {"api_key": api_key.pk, "url": receiver.url, "event_types": ["order.created", "refund.completed"]}
    form |= {"description": "", "contact_email": "ops@shop.example", "pause_after_hours": 12}
    response = admin_client.post("/admin/webhooks/subscription/add/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    added = Subscription.objects.latest("id")
    assert added.event_types == ["order.created", "refund.completed"] and added.secret.startswith("whsec_")
    settings.OMNI_WEBHOOK_ALLOW_PRIVATE_URLS = False
    response = admin_client.post("/admin/webhooks/subscription/add/", {**form, "url": "https://10.0.0.5/x"})
    assert response.status_code == 200 and "10.0.0.5" in response.content.decode()
    assert Subscription.objects.count() == 2


def test_ping_and_send_again(admin_client_ru, receiver, subscribe, django_capture_on_commit_callbacks):
    subscription = subscribe("order.created")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_ru.post(
            "/admin/webhooks/subscription/", {"action": "send_ping", "_selected_action": [subscription.pk]}
        )
    assert response.status_code == 302
    assert receiver.types == ["ping"]
    event_record(event_type="order.created", object_type="order", object_id="A-1", data={})
    delivery = Delivery.objects.get(event__type="order.created")
    Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.ABANDONED)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_ru.post(
            "/admin/webhooks/delivery/", {"action": "send_again", "_selected_action": [delivery.pk]}, follow=True
        )
    assert "будет отправлена ещё раз" in response.content.decode()
    assert receiver.types == ["ping", "order.created"]
    listing = admin_client_ru.get("/admin/webhooks/delivery/").content.decode()
    assert "доставлено" in listing
