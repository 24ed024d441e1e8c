"""RFM benchmark: the nightly pass over 1,000,000 customers' summaries, beside its ceiling.

On PostgreSQL, in-process, on a database whose name contains "bench" (migrated here). The
customers' summaries (``omni_customersales``) are generated set-based in SQL: orders per customer
skewed towards one (as in a shop), money growing with them, last purchases spread over three
years (a third outside the default 24-month window). The summaries carry no constraint to the
customers, and the pass reads nothing else, so no customer rows are made.

1. The nightly pass, ``omni.reports.rfm.rfm_compute`` (lock, sort memory, delete last night's
   rows, one INSERT ... SELECT), run ``--runs`` times: each run replaces a full table.
2. The ceiling: the bare SELECT with NTILE(5) alone over the same summaries, the three figures,
   through psycopg with the same sort memory, its rows counted in the database (no transfer).
3. Where the rest goes: the pass's own SELECT (ties, window, naming) counted the same way.

Usage:

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/omni_rfm_bench python -m bench.rfm [--customers 1000000]
"""

import argparse
import os
import platform
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
from django.db.models import Count  # noqa: E402
from django.utils import timezone  # noqa: E402

from omni.reports import rfm  # noqa: E402
from omni.reports.models import CustomerRfm, CustomerSales  # noqa: E402

CEILING_SQL = """
    SELECT count(*), sum(r + f + m) FROM (
        SELECT NTILE(5) OVER (ORDER BY last_completed_at) AS r,
               NTILE(5) OVER (ORDER BY orders) AS f,
               NTILE(5) OVER (ORDER BY revenue) AS m
        FROM omni_customersales
    ) AS tiles
"""


def machine() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0]
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, PostgreSQL {pg}"


def prepare(customers: int) -> None:
    name = settings.DATABASES["default"]["NAME"]
    if connection.vendor != "postgresql" or "bench" not in name:
        sys.exit(f"Refusing to run: the database must be PostgreSQL with 'bench' in its name (got {name!r}).")
    call_command("migrate", verbosity=0)
    if CustomerSales.objects.count() == customers:
        return
    print(f"Generating {customers} customers' summaries...")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM omni_customersales")
        cursor.execute(
            """
            INSERT INTO omni_customersales
                (customer_id, orders, revenue, first_completed_at, last_completed_at, channels)
            SELECT g, n, round((n * (500 + random() * 4500))::numeric, 2),
                   last - make_interval(days => n * 30), last, 1 + (random() * 2)::int
            FROM (
                SELECT g, 1 + floor(-ln(1 - random()) * 1.5)::int AS n,
                       now() - make_interval(secs => random() * 3 * 365 * 86400) AS last
                FROM generate_series(1, %s) AS g
            ) AS figures
            """,
            [customers],
        )
        cursor.execute("ANALYZE omni_customersales")


def pass_runs(runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        rfm.rfm_compute()
        times.append(time.perf_counter() - started)
    return times


def counted(sql: str, params=(), runs: int = 3) -> list[float]:
    """``sql`` run through psycopg in a transaction with the pass's sort memory: seconds per run."""
    raw = connection.cursor().connection  # psycopg's connection
    times = []
    for _ in range(runs):
        with raw.transaction(), raw.cursor() as cursor:
            cursor.execute("SELECT set_config('work_mem', %s, true)", [settings.REPORTS_DB_WORK_MEM])
            started = time.perf_counter()
            cursor.execute(sql, params)
            cursor.fetchall()
            times.append(time.perf_counter() - started)
    return times


def pass_select() -> tuple[str, list]:
    """The pass's own SELECT, counted in the database instead of inserted."""
    now = timezone.now()
    sql, params = rfm._insert_sql(rfm.window_start(now), now)
    select = sql[sql.index("SELECT") :]
    return (
        f"SELECT count(*), count(DISTINCT segment) FROM ({select}) AS named(customer_id, r, f, m, segment, at)",
        params,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    prepare(args.customers)
    print(machine())
    print(f"load: {os.getloadavg()}")
    print(f"work_mem of the pass: {settings.REPORTS_DB_WORK_MEM}")

    passes = pass_runs(args.runs)
    per_segment = dict(CustomerRfm.objects.values_list("segment").annotate(n=Count("pk")).order_by())
    print(f"customers scored: {sum(per_segment.values())}; per segment: {per_segment}")
    print(f"nightly pass (delete + one INSERT ... SELECT), s: {', '.join(f'{t:.2f}' for t in passes)}")

    ceiling = counted(CEILING_SQL)
    print(f"ceiling, bare SELECT with NTILE(5) alone, s: {', '.join(f'{t:.2f}' for t in ceiling)}")
    select = counted(*pass_select())
    print(f"the pass's SELECT alone (ties, window, names), s: {', '.join(f'{t:.2f}' for t in select)}")
    best_pass, best_ceiling = min(passes), min(ceiling)
    print(
        f"best: pass {best_pass:.2f} s ({args.customers / best_pass:,.0f} customers/s), ceiling {best_ceiling:.2f} s, "
        f"pass / ceiling: {best_pass / best_ceiling:.2f}; the pass's SELECT / ceiling: {min(select) / best_ceiling:.2f}"
    )


if __name__ == "__main__":
    main()
