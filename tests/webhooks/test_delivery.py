"""Signatures, retries with backoff, order per object, pausing, a broker outage, SSRF refusal."""

import socket
from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.utils import timezone

from omni.core.errors import InvalidInput
from omni.core.models import AuditEvent
from omni.webhooks import delivery as delivery_module
from omni.webhooks.addresses import url_target
from omni.webhooks.delivery import backoff_seconds, deliveries_requeue, subscription_drain
from omni.webhooks.models import Delivery, DeliveryStatus, Subscription
from omni.webhooks.outbox import event_record
from omni.webhooks.signing import signature_header, signature_verify

pytestmark = pytest.mark.django_db


def record(object_id="A-1", event_type="order.created", **data):
    event_record(event_type=event_type, object_type="order", object_id=object_id, data=data)


def later(**delta):
    return mock.patch("django.utils.timezone.now", return_value=timezone.now() + timedelta(**delta))


class TestSignature:
    def test_a_receiver_verifies_it_and_refuses_a_changed_body_or_an_old_time(self):
        header = signature_header("whsec_x", b'{"a":1}', timestamp=1_700_000_000)
        assert signature_verify("whsec_x", b'{"a":1}', header, now=1_700_000_100)
        assert not signature_verify("whsec_x", b'{"a":2}', header, now=1_700_000_100)
        assert not signature_verify("whsec_y", b'{"a":1}', header, now=1_700_000_100)
        assert not signature_verify("whsec_x", b'{"a":1}', header, now=1_700_001_000)

    def test_deliveries_carry_a_signature_the_receiver_accepts(
        self, subscribe, receiver, django_capture_on_commit_callbacks
    ):
        subscribe("order.created")
        with django_capture_on_commit_callbacks(execute=True):
            record(number="A-1")
        assert receiver.bad_signatures == 0
        assert receiver.received[0]["data"] == {"number": "A-1"}
        assert set(receiver.received[0]) == {"id", "type", "created", "data"}


class TestRetries:
    def test_a_failure_is_retried_with_backoff_until_it_succeeds(
        self, subscribe, receiver, django_capture_on_commit_callbacks
    ):
        subscribe("order.created")
        receiver.status = 503
        with django_capture_on_commit_callbacks(execute=True):
            record()
        delivery = Delivery.objects.get()
        assert (delivery.status, delivery.attempts, delivery.response_code) == ("pending", 1, 503)
        assert delivery.next_attempt_at > timezone.now() - timedelta(seconds=1)
        receiver.status = 200
        with later(hours=2):
            assert deliveries_requeue() == 1
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts, delivery.response_code) == ("succeeded", 2, 200)
        assert len(receiver.received) == 1

    def test_backoff_grows_exponentially_with_full_jitter(self):
        with mock.patch("random.uniform", side_effect=lambda low, high: high):
            assert [backoff_seconds(n) for n in (1, 2, 3, 10)] == [30, 60, 120, 3600]
        with mock.patch("random.uniform", side_effect=lambda low, high: low):
            assert backoff_seconds(5) == 0

    def test_after_a_day_it_is_abandoned(self, subscribe, receiver, django_capture_on_commit_callbacks):
        subscribe("order.created", pause_after_hours=100)
        receiver.status = 500
        with django_capture_on_commit_callbacks(execute=True):
            record()
        with later(hours=25):
            deliveries_requeue()
        assert Delivery.objects.get().status == DeliveryStatus.ABANDONED


class TestOrder:
    def test_a_later_event_of_the_same_object_waits_for_the_earlier_one(
        self, subscribe, receiver, django_capture_on_commit_callbacks
    ):
        subscription = subscribe("order.created", "order.status_changed")
        receiver.status = 500
        with django_capture_on_commit_callbacks(execute=True):
            record(step=1)
        receiver.status = 200
        with django_capture_on_commit_callbacks(execute=True):
            record(event_type="order.status_changed", step=2)
            record(object_id="B-2", step=3)
        assert [event["data"]["step"] for event in receiver.received] == [3]  # another object is not held up
        assert subscription_drain(subscription.pk).succeeded == 0  # step 2 waits for step 1's retry
        assert Delivery.objects.get(event__data__step=2).status == DeliveryStatus.PENDING
        with later(hours=2):
            deliveries_requeue()
        assert [event["data"]["step"] for event in receiver.received] == [3, 1, 2]


class TestPause:
    def test_failing_for_its_hours_pauses_it_and_tells_the_owner(
        self, subscribe, receiver, django_capture_on_commit_callbacks
    ):
        subscription = subscribe("order.created", pause_after_hours=2, contact_email="ops@shop.example")
        receiver.status = 500
        with django_capture_on_commit_callbacks(execute=True):
            record()
        with later(hours=1):
            deliveries_requeue()
        assert Subscription.objects.get().is_active
        with later(hours=3), django_capture_on_commit_callbacks(execute=True):
            deliveries_requeue()
        subscription.refresh_from_db()
        assert not subscription.is_active and subscription.paused_at is not None
        assert len(mail.outbox) == 1 and mail.outbox[0].to == ["ops@shop.example"]
        assert subscription.url in mail.outbox[0].subject
        assert AuditEvent.objects.filter(object_id=subscription.pk, field_name="is_active", new_value="False").exists()
        with django_capture_on_commit_callbacks(execute=True):
            record(object_id="C-3")
        assert Delivery.objects.count() == 1  # a paused subscription gets no new deliveries


class TestBrokerOutage:
    def test_deliveries_queued_while_the_broker_is_down_go_out_with_the_periodic_requeue(
        self, subscribe, receiver, django_capture_on_commit_callbacks
    ):
        subscribe("order.created")
        broker_down = mock.patch("omni.webhooks.tasks.send_due.apply_async", side_effect=OSError("broker down"))
        with broker_down, django_capture_on_commit_callbacks(execute=True):
            record()
        assert receiver.received == []
        assert Delivery.objects.get().status == DeliveryStatus.PENDING
        assert deliveries_requeue() == 1
        assert len(receiver.received) == 1
        assert deliveries_requeue() == 0

    def test_a_delivery_claimed_by_another_worker_is_not_sent_twice(self, subscribe, receiver):
        subscription = subscribe("order.created")
        record()
        delivery = Delivery.objects.get()
        Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.SENDING, claimed_at=timezone.now())
        assert subscription_drain(subscription.pk).succeeded == 0
        assert receiver.received == []
        assert Delivery.objects.get().status == DeliveryStatus.SENDING


def addresses(*ips):
    return mock.patch.object(
        socket, "getaddrinfo", return_value=[(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, 443)) for ip in ips]
    )


class TestSsrf:
    @pytest.mark.parametrize(
        "url",
        [
            "https://127.0.0.1/hook",
            "https://10.1.2.3/hook",
            "https://169.254.169.254/latest",
            "https://[::1]/hook",
            "https://192.168.0.10/",
            "https://[fe80::1]/",
            "https://224.0.0.1/",
            "https://0.0.0.0/",
        ],
    )
    def test_private_addresses_are_refused(self, url, settings):
        settings.OMNI_WEBHOOK_ALLOW_PRIVATE_URLS = False
        with pytest.raises(InvalidInput):
            url_target(url)

    def test_a_host_name_resolving_to_loopback_is_refused(self, settings):
        settings.OMNI_WEBHOOK_ALLOW_PRIVATE_URLS = False
        with addresses("127.0.0.1"), pytest.raises(InvalidInput):
            url_target("https://innocent.example.com/hook")
        with addresses("93.184.216.34"):
            assert url_target("https://innocent.example.com/hook").address == "93.184.216.34"

    def test_http_is_refused(self, settings):
        settings.OMNI_WEBHOOK_ALLOW_PRIVATE_URLS = False
        with addresses("93.184.216.34"), pytest.raises(InvalidInput):
            url_target("http://innocent.example.com/hook")

    def test_dns_changed_since_subscribing_is_refused_at_delivery(self, subscribe, receiver, settings):
        subscription = subscribe("order.created")
        record()
        settings.OMNI_WEBHOOK_ALLOW_PRIVATE_URLS = False
        with mock.patch.object(delivery_module.sending.Poster, "post") as post:
            assert subscription_drain(subscription.pk).retrying == 1
        post.assert_not_called()
        assert "https://" in Delivery.objects.get().last_error


def test_resuming_abandons_what_is_over_a_day_old_and_sends_the_rest(
    subscribe, receiver, django_capture_on_commit_callbacks
):
    from omni.webhooks.services import subscription_update

    subscription = subscribe("order.created")
    receiver.status = 500
    with django_capture_on_commit_callbacks(execute=True):
        record(object_id="OLD")
    subscription_update(subscription=subscription, changes={"is_active": False})
    receiver.status = 200
    with later(hours=30):
        subscription_update(subscription=subscription, changes={"is_active": True})
        deliveries_requeue()
    assert Delivery.objects.get().status == DeliveryStatus.ABANDONED
    assert receiver.received == []
