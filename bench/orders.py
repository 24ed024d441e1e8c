"""Orders benchmark: placing orders over HTTP against gunicorn on PostgreSQL, beside the ceiling.

The script fills a PostgreSQL database (its name must contain "bench") with 20 pickup stores of
1,000 products each (20,000 stock rows), starts gunicorn on 127.0.0.1 (loopback only) with a few
sync workers, and runs concurrent clients, each posting click-and-collect orders of three lines
with points redeemed (``POST /api/v1/orders/`` with an API key and an ``Idempotency-Key``). Two
cases: "hot", every order on the same 3 stock rows, and "spread", each order on 3 rows drawn from
the 20,000.

As in production, the server queues its Celery tasks (the notices' drain) to Redis (db 15, purged
before and after), shares its cache with the worker in Redis (db 14), and a Celery worker, started
beside gunicorn on the same cores, delivers the notices; ``--eager`` runs the tasks inside each
request with each process's own cache instead (the setting of the figures before 2026-12-04 night).

The ceiling is the order's own SQL through psycopg, in one transaction (insert the order, three
conditional stock updates, three lines, three ledger rows), run by as many client processes as
there are HTTP clients, right before and right after the HTTP run of each case. The script prints
orders/s and p50/p95 of both and Omni's share of the ceiling (read the ratio: the machine is
shared), then checks that nothing was oversold and that the stock and points ledgers balance.

Usage:

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/omni_orders_bench python -m bench.orders \
        [--requests 600] [--clients 16] [--workers 3] [--ceiling-orders 3000] [--eager]
"""

import argparse
import datetime
import json
import multiprocessing
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
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/14")  # the cache the web and Celery processes share

import warnings

import django

warnings.filterwarnings("ignore", message="No directory at")  # WhiteNoise: collectstatic not run

STORES = 20
PRODUCTS = 1_000  # per store: 20,000 stock rows
ON_HAND = 1_000_000
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

from django.core.cache import cache  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402

from customers.models import Message  # noqa: E402
from inventory.models import Location, LocationKind, MovementReason, Product, Stock, StockMovement  # noqa: E402
from inventory.selectors import stock_discrepancies  # noqa: E402
from loyalty import services as loyalty  # noqa: E402
from loyalty.models import BonusType  # noqa: E402
from loyalty.selectors import points_discrepancies  # noqa: E402
from omni.core.services import api_key_create  # noqa: E402
from orders.models import Order, OrderLine  # noqa: E402
from tests.customers.factories import CustomerFactory, IdentityFactory  # noqa: E402


def machine() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0]
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, PostgreSQL {pg}"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


class Fixture:
    """What the clients need: the API key, the stores' codes and ids, the products, the customers."""

    def __init__(self, key, stores, products, customers):
        self.key, self.stores, self.products, self.customers = key, stores, products, customers

    def pick(self, rng: random.Random, case: str) -> tuple[tuple[str, int], list[tuple[str, int]]]:
        """A store and three products: always the same for "hot", any of the 20,000 rows for "spread"."""
        if case == "hot":
            return self.stores[0], self.products[:3]
        return rng.choice(self.stores), rng.sample(self.products, 3)


def prepare() -> Fixture:
    """An empty database with 20 pickup stores holding 1,000 products each (the receipts in the
    ledger), customers with points, an API key."""
    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    stores = [
        Location.objects.create(
            code=f"BENCH-{n:02d}",
            name=f"Bench store {n}",
            kind=LocationKind.STORE,
            city="Moscow",
            address=f"Tverskaya {n + 1}",
            opening_hours="10:00-22:00",
            is_pickup_point=True,
            accepts_returns=True,
        )
        for n in range(STORES)
    ]
    products = Product.objects.bulk_create(
        [Product(sku=f"B-{n:04d}", name=f"Item {n}", price=100 + n % 500) for n in range(PRODUCTS)]
    )
    Stock.objects.bulk_create([Stock(product=p, location=s, on_hand=ON_HAND) for s in stores for p in products])
    StockMovement.objects.bulk_create(
        [
            StockMovement(product=p, location=s, on_hand_delta=ON_HAND, reason=MovementReason.RECEIPT)
            for s in stores
            for p in products
        ],
        batch_size=5_000,
    )
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
    fixture = Fixture(raw, [(s.code, s.pk) for s in stores], [(p.sku, p.pk) for p in products], customers)
    connection.close()
    return fixture


# --- The ceiling: the order's own SQL through psycopg ------------------------------------


def _insert_sql(model, values: dict) -> tuple[str, list[str], list]:
    """An INSERT of every column of ``model`` (its defaults, ``values`` where given): the SQL,
    the names of the ``values`` left as parameters (those given as None), the fixed parameters."""
    columns, placeholders, fixed, open_names = [], [], [], []
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(f'"{field.column}"')
        name = field.attname
        if name in values and values[name] is None:
            placeholders.append("%s")
            open_names.append(name)
        elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            placeholders.append("now()")
        else:
            value = values.get(name, field.get_default())
            placeholders.append("%s")
            fixed.append(field.get_db_prep_save(value, connection))
    table = model._meta.db_table
    return f'INSERT INTO "{table}" ({", ".join(columns)}) VALUES ({", ".join(placeholders)})', open_names, fixed


def ceiling_statements() -> dict:
    """The SQL of one order, with the same columns Omni writes (its figures are not the point)."""
    order_sql, order_open, order_fixed = _insert_sql(
        Order,
        {
            "number": None,
            "channel": "site",
            "fulfilment": "click_and_collect",
            "status": "placed",
            "customer_id": None,
            "location_id": None,
        },
    )
    line_sql, line_open, line_fixed = _insert_sql(
        OrderLine,
        {
            "order_id": None,
            "product_id": None,
            "sku": "X",
            "name": "X",
            "unit_price": 100,
            "quantity": None,
            "subtotal": 100,
            "amount": 100,
            "total": 100,
        },
    )
    ledger_sql, ledger_open, ledger_fixed = _insert_sql(
        StockMovement,
        {
            "product_id": None,
            "location_id": None,
            "reserved_delta": None,
            "reason": MovementReason.RESERVATION,
            "cause_type": "ceiling",
            "created_at": None,
        },
    )
    assert order_open == ["number", "customer_id", "location_id"]
    assert line_open == ["order_id", "product_id", "quantity"]
    assert ledger_open == ["product_id", "location_id", "reserved_delta", "created_at"]
    return {
        "order": (order_sql + ' RETURNING "id"', order_fixed),
        "line": (line_sql, line_fixed),
        "ledger": (ledger_sql, ledger_fixed),
        "stock": (
            'UPDATE "inventory_stock" SET "reserved" = "reserved" + %s, "updated_at" = now() '
            'WHERE "product_id" = %s AND "location_id" = %s AND "on_hand" - "reserved" >= %s',
            [],
        ),
    }


def ceiling_client(conninfo: str, statements: dict, fixture: Fixture, case: str, count: int, seed: int, out) -> None:
    try:
        out.put(_ceiling_orders(conninfo, statements, fixture, case, count, seed))
    except BaseException as exc:
        out.put(exc)
        raise


def _ceiling_orders(conninfo: str, statements: dict, fixture: Fixture, case: str, count: int, seed: int):
    import psycopg

    rng = random.Random(seed)
    tag = uuid.uuid4().hex[:12]
    latencies, failed = [], 0
    with psycopg.connect(conninfo) as conn:
        for n in range(count):
            (_code, store), items = fixture.pick(rng, case)
            lines = sorted((pid, rng.randint(1, 2)) for _sku, pid in items)
            began = time.perf_counter()
            with conn.transaction(), conn.cursor() as cur:
                sql, fixed = statements["order"]
                customer = rng.choice(fixture.customers)
                values = {"number": f"CEIL-{tag}-{n}", "customer_id": customer, "location_id": store}
                cur.execute(sql, _bind(sql, fixed, values))
                order_id = cur.fetchone()[0]
                short = False
                for pid, qty in lines:
                    cur.execute(statements["stock"][0], [qty, pid, store, qty])
                    short |= cur.rowcount != 1
                sql, fixed = statements["line"]
                for pid, qty in lines:
                    cur.execute(sql, _bind(sql, fixed, {"order_id": order_id, "product_id": pid, "quantity": qty}))
                sql, fixed = statements["ledger"]
                for pid, qty in lines:
                    values = {"product_id": pid, "location_id": store, "reserved_delta": qty, "created_at": "now"}
                    cur.execute(sql, _bind(sql, fixed, values))
                if short:
                    failed += 1
                    raise psycopg.Rollback()
            latencies.append(time.perf_counter() - began)
    return latencies, failed


def _bind(sql: str, fixed: list, open_values: dict) -> list:
    """Merge the fixed parameters and the open ones in the order their columns appear."""
    cached = _BIND_PLANS.get(sql)
    if cached is None:
        columns = sql[sql.index("(") + 1 : sql.index(")")].replace('"', "").split(", ")
        placeholders = sql[sql.index("VALUES (") + 8 : sql.rindex(")")].split(", ")
        cached = [(column, placeholder) for column, placeholder in zip(columns, placeholders, strict=True)]
        _BIND_PLANS[sql] = cached
    fixed_iter = iter(fixed)
    params = []
    for column, placeholder in cached:
        if placeholder != "%s":
            continue
        name = column if column in open_values else None
        if name is None:
            params.append(next(fixed_iter))
        else:
            value = open_values[name]
            params.append(datetime.datetime.now(datetime.UTC) if value == "now" else value)
    return params


_BIND_PLANS: dict = {}


def run_ceiling(fixture: Fixture, case: str, clients: int, orders: int) -> dict:
    """The order's SQL in ``clients`` processes at once; orders/s and latencies."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    conninfo = (
        f"host={db['HOST'] or HOST} port={db['PORT'] or 5432} dbname={db['NAME']} user={db['USER'] or 'postgres'}"
    )
    if db.get("PASSWORD"):
        conninfo += f" password={db['PASSWORD']}"
    statements = ceiling_statements()
    connection.close()
    context = multiprocessing.get_context("fork")
    out = context.Queue()
    each = max(1, orders // clients)
    processes = [
        context.Process(target=ceiling_client, args=(conninfo, statements, fixture, case, each, seed, out))
        for seed in range(clients)
    ]
    began = time.perf_counter()
    for process in processes:
        process.start()
    results = [out.get() for _process in processes]
    errors = [result for result in results if isinstance(result, BaseException)]
    if errors:
        raise errors[0]
    seconds = time.perf_counter() - began
    for process in processes:
        process.join()
    latencies = [value for result, _failed in results for value in result]
    failed = sum(failed for _result, failed in results)
    return {"orders": len(latencies) - failed, "seconds": seconds, "latencies": latencies, "failed": failed}


# --- Omni over HTTP ---------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def start_celery_worker() -> subprocess.Popen:
    """One Celery worker process on the bench's broker, as a deployment runs beside its web workers."""
    from celery import current_app

    current_app.control.purge()
    cache.clear()
    command = [sys.executable, "-m", "celery", "-A", "omni", "worker", "--pool", "solo", "--loglevel", "WARNING"]
    return subprocess.Popen(command, env={**os.environ, "DEBUG": "0"})


def start_gunicorn(port: int, workers: int, *, eager: bool = False) -> subprocess.Popen:
    env = {**os.environ, "DEBUG": "0", "LOG_LEVEL": "WARNING"}
    if eager:
        env["CELERY_BROKER_URL"] = env["REDIS_URL"] = ""  # no broker: tasks run in the request
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
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            conn = HTTPConnection(HOST, port, timeout=2)
            conn.request("GET", "/api/v1/health/")
            if conn.getresponse().status == 200:
                return process
        except OSError:
            time.sleep(0.2)
    process.terminate()
    sys.exit("gunicorn did not start within 120 s")


def run_clients(port: int, fixture: Fixture, case: str, requests: int, clients: int) -> dict:
    """``clients`` threads share ``requests`` orders; orders placed, statuses, latencies."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    left = iter(range(requests))
    start = threading.Barrier(clients + 1)

    def client(seed: int) -> None:
        rng = random.Random(seed)
        conn = HTTPConnection(HOST, port, timeout=60)
        headers = {"Authorization": f"Api-Key {fixture.key}", "Content-Type": "application/json"}
        start.wait()
        while True:
            with lock:
                if next(left, None) is None:
                    break
            (store, _pk), items = fixture.pick(rng, case)
            body = {
                "channel": "site",
                "fulfilment": "click_and_collect",
                "customer": rng.choice(fixture.customers),
                "pickup_location": store,
                "lines": [{"sku": sku, "quantity": rng.randint(1, 2)} for sku, _pid in items],
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
    seconds = time.perf_counter() - began
    return {"orders": statuses.get(201, 0), "seconds": seconds, "latencies": latencies, "statuses": statuses}


def line(label: str, result: dict) -> str:
    ms = [value * 1000 for value in result["latencies"]] or [0.0]
    rate = result["orders"] / result["seconds"]
    return f"   {label:<16} {rate:8.1f} orders/s   p50 {percentile(ms, 50):7.1f} ms   p95 {percentile(ms, 95):7.1f} ms"


def oversold() -> int:
    """Stock rows holding more reserved than on hand, or less than nothing."""
    with connection.cursor() as cursor:
        cursor.execute('SELECT count(*) FROM "inventory_stock" WHERE "reserved" > "on_hand" OR "reserved" < 0')
        return cursor.fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=600, help="orders to place over HTTP in each case")
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients (HTTP and ceiling alike)")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn worker processes")
    parser.add_argument("--ceiling-orders", type=int, default=3000, help="orders of the ceiling, each time")
    parser.add_argument("--cases", default="hot,spread", help="hot, spread or both")
    parser.add_argument("--eager", action="store_true", help="no broker: each request runs its tasks itself")
    args = parser.parse_args()

    print(f"Machine: {machine()}")
    fixture = prepare()
    port = free_port()
    worker = None if args.eager else start_celery_worker()
    server = start_gunicorn(port, args.workers, eager=args.eager)
    results = {}
    try:
        run_clients(port, fixture, "spread", requests=min(50, args.requests), clients=args.clients)  # warm-up
        for case in args.cases.split(","):
            before = run_ceiling(fixture, case, args.clients, args.ceiling_orders)
            omni = run_clients(port, fixture, case, requests=args.requests, clients=args.clients)
            after = run_ceiling(fixture, case, args.clients, args.ceiling_orders)
            results[case] = (before, omni, after)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        if worker is not None:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=30)
            from celery import current_app

            current_app.control.purge()
    tasks = "run in each request" if args.eager else "queued to Redis, one Celery worker"
    print(
        f"\nPOST /api/v1/orders/ — click-and-collect, 3 lines, {POINTS_PER_ORDER} points redeemed, Idempotency-Key; "
        f"gunicorn {args.workers} sync workers on {HOST}, tasks {tasks}, {args.clients} concurrent clients, "
        f"{args.requests} requests per case; the ceiling: the order's SQL through psycopg, {args.clients} "
        f"processes, {args.ceiling_orders} orders before and after"
    )
    for case, (before, omni, after) in results.items():
        ceiling = (before["orders"] + after["orders"]) / (before["seconds"] + after["seconds"])
        share = omni["orders"] / omni["seconds"] / ceiling
        refused = before["failed"] + after["failed"]
        print(f"\n {case}: statuses {dict(sorted(omni['statuses'].items()))}; ceiling short of stock {refused}")
        print(line("ceiling before", before))
        print(line("Omni over HTTP", omni))
        print(line("ceiling after", after))
        print(f"   Omni / ceiling: {share:.1%}")
    notices = dict(Message.objects.values_list("status").annotate(n=Count("id")).order_by())
    print(f"\n notices by status when the run ended: {notices}")
    print(f" oversold stock rows: {oversold()}")
    discrepancies = stock_discrepancies()
    points = points_discrepancies()
    print(f" stock ledger discrepancies: {len(discrepancies)}; points ledger discrepancies: {len(points)}")
    print(f" {Order.objects.exclude(number__startswith='CEIL-').count()} orders placed through Omni")
    assert not discrepancies and not points and oversold() == 0, "the ledgers do not balance"


if __name__ == "__main__":
    main()
