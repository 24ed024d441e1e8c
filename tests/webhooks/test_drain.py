"""The drain: batches over one kept-alive connection, in order per object, once under racing
workers, and what an unreachable receiver leaves behind."""

import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest import mock

import pytest
from django.utils import timezone

from omni.core.queueing import GATHER_SECONDS
from omni.webhooks import outbox
from omni.webhooks.addresses import url_target
from omni.webhooks.delivery import subscription_drain
from omni.webhooks.models import Delivery, DeliveryStatus
from omni.webhooks.outbox import drain_started, drains_queue, event_record
from omni.webhooks.sending import Poster
from tests.inventory.test_concurrency import race

pytestmark = pytest.mark.django_db


def record(object_id, step, event_type="order.status_changed"):
    event_record(event_type=event_type, object_type="order", object_id=object_id, data={"step": step})


@pytest.fixture
def keep_alive_server():
    """An HTTP/1.1 receiver that keeps connections open and counts them."""
    state = {"connections": 0, "bodies": []}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self):
            super().setup()
            state["connections"] += 1

        def do_POST(self):
            state["bodies"].append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state["url"] = f"http://127.0.0.1:{server.server_port}/hook"
    yield state
    server.shutdown()
    server.server_close()


def test_a_poster_sends_many_over_one_connection(keep_alive_server, settings):
    settings.OMNI_WEBHOOK_ALLOW_PRIVATE_URLS = True
    with Poster(url_target(keep_alive_server["url"])) as poster:
        statuses = [poster.post(b"{}", {"Content-Type": "application/json"}).status for _ in range(5)]
    assert statuses == [204] * 5
    assert keep_alive_server["connections"] == 1


def test_a_drain_sends_each_object_in_order_across_batches(subscribe, receiver):
    subscription = subscribe("order.status_changed")
    for step in range(1, 4):
        record("A-1", step)
        record("B-2", step)

    result = subscription_drain(subscription.pk, batch_size=2)

    assert result.succeeded == 6
    by_object = {"A-1": [], "B-2": []}
    for event in receiver.received:
        by_object[event_object(event)].append(event["data"]["step"])
    assert by_object == {"A-1": [1, 2, 3], "B-2": [1, 2, 3]}
    assert set(Delivery.objects.values_list("status", "attempts")) == {(DeliveryStatus.SUCCEEDED, 1)}


def event_object(event) -> str:
    return Delivery.objects.get(event_id=event["id"]).event.object_id


def test_an_unreachable_receiver_stops_the_drain_and_the_rest_waits_with_the_first(subscribe, receiver):
    subscription = subscribe("order.status_changed")
    for n in range(3):
        record(f"C-{n}", 1)
    closed = "http://127.0.0.1:9/hook"  # the discard port: nothing listens
    subscription.__class__.objects.filter(pk=subscription.pk).update(url=closed)

    result = subscription_drain(subscription.pk)

    assert (result.succeeded, result.retrying) == (0, 1)
    rows = list(Delivery.objects.order_by("id").values_list("status", "attempts", "next_attempt_at"))
    assert [row[:2] for row in rows] == [("pending", 1), ("pending", 0), ("pending", 0)]
    assert rows[1][2] == rows[2][2] == rows[0][2] > timezone.now() - timezone.timedelta(seconds=1)


def test_one_drain_is_queued_per_subscription_until_it_starts(subscribe, receiver, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    subscription = subscribe("order.status_changed")
    drain_started(subscription.pk)
    with mock.patch("omni.webhooks.tasks.send_due.delay") as delay:
        assert drains_queue([subscription.pk]) == 1
        assert drains_queue([subscription.pk]) == 0  # the queued drain will find what comes now
        drain_started(subscription.pk)
        assert drains_queue([subscription.pk]) == 1
    assert delay.call_count == 2
    drain_started(subscription.pk)


def test_an_events_drain_starts_a_moment_later_to_gather_its_burst(
    subscribe, receiver, settings, django_capture_on_commit_callbacks
):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    subscription = subscribe("order.status_changed")
    drain_started(subscription.pk)
    with mock.patch("omni.webhooks.tasks.send_due.apply_async") as queued:
        for number in ("1", "2", "3"):
            with django_capture_on_commit_callbacks(execute=True):
                event_record(event_type="order.status_changed", object_type="order", object_id=f"W-{number}", data={})
    assert [call.kwargs for call in queued.call_args_list] == [{"countdown": GATHER_SECONDS}]
    assert queued.call_args.args == ((subscription.pk,),)
    drain_started(subscription.pk)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_racing_drains_send_every_event_once_and_each_object_in_order(subscribe, receiver):
    subscription = subscribe("order.status_changed")
    with mock.patch.object(outbox, "drains_queue"):  # the racing drains below send them
        for step in range(1, 6):
            for name in ("A", "B", "C", "D"):
                record(name, step)

    results = race(4, lambda i: subscription_drain(subscription.pk, batch_size=3))

    ids = Counter(event["id"] for event in receiver.received)
    assert sum(result.succeeded for result in results) == 20 == len(ids)
    assert set(ids.values()) == {1}
    steps: dict[str, list[int]] = {}
    for event in receiver.received:
        steps.setdefault(event_object(event), []).append(event["data"]["step"])
    assert all(sequence == [1, 2, 3, 4, 5] for sequence in steps.values())
    assert not Delivery.objects.exclude(status=DeliveryStatus.SUCCEEDED).exists()


def test_sent_events_are_forgotten_after_the_retention_and_waiting_ones_kept(subscribe, receiver, settings):
    from omni.webhooks.models import Event
    from omni.webhooks.retention import events_forget

    settings.OMNI_WEBHOOK_KEEP_DAYS = 30
    subscription = subscribe("order.status_changed")
    record("OLD-SENT", 1)
    record("OLD-WAITING", 1)
    record("NEW-SENT", 1)
    Event.objects.exclude(object_id="NEW-SENT").update(created_at=timezone.now() - timezone.timedelta(days=31))
    Delivery.objects.exclude(event__object_id="OLD-WAITING").update(status=DeliveryStatus.SUCCEEDED)

    assert events_forget() == 1

    assert set(Event.objects.values_list("object_id", flat=True)) == {"OLD-WAITING", "NEW-SENT"}
    assert Delivery.objects.filter(subscription=subscription).count() == 2
