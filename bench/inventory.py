"""Inventory benchmarks on PostgreSQL.

1. Reservation throughput on one hot SKU at one location, with 1, 2, 4 and 8 worker processes
   each reserving one unit at a time through ``inventory.services.stock_reserve`` (row lock,
   update, ledger row, commit) — the path every order takes.
2. Availability of 50 SKUs across 200 locations among 10,000 products (2,000,000 stock rows),
   through the selector, and ``GET /api/v1/availability/`` over HTTP against gunicorn (one sync
   worker, one client), next to its query alone: the figures' SQL (SKU, location, units) through
   psycopg, rows fetched, in the same run (the ceiling the endpoint is compared with). The
   endpoint's own query, where the database writes the JSON of each SKU's locations, is timed
   beside them.

Usage (the database is emptied and filled; its name must contain "bench"; ``--only availability``
keeps a catalogue filled by an earlier run):

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/omni_bench python -m bench.inventory
"""

import argparse
import io
import multiprocessing
import os
import platform
import random
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "omni.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("API_THROTTLE_RATE", "1000000/minute")  # the throttle counts every request, refuses none

import warnings

import django

warnings.filterwarnings("ignore", message="No directory at")  # WhiteNoise: collectstatic not run

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from bench.server import Gunicorn  # noqa: E402
from inventory.models import Location, Product, Stock  # noqa: E402
from inventory.selectors import availability, availability_json_parts, availability_sql  # noqa: E402
from inventory.services import Cause, ProductQuantity, StockLine, stock_receive, stock_reserve  # noqa: E402
from omni.core.services import api_key_create  # noqa: E402

PRODUCTS = 10_000
LOCATIONS = 200
SKUS_PER_LOOKUP = 50


def machine() -> str:
    cpus = os.cpu_count()
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0]
    return f"{platform.machine()}, {cpus} cores, Python {platform.python_version()}, PostgreSQL {pg}"


def reset_database(*, keep_catalogue: bool) -> bool:
    """Migrate and empty the database; True when a catalogue filled earlier was kept instead."""
    name = settings.DATABASES["default"]["NAME"]
    if connection.vendor != "postgresql" or "bench" not in name:
        sys.exit(f"Refusing to run: the database must be PostgreSQL with 'bench' in its name (got {name!r}).")
    call_command("migrate", verbosity=0)
    if keep_catalogue and Stock.objects.filter(product__sku="P00000").count() == LOCATIONS:
        return True
    call_command("flush", interactive=False, verbosity=0)
    return False


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


# --- 1. Reservations on one hot SKU ------------------------------------------------------


def _reserve_worker(args) -> tuple[int, list[float]]:
    product_id, location_id, seconds, worker = args
    connection.close()  # a fresh connection per process
    latencies, deadline, n = [], time.perf_counter() + seconds, 0
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        stock_reserve(lines=[StockLine(product_id, location_id, 1)], cause=Cause("bench", f"{worker}-{n}"))
        latencies.append(time.perf_counter() - started)
        n += 1
    connection.close()
    return n, latencies


def bench_hot_sku(seconds: float) -> None:
    location = Location.objects.create(code="HOT", name="Hot store", kind="store", city="Moscow")
    product = Product.objects.create(sku="HOT-SKU", name="The one everybody wants", price=100)
    stock_receive(location=location, lines=[ProductQuantity(product.pk, 10_000_000)], number="HOT")
    connection.close()
    print(f"\n1. Reserving one unit at a time of one SKU at one location ({seconds:.0f} s per run)")
    print(f"   {'workers':>7} {'reservations/s':>15} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    ctx = multiprocessing.get_context("fork")
    for workers in (1, 2, 4, 8):
        with ctx.Pool(workers) as pool:
            results = pool.map(_reserve_worker, [(product.pk, location.pk, seconds, w) for w in range(workers)])
        total = sum(n for n, _ in results)
        latencies = [lat * 1000 for _, lats in results for lat in lats]
        print(
            f"   {workers:>7} {total / seconds:>15.0f} {percentile(latencies, 50):>8.2f} "
            f"{percentile(latencies, 95):>8.2f} {percentile(latencies, 99):>8.2f}"
        )
    stock = Stock.objects.get(product=product, location=location)
    assert stock.reserved <= stock.on_hand


# --- 2. Availability lookup --------------------------------------------------------------


def _copy(table: str, columns: list[str], rows) -> None:
    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join(str(value) for value in row) + "\n")
    buffer.seek(0)
    with (
        connection.cursor() as cursor,
        cursor.connection.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
    ):
        copy.write(buffer.read())


def fill_catalogue() -> list[str]:
    """10,000 products and 200 locations, each holding every product: 2,000,000 stock rows.

    Written with COPY for speed, bypassing the services: this data set measures reads only.
    """
    started = time.perf_counter()
    now = "2026-01-01 00:00:00+00"
    _copy(
        "inventory_location",
        [
            "code",
            "name",
            "kind",
            "city",
            "address",
            "opening_hours",
            "is_pickup_point",
            "accepts_returns",
            "ships_orders",
            "is_active",
            "created_at",
            "updated_at",
        ],
        (
            (
                f"L{n:03d}",
                f"Store {n}",
                "store" if n % 10 else "warehouse",
                f"City {n % 20}",
                "",
                "",
                "t",
                "t",
                "f" if n % 10 else "t",
                "t",
                now,
                now,
            )
            for n in range(LOCATIONS)
        ),
    )
    _copy(
        "inventory_product",
        ["sku", "name", "description", "unit", "price", "is_active", "external_id", "created_at", "updated_at"],
        ((f"P{n:05d}", f"Product {n}", "", "pcs", "990.00", "t", "", now, now) for n in range(PRODUCTS)),
    )
    product_ids = list(Product.objects.filter(sku__startswith="P").values_list("pk", flat=True))
    location_ids = list(Location.objects.filter(code__startswith="L").values_list("pk", flat=True))
    rng = random.Random(1)
    _copy(
        "inventory_stock",
        ["product_id", "location_id", "on_hand", "reserved", "min_quantity", "updated_at"],
        ((p, loc, (q := rng.randint(0, 20)), rng.randint(0, q), 0, now) for p in product_ids for loc in location_ids),
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE inventory_stock; ANALYZE inventory_product; ANALYZE inventory_location")
    print(
        f"\n   (filled {PRODUCTS:,} products × {LOCATIONS} locations = {PRODUCTS * LOCATIONS:,} stock rows "
        f"in {time.perf_counter() - started:.1f} s)"
    )
    return [f"P{n:05d}" for n in range(PRODUCTS)]


def time_calls(fn, runs: int) -> list[float]:
    fn()  # warm up
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def query_alone(skus: list[str]) -> list[tuple]:
    """The selector's SQL through psycopg, every row fetched: what the endpoint is compared with."""
    sql, params = availability_sql(skus=skus)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def bench_availability(runs: int, *, filled: bool) -> None:
    skus = [f"P{n:05d}" for n in range(PRODUCTS)] if filled else fill_catalogue()
    rng = random.Random(2)
    batches = [rng.sample(skus, SKUS_PER_LOOKUP) for _ in range(runs + 1)]
    figures = len(query_alone(batches[0]))
    print(
        f"\n2. Availability of {SKUS_PER_LOOKUP} SKUs across {LOCATIONS} locations ({figures:,} figures; "
        f"{runs} lookups, random SKUs)"
    )
    print(f"   {'path':<52} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")

    def report(label, timings):
        print(f"   {label:<52} {percentile(timings, 50):>8.1f} {percentile(timings, 95):>8.1f} {max(timings):>8.1f}")

    batch = iter(batches * 3)
    report("selector (one query)", time_calls(lambda: availability(skus=next(batch)), runs))
    report("selector, one city", time_calls(lambda: availability(skus=next(batch), city="City 3"), runs))

    key, raw = api_key_create(name=f"bench-{time.time_ns()}", scopes=["catalog:read"])
    connection.close()
    headers = {"Authorization": f"Api-Key {raw}"}
    alone, its_own, endpoint = [], [], []
    with Gunicorn(workers=1) as server:
        for n, skus_asked in enumerate(batches * 2):  # interleaved, so that the machine's load falls on all
            alone_ms = timed_ms(query_alone, skus_asked)
            its_own_ms = timed_ms(lambda skus: availability_json_parts(skus=skus), skus_asked)
            timing = server.timed("GET", "/api/v1/availability/", [({"sku": skus_asked}, None)], headers=headers)
            if n >= 20:  # the first requests warm the worker up
                alone.append(alone_ms)
                its_own.append(its_own_ms)
                endpoint += timing
    key.revoke()
    report("the query alone (psycopg, rows fetched)", alone)
    report("the endpoint's query (the database writes JSON)", its_own)
    report("GET /api/v1/availability/ (gunicorn, 1 worker)", endpoint)
    ratio = percentile(endpoint, 95) / percentile(alone, 95)
    print(f"   endpoint p95 / query alone p95: {ratio:.2f} (target: at most 1.5)")
    print(f"   endpoint p95 / its own query p95: {percentile(endpoint, 95) / percentile(its_own, 95):.2f}")


def timed_ms(fn, *args) -> float:
    started = time.perf_counter()
    fn(*args)
    return (time.perf_counter() - started) * 1000


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10, help="duration of each reservation run")
    parser.add_argument("--runs", type=int, default=200, help="availability lookups per path")
    parser.add_argument("--only", choices=["reservations", "availability"], help="run one part only")
    args = parser.parse_args()
    filled = reset_database(keep_catalogue=args.only == "availability")
    print(f"Inventory benchmark — {machine()}")
    if args.only != "availability":
        bench_hot_sku(args.seconds)
    if args.only != "reservations":
        bench_availability(args.runs, filled=filled)


if __name__ == "__main__":
    main()
