"""NPS figures benchmark: ``nps_cube`` (one aggregate query by store, channel and month) on many
requests, beside the same SQL run through psycopg.

On PostgreSQL, in-process, on a database whose name contains "bench" (migrated here). Orders come
from ``manage.py generate_load_data``; every completed order with a customer gets a sent request
(sent two hours after completion) and a third of them an answer (a score drawn from the order's
id), written set-based with INSERT ... SELECT. Then, for a year, a month and one store's year:

- ``nps_cube`` through the ORM, rows turned into cells (the median of 5 runs);
- the ceiling: the SQL it ran, captured, executed through psycopg with ``fetchall`` (the median of
  5 runs); the ratio is the ORM's overhead.

Usage:

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/omni_nps_bench python -m bench.nps [--orders 200000]
"""

import argparse
import datetime
import os
import platform
import statistics
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "omni.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")

import warnings

import django

warnings.filterwarnings("ignore", message="No directory at")

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from omni.marketing.models import NpsRequest  # noqa: E402
from omni.marketing.nps_figures import nps_cube, nps_total  # noqa: E402
from orders.models import Order  # noqa: E402

RUNS = 5


def machine() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0]
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, PostgreSQL {pg}"


def prepare(orders: int) -> int:
    name = settings.DATABASES["default"]["NAME"]
    if connection.vendor != "postgresql" or "bench" not in name:
        sys.exit(f"Refusing to run: the database must be PostgreSQL with 'bench' in its name (got {name!r}).")
    call_command("migrate", verbosity=0)
    have = Order.objects.count()
    if have < orders:
        print(f"Generating {orders - have} orders (have {have})...")
        call_command("generate_load_data", orders=orders - have, customers=max(orders // 5, 1000), days=365, quiet=True)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE marketing_npsrequest SET feedback_id = NULL")
        cursor.execute("DELETE FROM customers_feedback WHERE order_ref IN (SELECT number FROM orders_order)")
        cursor.execute("DELETE FROM marketing_npsrequest")
        cursor.execute(
            """
            INSERT INTO marketing_npsrequest
                (created_at, updated_at, order_id, customer_id, store_id, channel, status, reason,
                 due_at, sent_via, sent_at)
            SELECT o.completed_at, o.completed_at, o.id, o.customer_id, o.location_id, o.channel, 'sent', '',
                   o.completed_at + interval '2 hours', 'sms', o.completed_at + interval '2 hours'
            FROM orders_order o
            WHERE o.status IN ('sold', 'collected', 'delivered') AND o.customer_id IS NOT NULL
              AND o.completed_at IS NOT NULL
            """
        )
        cursor.execute(
            """
            INSERT INTO customers_feedback (created_at, updated_at, customer_id, score, comment, channel, store_id,
                                            order_ref)
            SELECT r.sent_at, r.sent_at, r.customer_id, (o.id * 7919) % 11, '', 'sms', r.store_id, o.number
            FROM marketing_npsrequest r JOIN orders_order o ON o.id = r.order_id
            WHERE o.id % 3 = 0
            """
        )
        cursor.execute(
            """
            UPDATE marketing_npsrequest r SET feedback_id = f.id, status = 'answered', answered_at = f.created_at
            FROM customers_feedback f JOIN orders_order o ON o.number = f.order_ref
            WHERE r.order_id = o.id
            """
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE marketing_npsrequest")
        cursor.execute("ANALYZE customers_feedback")
    return NpsRequest.objects.count()


def median_ms(work) -> float:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        work()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def measure(label: str, **filters) -> None:
    with CaptureQueriesContext(connection) as captured:
        cells = nps_cube(**filters)
    [query] = captured.captured_queries
    sql = query["sql"]
    orm = median_ms(lambda: nps_cube(**filters))
    raw = connection.connection  # the psycopg connection under Django's

    def ceiling():
        with raw.cursor() as cursor:
            cursor.execute(sql)
            cursor.fetchall()

    floor = median_ms(ceiling)
    total = nps_total(cells)
    print(
        f"| {label} | {total.sent:,} | {total.answered:,} | {len(cells):,} | {orm:.1f} | {floor:.1f} | "
        f"{orm / floor:.2f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=200_000)
    args = parser.parse_args()
    requests = prepare(args.orders)
    print(machine())
    print(f"{requests:,} NPS requests; median of {RUNS} runs each")
    today = timezone.localdate()
    store_id = NpsRequest.objects.exclude(store=None).values_list("store_id", flat=True).first()
    print("| period | requests sent | answered | cells | nps_cube ms | same SQL, psycopg ms | ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    measure("a year", date_from=today - datetime.timedelta(days=364), date_to=today)
    measure("a month", date_from=today - datetime.timedelta(days=29), date_to=today)
    measure("one store, a year", date_from=today - datetime.timedelta(days=364), date_to=today, store_id=store_id)


if __name__ == "__main__":
    main()
