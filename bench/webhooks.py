"""Webhooks benchmark: events delivered per second to a local receiver, and what a subscription adds
to placing an order.

In-process, on a database whose name contains "bench" (migrated here). A threaded ``http.server``
on 127.0.0.1 receives the deliveries and checks each signature. Part 1 writes ``--events`` events
(distinct objects, so none waits for another) with their deliveries queued nowhere, then one worker
drains them with ``delivery_attempt`` (claim, sign, POST, record): events/s for one worker. Part 2
places ``--orders`` click-and-collect orders without any subscription, then as many with a
subscription to every order event, and compares the median placement time. Queueing is replaced by
a no-op in both parts: in production it is one publish to the broker after commit, and what the
order's request pays for is the outbox rows.

Usage:

    DATABASE_URL=sqlite:////tmp/omni_webhooks_bench.sqlite3 python -m bench.webhooks [--events 2000] [--orders 200]
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/omni_webhooks_bench python -m bench.webhooks --events 100000
"""

import argparse
import os
import statistics
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest import mock

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "omni.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
os.environ["OMNI_WEBHOOK_ALLOW_PRIVATE_URLS"] = "1"

import django

ORDER_EVENTS = ["order.created", "order.status_changed", "order.ready_for_pickup", "order.handed_over"]


def receiver(secret_holder: dict) -> tuple[ThreadingHTTPServer, dict]:
    from omni.webhooks.signing import signature_verify

    counts = {"ok": 0, "bad": 0}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            good = signature_verify(secret_holder["secret"], body, self.headers["Omni-Signature"])
            counts["ok" if good else "bad"] += 1
            self.send_response(204 if good else 400)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, counts


def subscribe(url: str, event_types: list[str]):
    from omni.core.services import api_key_create
    from omni.webhooks.services import subscription_create

    api_key, _raw = api_key_create(name=f"bench-{time.time_ns()}", scopes=["webhooks:manage"])
    return subscription_create(api_key=api_key, url=url, event_types=event_types)


def events_per_second(url: str, secret_holder: dict, counts: dict, events: int) -> None:
    from django.db import transaction

    from omni.webhooks.delivery import delivery_attempt
    from omni.webhooks.models import Delivery, DeliveryStatus
    from omni.webhooks.outbox import event_record

    subscription = subscribe(url, ["stock.changed"])
    secret_holder["secret"] = subscription.secret
    started = time.perf_counter()
    for start in range(0, events, 500):
        with transaction.atomic():
            for n in range(start, min(start + 500, events)):
                event_record(event_type="stock.changed", object_type="stock", object_id=f"SKU-{n}", data={"n": n})
    written = time.perf_counter() - started
    ids = list(
        Delivery.objects.filter(subscription=subscription, status=DeliveryStatus.PENDING).values_list("pk", flat=True)
    )
    started = time.perf_counter()
    for pk in ids:
        delivery_attempt(pk)
    sent = time.perf_counter() - started
    print(f"{events} events written in {written:.1f} s ({events / written:.0f}/s)")
    print(f"delivered by one worker in {sent:.1f} s: {len(ids) / sent:.0f} events/s; signatures good {counts['ok']}")


def placements(orders: int) -> list[float]:
    from orders.models import Fulfilment
    from orders.services import LineInput, order_place
    from tests.orders.factories import customer, product, stock, store

    shop, item, person = store(), product(), customer()
    stock(shop, item, orders)
    times = []
    for _ in range(orders):
        started = time.perf_counter()
        order_place(
            channel="site",
            fulfilment=Fulfilment.CLICK_AND_COLLECT,
            customer=person,
            location=shop,
            lines=[LineInput(item.sku, 1)],
        )
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--orders", type=int, default=200)
    args = parser.parse_args()
    if "bench" not in os.environ.get("DATABASE_URL", ""):
        sys.exit("Refusing to run: DATABASE_URL must name a database with 'bench' in its name.")
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    secret_holder: dict = {"secret": ""}
    server, counts = receiver(secret_holder)
    url = f"http://127.0.0.1:{server.server_port}/hook"
    with mock.patch("omni.webhooks.outbox.deliveries_queue", return_value=0):
        events_per_second(url, secret_holder, counts, args.events)
        without = statistics.median(placements(args.orders))
        subscribe(url, ORDER_EVENTS)
        with_subscription = statistics.median(placements(args.orders))
    print(
        f"placing an order, median of {args.orders}: {without * 1000:.1f} ms without a subscription, "
        f"{with_subscription * 1000:.1f} ms with one ({(with_subscription / without - 1) * 100:+.1f} %)"
    )
    server.shutdown()


if __name__ == "__main__":
    main()
