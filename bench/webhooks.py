"""Webhooks benchmark: events delivered per second to a local receiver, against the same POSTs sent
bare, and what a subscription adds to placing an order.

On PostgreSQL, in a database whose name contains "bench" (migrated here). The receiver is a
separate process (an HTTP/1.1 ``http.server`` on 127.0.0.1 that verifies every signature).

1. Delivery: ``--events`` events are written through ``event_record`` in transactions of 1,000
   (events on ``--objects`` objects, so each object's events must go out in order), then
   ``--workers`` processes drain the subscription with ``subscription_drain`` (claim a batch, sign,
   POST over a kept-alive connection, record) until nothing is due. The ceiling in the same run: the
   same number of signed POSTs sent bare over one kept-alive connection per worker, no database.
2. Placement: ``--orders`` three-line click-and-collect orders placed by ``order_place``, in rounds
   that alternate between no subscription and a subscription to every order event, so both sides
   see the same machine load; the medians are compared. Tasks are published to Redis db 15
   (purged), as in production, not run in-process.
3. Placement over HTTP (``--part http``): ``POST /api/v1/orders/`` against gunicorn, with
   ``bench.orders``'s stores, customers and clients (3 lines spread over 20,000 stock rows, points,
   Idempotency-Key), in rounds alternating between no subscription and one to every order event:
   one client for the latency a subscription adds, ``--clients`` at once for the throughput.

Usage:

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/omni_webhooks_bench python -m bench.webhooks --events 100000
    ... python -m bench.webhooks --part placement --orders 1000
    ... python -m bench.webhooks --part http --orders 600
"""

import argparse
import multiprocessing
import os
import statistics
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest import mock

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "omni.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
os.environ["OMNI_WEBHOOK_ALLOW_PRIVATE_URLS"] = "1"
os.environ["CELERY_BROKER_URL"] = "redis://127.0.0.1:6379/15"

import django

ORDER_EVENTS = ["order.created", "order.status_changed", "order.ready_for_pickup", "order.handed_over"]


def receive(port_out, secret, good, bad) -> None:
    """The receiver process: verifies each signature and counts."""
    from omni.webhooks.signing import signature_verify

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            ok = signature_verify(secret.value.decode(), body, self.headers["Omni-Signature"])
            with (good if ok else bad).get_lock():
                (good if ok else bad).value += 1
            self.send_response(204 if ok else 400)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port_out.value = server.server_port
    server.serve_forever()


def subscribe(url: str, event_types: list[str]):
    from omni.core.services import api_key_create
    from omni.webhooks.services import subscription_create

    api_key, _raw = api_key_create(name=f"bench-{time.time_ns()}", scopes=["webhooks:manage"])
    return subscription_create(api_key=api_key, url=url, event_types=event_types)


def events_write(events: int, objects: int) -> float:
    from django.db import transaction

    from omni.webhooks import outbox

    started = time.perf_counter()
    with mock.patch.object(outbox, "drains_queue"):  # the workers below drain them
        for start in range(0, events, 1000):
            with transaction.atomic():
                for n in range(start, min(start + 1000, events)):
                    outbox.event_record(
                        event_type="stock.changed",
                        object_type="stock",
                        object_id=f"SKU-{n % objects}",
                        data={"sku": f"SKU-{n % objects}", "location": "MSK-1", "available": n, "on_hand": n + 5},
                    )
    return time.perf_counter() - started


def drain_worker(subscription_id: int) -> None:
    django.setup()
    from django.db import connection

    from omni.webhooks.delivery import subscription_drain

    while subscription_drain(subscription_id, seconds=3600).succeeded:
        pass
    connection.close()


def bare_worker(url: str, secret: str, count: int) -> None:
    """The ceiling: the same signed POSTs over one kept-alive connection, without the database."""
    django.setup()
    from omni.webhooks.addresses import url_target
    from omni.webhooks.sending import Poster
    from omni.webhooks.signing import signature_header

    with Poster(url_target(url)) as poster:
        for n in range(count):
            body = (
                b'{"id":"00000000-0000-0000-0000-%012d","type":"stock.changed","created":"2026-12-03T12:00:00+00:00",'
                b'"data":{"sku":"SKU-%d","location":"MSK-1","available":%d,"on_hand":%d}}' % (n, n, n, n + 5)
            )
            headers = {"Content-Type": "application/json", "Omni-Signature": signature_header(secret, body)}
            poster.post(body, headers)


def in_processes(target, args_list) -> float:
    from django.db import connections

    connections.close_all()
    processes = [multiprocessing.Process(target=target, args=args) for args in args_list]
    started = time.perf_counter()
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    return time.perf_counter() - started


def delivery(args, url: str, secret, good, bad) -> None:
    from django.db import connection

    from omni.webhooks.models import Delivery, DeliveryStatus, Event

    subscription = subscribe(url, ["stock.changed"])
    secret.value = subscription.secret.encode()
    written = events_write(args.events, args.objects)
    with connection.cursor() as cursor:  # what autovacuum does after such a burst (it is off on some test machines)
        cursor.execute(f"ANALYZE {Delivery._meta.db_table}, {Event._meta.db_table}")
    print(f"{args.events} events written through the outbox in {written:.1f} s ({args.events / written:,.0f}/s)")
    for workers in args.workers:
        Delivery.objects.filter(subscription=subscription).update(status=DeliveryStatus.PENDING, attempts=0)
        good.value = bad.value = 0
        seconds = in_processes(drain_worker, [(subscription.pk,)] * workers)
        left = Delivery.objects.filter(subscription=subscription).exclude(status=DeliveryStatus.SUCCEEDED).count()
        omni_rate = good.value / seconds
        good_before = good.value
        bare_seconds = in_processes(bare_worker, [(url, subscription.secret, args.events // workers)] * workers)
        bare_rate = (good.value - good_before) / bare_seconds
        print(
            f"{workers} worker(s): {good_before:,} delivered in {seconds:.1f} s = {omni_rate:,.0f} events/s "
            f"(bad signatures {bad.value}, not delivered {left}); the same POSTs bare: {bare_rate:,.0f}/s; "
            f"ratio {omni_rate / bare_rate:.0%}"
        )
    subscription.delete()


def placements(args, url: str) -> None:
    from omni.webhooks.outbox import wanted_forget
    from omni.webhooks.services import subscription_update
    from orders.models import Fulfilment
    from orders.services import LineInput, order_place
    from tests.orders.factories import customer, product, stock, store

    shop, person = store(), customer()
    items = [product() for _ in range(3)]
    for item in items:
        stock(shop, item, args.orders * 3 + 10)
    subscription = subscribe(url, ORDER_EVENTS)

    def place() -> float:
        started = time.perf_counter()
        order_place(
            channel="site",
            fulfilment=Fulfilment.CLICK_AND_COLLECT,
            customer=person,
            location=shop,
            lines=[LineInput(item.sku, 1) for item in items],
        )
        return time.perf_counter() - started

    times = {False: [], True: []}
    rounds = 10
    for _ in range(3):
        place()  # warm caches
    for round_number in range(rounds * 2):
        subscribed = round_number % 2 == 1
        subscription_update(subscription=subscription, changes={"is_active": subscribed})
        wanted_forget()
        times[subscribed] += [place() for _ in range(args.orders // rounds)]
    without, with_one = statistics.median(times[False]), statistics.median(times[True])
    print(
        f"placing a 3-line order, median of {len(times[False])} each, alternating rounds: "
        f"{without * 1000:.1f} ms without a subscription, {with_one * 1000:.1f} ms with one to every order event "
        f"({(with_one / without - 1) * 100:+.1f} %)"
    )


def placements_over_http(args, url: str, secret, good) -> None:
    """The same comparison over HTTP: ``POST /api/v1/orders/`` against gunicorn (``bench.orders``'s
    stores, customers and clients: click-and-collect, 3 lines spread over 20,000 stock rows, points,
    Idempotency-Key), in rounds alternating between no subscription and one to every order event,
    with a Celery worker on the same cores delivering the notices and the events as a deployment
    does. One client gives the latency a subscription adds to a placement; ``--clients`` at once,
    the throughput it costs when the workers share the machine's cores with PostgreSQL."""
    from omni.webhooks.models import Event
    from omni.webhooks.outbox import WANTED_TTL_SECONDS
    from omni.webhooks.services import subscription_update

    bench_orders = _bench_orders()
    fixture = bench_orders.prepare()
    subscription = subscribe(url, ORDER_EVENTS)
    secret.value = subscription.secret.encode()
    port = bench_orders.free_port()
    worker = bench_orders.start_celery_worker()
    server = bench_orders.start_gunicorn(port, args.http_workers)
    rounds = 6
    try:
        bench_orders.run_clients(port, fixture, "spread", requests=50, clients=4)  # warm-up
        for clients in (1, args.clients):
            per_round = max(args.orders // rounds, clients * 5)
            runs = {False: [], True: []}
            events_before = Event.objects.count()
            for round_number in range(rounds * 2):
                subscribed = round_number % 2 == 1
                subscription_update(subscription=subscription, changes={"is_active": subscribed})
                time.sleep(WANTED_TTL_SECONDS + 0.5)  # the workers read the subscriptions again
                runs[subscribed].append(
                    bench_orders.run_clients(port, fixture, "spread", requests=per_round, clients=clients)
                )
            written = Event.objects.count() - events_before
            delivered_by = time.monotonic() + 60
            while good.value < Event.objects.count() and time.monotonic() < delivered_by:
                time.sleep(0.2)
            placed = {side: sum(run["orders"] for run in results) for side, results in runs.items()}
            rate = {side: placed[side] / sum(run["seconds"] for run in results) for side, results in runs.items()}
            p50 = {
                side: statistics.median([value for run in results for value in run["latencies"]]) * 1000
                for side, results in runs.items()
            }
            print(
                f"over HTTP, {clients} client(s), gunicorn {args.http_workers} workers, {rounds} rounds of "
                f"{per_round} each way: without a subscription {rate[False]:.1f} orders/s, p50 {p50[False]:.1f} ms; "
                f"subscribed {rate[True]:.1f} orders/s, p50 {p50[True]:.1f} ms "
                f"(latency {(p50[True] / p50[False] - 1) * 100:+.1f} %, throughput "
                f"{(rate[True] / rate[False] - 1) * 100:+.1f} %); {written} events written for "
                f"{placed[True]} subscribed orders, {good.value} delivered so far"
            )
    finally:
        server.terminate()
        server.wait(timeout=30)
        worker.terminate()
        worker.wait(timeout=30)


def _bench_orders():
    """``bench.orders`` (its fixture, gunicorn and clients), imported once Django is set up here."""
    import bench.orders

    return bench.orders


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--objects", type=int, default=2_000, help="events are spread over this many objects")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--orders", type=int, default=400)
    parser.add_argument("--part", choices=["delivery", "placement", "http", "both"], default="both")
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients of the HTTP part")
    parser.add_argument("--http-workers", type=int, default=3, help="gunicorn workers of the HTTP part")
    args = parser.parse_args()
    if "bench" not in os.environ.get("DATABASE_URL", ""):
        sys.exit("Refusing to run: DATABASE_URL must name a database with 'bench' in its name.")
    django.setup()
    from celery import current_app
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    port, secret = multiprocessing.Value("i", 0), multiprocessing.Array("c", 100)
    good, bad = multiprocessing.Value("i", 0), multiprocessing.Value("i", 0)
    server = multiprocessing.Process(target=receive, args=(port, secret, good, bad), daemon=True)
    server.start()
    while not port.value:
        time.sleep(0.05)
    url = f"http://127.0.0.1:{port.value}/hook"
    try:
        if args.part in ("delivery", "both"):
            delivery(args, url, secret, good, bad)
        if args.part in ("placement", "both"):
            placements(args, url)
        if args.part == "http":
            placements_over_http(args, url, secret, good)
    finally:
        server.terminate()
        current_app.control.purge()


if __name__ == "__main__":
    multiprocessing.set_start_method("fork")
    main()
