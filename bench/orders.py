"""Orders benchmark: placing orders over HTTP against gunicorn on PostgreSQL.

The script fills a PostgreSQL database (its name must contain "bench"), starts gunicorn on
127.0.0.1 (loopback only) with a few sync workers, and runs several concurrent clients, each
posting click-and-collect orders of three lines with points redeemed (``POST /api/v1/orders/``
with an API key and an ``Idempotency-Key``), for a fixed number of requests. It prints the
orders placed per second and the latency percentiles, then checks that the stock and the points
ledgers still balance, and stops gunicorn.

Usage:

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/omni_orders_bench python -m bench.orders \
        [--requests 600] [--clients 8] [--workers 3]

Measured on 2026-11-24 (x86_64, 2 cores shared with other test runs, Python 3.11, PostgreSQL 15,
in-process Celery so each order's "placed" message is also delivered within the request):

    3 workers, 8 clients, 600 orders: 31.0 orders/s, p50 252 ms, p95 338 ms, p99 388 ms
    2 workers, 4 clients, 400 orders: 32.6 orders/s, p50 119 ms, p95 161 ms, p99 187 ms
    (a first 3 × 8 run while other suites ran on the machine: 17.8 orders/s, p50 463 ms)

One order is about 70 queries (auth, idempotency key, customer lock, redemption, stock locks and
ledger, lines, history, timeline, outbox, the response). The two cores are the limit: adding
clients beyond the workers only adds queueing.
"""

import argparse
import json
import os
import platform
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from http.client import HTTPConnection

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "omni.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("API_THROTTLE_RATE", "1000000/minute")

import warnings

import django

warnings.filterwarnings("ignore", message="No directory at")  # WhiteNoise: collectstatic not run

PRODUCTS = 30
CUSTOMERS = 300
POINTS_PER_ORDER = 10
HOST = "127.0.0.1"


def ensure_database() -> None:
    """Create the bench database if it does not exist yet (connecting to the server's ``postgres``)."""
    import dj_database_url
    import psycopg

    config = dj_database_url.parse(os.environ.get("DATABASE_URL", ""))
    name = config.get("NAME") or ""
    if "postgresql" not in config.get("ENGINE", "") or "bench" not in name:
        sys.exit(f"Refusing to run: DATABASE_URL must name a PostgreSQL database with 'bench' in it (got {name!r}).")
    params = {"host": config["HOST"] or HOST, "port": config["PORT"] or 5432, "user": config["USER"] or "postgres"}
    if config.get("PASSWORD"):
        params["password"] = config["PASSWORD"]
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


ensure_database()
django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from inventory.models import Location, LocationKind, Product  # noqa: E402
from inventory.selectors import stock_discrepancies  # noqa: E402
from inventory.services import ProductQuantity, stock_receive  # noqa: E402
from loyalty import services as loyalty  # noqa: E402
from loyalty.models import BonusType  # noqa: E402
from loyalty.selectors import points_discrepancies  # noqa: E402
from omni.core.services import api_key_create  # noqa: E402
from orders.models import Order  # noqa: E402
from tests.customers.factories import CustomerFactory, IdentityFactory  # noqa: E402


def machine() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0]
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, PostgreSQL {pg}"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def prepare() -> tuple[str, str, list[str], list[int]]:
    """An empty database with one store, products in stock, customers with points, an API key."""
    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    store = Location.objects.create(
        code="BENCH",
        name="Bench store",
        kind=LocationKind.STORE,
        city="Moscow",
        address="Tverskaya 1",
        opening_hours="10:00-22:00",
        is_pickup_point=True,
        accepts_returns=True,
    )
    products = [Product.objects.create(sku=f"B-{n:03d}", name=f"Item {n}", price=100 + n) for n in range(PRODUCTS)]
    stock_receive(location=store, lines=[ProductQuantity(p.pk, 1_000_000) for p in products], number="BENCH")
    loyalty.programme_current()
    customers = []
    for n in range(CUSTOMERS):
        person = CustomerFactory()
        IdentityFactory(customer=person)
        account, _created = loyalty.account_open(customer=person)
        loyalty.points_bonus(
            account=account, points=1_000_000, bonus_type=BonusType.CAMPAIGN, cause=loyalty.Cause("bench", str(n))
        )
        customers.append(person.pk)
    _api_key, raw = api_key_create(name="bench", scopes=["orders:read", "orders:write"])
    connection.close()
    return raw, store.code, [p.sku for p in products], customers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def start_gunicorn(port: int, workers: int) -> subprocess.Popen:
    env = {**os.environ, "DEBUG": "0", "LOG_LEVEL": "WARNING"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "omni.wsgi:application",
            "--bind",
            f"{HOST}:{port}",
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ],
        env=env,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            conn = HTTPConnection(HOST, port, timeout=2)
            conn.request("GET", "/api/v1/health/")
            if conn.getresponse().status == 200:
                return process
        except OSError:
            time.sleep(0.2)
    process.terminate()
    sys.exit("gunicorn did not start within 30 s")


def run_clients(port: int, key: str, store: str, skus: list[str], customers: list[int], requests: int, clients: int):
    """``clients`` threads share ``requests`` orders; returns (latencies in s, statuses, seconds)."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    left = iter(range(requests))
    start = threading.Barrier(clients + 1)

    def client(seed: int) -> None:
        rng = random.Random(seed)
        conn = HTTPConnection(HOST, port, timeout=60)
        headers = {"Authorization": f"Api-Key {key}", "Content-Type": "application/json"}
        start.wait()
        while True:
            with lock:
                if next(left, None) is None:
                    break
            body = {
                "channel": "site",
                "fulfilment": "click_and_collect",
                "customer": rng.choice(customers),
                "pickup_location": store,
                "lines": [{"sku": sku, "quantity": rng.randint(1, 2)} for sku in rng.sample(skus, 3)],
                "points": POINTS_PER_ORDER,
            }
            began = time.perf_counter()
            conn.request("POST", "/api/v1/orders/", json.dumps(body), {**headers, "Idempotency-Key": str(uuid.uuid4())})
            response = conn.getresponse()
            response.read()
            elapsed = time.perf_counter() - began
            with lock:
                latencies.append(elapsed)
                statuses[response.status] = statuses.get(response.status, 0) + 1
        conn.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    return latencies, statuses, time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=600, help="orders to place in the measured run")
    parser.add_argument("--clients", type=int, default=8, help="concurrent HTTP clients")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn worker processes")
    args = parser.parse_args()

    print(f"Machine: {machine()}")
    key, store, skus, customers = prepare()
    port = free_port()
    server = start_gunicorn(port, args.workers)
    try:
        run_clients(port, key, store, skus, customers, requests=min(50, args.requests), clients=args.clients)  # warm-up
        latencies, statuses, seconds = run_clients(
            port, key, store, skus, customers, requests=args.requests, clients=args.clients
        )
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    placed = statuses.get(201, 0)
    ms = [value * 1000 for value in latencies]
    print(
        f"\nPOST /api/v1/orders/ — click-and-collect, 3 lines, {POINTS_PER_ORDER} points redeemed, Idempotency-Key; "
        f"gunicorn {args.workers} sync workers on {HOST}, {args.clients} concurrent clients, "
        f"{args.requests} requests"
    )
    print(f"   statuses: {dict(sorted(statuses.items()))}")
    print(f"   orders/s: {placed / seconds:.1f}  ({placed} placed in {seconds:.1f} s)")
    print(
        f"   latency ms: p50 {percentile(ms, 50):.1f}  p95 {percentile(ms, 95):.1f}  p99 {percentile(ms, 99):.1f}  "
        f"max {max(ms):.1f}"
    )
    assert stock_discrepancies() == [], "the stock ledger does not balance"
    assert points_discrepancies() == [], "the points ledger does not balance"
    print(f"   ledgers balance; {Order.objects.count()} orders in the database")


if __name__ == "__main__":
    main()
