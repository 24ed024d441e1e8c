"""Reports benchmark: the managers' dashboard and exports of a million order lines on PostgreSQL.

The script fills a PostgreSQL database (its name must contain "bench") with
``generate_load_data`` — 200,000 customers, 1,000,000 orders, about 3,000,000 lines — unless it
already holds that many orders (generation takes minutes; ``--regenerate`` forces it), then:

1. rebuilds the report summaries if they are empty (or with ``--rebuild-summaries``), times
   folding one changed order into them, then times the dashboard (every section, as head office)
   for the last year, the last month, and a year that has ended: each section, the selectors
   alone, and the whole admin page rendered through the test client;
2. exports 1,000,000 order lines to CSV and to XLSX with the writer of the export jobs
   (``omni.reports.exports.services.write_rows``: COPY for CSV; ``bench/exports.py`` compares the
   export paths in detail), each in a child process, printing the time and
   the peak memory (the child's ``VmHWM``, and its resident size before the export), and
   the same at 100,000 and 300,000 rows to show that memory does not grow with the rows;
3. exports the same rows with plain django-import-export (``Resource.export()`` into a tablib
   Dataset, then ``dataset.export(format)``) at 100,000 and 200,000 rows — at a million it needs
   gigabytes — to show how its time and memory grow.

Usage:

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/omni_reports_bench python -m bench.reports \
        [--customers 200000] [--orders 1000000] [--regenerate] [--rows 1000000] [--plain-rows 100000,200000]

Measured on 2026-11-24 (x86_64, 2 cores, 24 GiB, Python 3.11, PostgreSQL 15 with default settings;
1,000,000 orders, 2,999,336 lines, 200,000 customers, generated in 521 s, summaries included):

    dashboard page, computed from the report summaries: last 365 days 0.93-1.2 s, last 30 days
      0.44-0.58 s; 365 days that ended a month ago (customers from the orders): 2.4-3.4 s;
      from the cache: 40 ms
    folding one changed order into the summaries: 21-27 ms (quiet), up to 111 ms (busy)
    streaming and plain exports: see bench/RESULTS.md

The figures are recorded in bench/RESULTS.md (the dashboard after issue 15's changes under
"Dashboard on 1,000,000 orders"). For each period it also prints how much of the best run was
spent inside the database driver's execute: the SQL, the ceiling of the same run.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "omni.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")

import warnings

import django

warnings.filterwarnings("ignore", message="No directory at")  # WhiteNoise: collectstatic not run


def ensure_database() -> None:
    """Create the bench database if it does not exist yet (connecting to the server's ``postgres``)."""
    import dj_database_url
    import psycopg

    config = dj_database_url.parse(os.environ.get("DATABASE_URL", ""))
    name = config.get("NAME") or ""
    if "postgresql" not in config.get("ENGINE", "") or "bench" not in name:
        sys.exit(f"Refusing to run: DATABASE_URL must name a PostgreSQL database with 'bench' in it (got {name!r}).")
    params = {
        "host": config["HOST"] or "127.0.0.1",
        "port": config["PORT"] or 5432,
        "user": config["USER"] or "postgres",
    }
    if config.get("PASSWORD"):
        params["password"] = config["PASSWORD"]
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def _status_mb(field: str) -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    return 0.0


def rss_mb() -> float:
    return _status_mb("VmRSS")


def peak_mb() -> float:
    """This process's peak resident size. Not ``ru_maxrss``: Linux carries into it the size of
    the process that spawned this one (the parent's memory at the fork), which hid the exports'
    own figures below the parent's size."""
    return _status_mb("VmHWM")


# --- In a child process: one export, measured -------------------------------------------


def child(mode: str, file_format: str, rows: int) -> None:
    django.setup()
    from omni.reports.exports.resources import OrderLineExportResource
    from omni.reports.exports.services import write_rows
    from orders.models import OrderLine

    queryset = OrderLine.objects.select_related("order", "order__location").order_by("id")[:rows]
    baseline = rss_mb()
    started = time.perf_counter()
    with tempfile.NamedTemporaryFile(suffix=f".{file_format}") as target:
        if mode == "stream":
            written = write_rows(OrderLineExportResource(), queryset, file_format, target)
        else:
            dataset = OrderLineExportResource().export(queryset=queryset)
            content = dataset.export(file_format)
            target.write(content.encode() if isinstance(content, str) else content)
            written = len(dataset)
        target.flush()
        size = os.path.getsize(target.name)
    seconds = time.perf_counter() - started
    print(
        json.dumps({"rows": written, "seconds": seconds, "baseline_mb": baseline, "peak_mb": peak_mb(), "bytes": size})
    )


def run_child(mode: str, file_format: str, rows: int) -> dict:
    result = subprocess.run(
        [sys.executable, "-m", "bench.reports", "--child", mode, file_format, str(rows)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        return {"error": result.stderr.strip().splitlines()[-1] if result.stderr.strip() else "failed"}
    return json.loads(result.stdout.strip().splitlines()[-1])


# --- The dashboard -----------------------------------------------------------------------


def time_it(function, repeat: int = 3) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return times


def dashboard_timings(days: int, *, ended_days_ago: int = 0) -> None:
    import datetime

    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection, reset_queries
    from django.test import Client, override_settings
    from django.utils import timezone

    from omni.reports import selectors
    from omni.reports.filters import ReportFilters

    today = timezone.localdate() - datetime.timedelta(days=ended_days_ago)
    filters = ReportFilters(
        date_from=today - datetime.timedelta(days=days - 1), date_to=today, churn_days=settings.REPORTS_CHURN_DAYS
    )
    empty = selectors.SalesCube([], "day")
    with selectors.report_session():
        customer_sums = selectors.customer_totals(filters)  # the dashboard shares them with loyalty
    sections = {
        "sales": lambda: selectors.sales_figures(filters, cube=selectors.sales_cube(filters)),
        "products": lambda: selectors.product_sales(filters),
        "customers": lambda: selectors.customer_figures(filters),
        "click_and_collect": lambda: selectors.click_and_collect(filters),
        "returns": lambda: selectors.returns(filters, empty),
        "loyalty": lambda: selectors.loyalty(filters, customer_sums),
        "stock": lambda: selectors.stock(filters),
    }
    summarised = (
        "customers from their summaries"
        if selectors.whole_history_summarised(filters)
        else ("customers from the orders: the period has ended")
    )
    print(f"\nDashboard, {days} days ({filters.date_from} to {filters.date_to}), head office, {summarised}:")
    for name, function in sections.items():

        def in_session(function=function):
            with selectors.report_session():
                function()

        times = time_it(in_session)
        print(f"  {name:<18} best {min(times) * 1000:7.0f} ms   median {statistics.median(times) * 1000:7.0f} ms")
    # The ceiling: the time the same run spends inside the database driver's execute (the SQL).
    in_sql: list[float] = []

    def timed_execute(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            in_sql[-1] += time.perf_counter() - started

    def whole_dashboard():
        in_sql.append(0.0)
        with connection.execute_wrapper(timed_execute):
            selectors.dashboard(filters)

    settings.DEBUG = True
    reset_queries()
    times = time_it(whole_dashboard)
    queries = len(connection.queries) // 3
    settings.DEBUG = False
    best = times.index(min(times))
    print(
        f"  {'all selectors':<18} best {min(times) * 1000:7.0f} ms   median {statistics.median(times) * 1000:7.0f} ms"
        f"   ({queries} queries; the best run spent {in_sql[best] * 1000:.0f} ms in SQL, "
        f"{in_sql[best] / times[best]:.0%} of it)"
    )
    user, _created = get_user_model().objects.get_or_create(
        username="bench-head-office", defaults={"is_staff": True, "is_superuser": True}
    )
    client = Client()
    client.force_login(user)
    query = {"date_from": filters.date_from.isoformat(), "date_to": filters.date_to.isoformat()}

    def page(refresh: bool):
        response = client.get("/admin/reports/dashboard/", {**query, **({"refresh": "1"} if refresh else {})})
        assert response.status_code == 200, response.status_code

    # The page through the test client: plain static files storage (collectstatic is not run here).
    storages = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with override_settings(STORAGES=storages):
        cold = time_it(lambda: page(True))
        warm = time_it(lambda: page(False))
    for label, times in (("admin page, computed", cold), ("admin page, cached", warm)):
        print(f"  {label:<18} best {min(times) * 1000:7.0f} ms   median {statistics.median(times) * 1000:7.0f} ms")


def summary_sizes() -> None:
    from omni.reports.models import CustomerSales, DailyProductSales, DailySales, MonthlyProductSales

    sizes = ", ".join(
        f"{model._meta.verbose_name_plural} {model.objects.count():,}"
        for model in (DailySales, DailyProductSales, MonthlyProductSales, CustomerSales)
    )
    print(f"Report summary rows: {sizes}.")


def refresh_timings(changes: int = 30) -> None:
    """What one change to a completed order costs the summaries: record the change of a random
    completed order (as its save does) and fold it in, ``changes`` times. (Saving the order itself
    would fold it in at once: the Celery task runs in-process here.)"""
    from omni.reports.models import SummaryChange
    from omni.reports.summaries import day_of, summaries_refresh_pending
    from orders.models import COMPLETED_STATUSES, Order

    orders = list(Order.objects.filter(status__in=COMPLETED_STATUSES).order_by("?")[:changes])
    times = []
    for order in orders:
        SummaryChange.objects.create(
            day=day_of(order.completed_at), location_id=order.location_id, customer_id=order.customer_id
        )
        started = time.perf_counter()
        summaries_refresh_pending()
        times.append(time.perf_counter() - started)
    print(
        f"Folding one changed order into the summaries (its day at its location, and its customer): "
        f"best {min(times) * 1000:.0f} ms, median {statistics.median(times) * 1000:.0f} ms"
    )


# The indexes the report queries would use, as the orders app's migrations should add them (see the
# report of issue 6). ``--indexes`` creates them in the bench database only, to measure their effect.
RECOMMENDED_INDEXES = [
    "CREATE INDEX IF NOT EXISTS bench_order_completed_cover ON orders_order (completed_at) "
    "INCLUDE (status, channel, location_id, created_by_id, fulfilment, customer_id, paid, refunded) "
    "WHERE status IN ('collected', 'delivered', 'sold')",
    "CREATE INDEX IF NOT EXISTS bench_order_customer_completed ON orders_order (customer_id, completed_at) "
    "INCLUDE (channel, paid, refunded, location_id) "
    "WHERE status IN ('collected', 'delivered', 'sold') AND customer_id IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS bench_orderline_order_cover ON orders_orderline (order_id) "
    "INCLUDE (product_id, quantity, refused_quantity, returned_quantity, unit_price)",
    "CREATE INDEX IF NOT EXISTS bench_order_ready ON orders_order (ready_at) WHERE fulfilment = 'click_and_collect'",
    "CREATE STATISTICS IF NOT EXISTS bench_order_dims (ndistinct) ON channel, location_id, created_by_id, fulfilment "
    "FROM orders_order",
]


def create_indexes() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for statement in RECOMMENDED_INDEXES:
            started = time.perf_counter()
            cursor.execute(statement)
            print(f"  {time.perf_counter() - started:5.1f} s  {statement[:100]}")
        cursor.execute("VACUUM ANALYZE orders_order")
        cursor.execute("VACUUM ANALYZE orders_orderline")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--regenerate", action="store_true", help="Empty the database and generate again.")
    parser.add_argument("--rows", type=int, default=1_000_000, help="Order lines to export.")
    parser.add_argument("--flat-rows", default="100000,300000", help="Smaller streaming exports, to compare memory.")
    parser.add_argument("--plain-rows", default="100000,200000", help="Rows for the plain django-import-export export.")
    parser.add_argument("--skip-exports", action="store_true")
    parser.add_argument("--skip-dashboard", action="store_true")
    parser.add_argument("--rebuild-summaries", action="store_true", help="Rebuild the report summaries, timed.")
    parser.add_argument("--indexes", action="store_true", help="Create the recommended indexes first (bench only).")
    parser.add_argument("--child", nargs=3, metavar=("MODE", "FORMAT", "ROWS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], int(args.child[2]))
        return

    ensure_database()
    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from omni.reports.models import DailySales, MonthlyProductSales
    from omni.reports.summaries import summaries_rebuild
    from orders.models import Order, OrderLine

    call_command("migrate", verbosity=0)
    if args.regenerate or Order.objects.count() < args.orders:
        call_command("flush", interactive=False, verbosity=0)
        started = time.perf_counter()
        call_command("generate_load_data", customers=args.customers, orders=args.orders, products=5000, stores=30)
        print(f"Generated in {time.perf_counter() - started:.0f} s.")
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        version = cursor.fetchone()[0].split(",")[0]
    print(
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, {version}; "
        f"{Order.objects.count():,} orders, {OrderLine.objects.count():,} lines"
    )

    if args.indexes:
        print("Creating the recommended indexes (bench database only):")
        create_indexes()
    if args.rebuild_summaries or not DailySales.objects.exists() or not MonthlyProductSales.objects.exists():
        started = time.perf_counter()
        summaries_rebuild()
        print(f"Report summaries rebuilt from the orders in {time.perf_counter() - started:.0f} s.")
    summary_sizes()
    if not args.skip_dashboard:
        refresh_timings()
        dashboard_timings(365)
        dashboard_timings(30)
        dashboard_timings(365, ended_days_ago=31)

    if args.skip_exports:
        return
    print(f"\nStreaming export (export jobs' writer), order lines with their orders, {args.rows:,} rows:")
    sizes = [int(n) for n in args.flat_rows.split(",") if n] + [args.rows]
    for file_format in ("csv", "xlsx"):
        for rows in sizes:
            result = run_child("stream", file_format, rows)
            print(f"  {file_format:<5} {rows:>9,} rows: " + describe(result))
    print("\nPlain django-import-export (Resource.export() into a tablib Dataset, then dataset.export()):")
    for file_format in ("csv", "xlsx"):
        for rows in [int(n) for n in args.plain_rows.split(",") if n]:
            result = run_child("plain", file_format, rows)
            print(f"  {file_format:<5} {rows:>9,} rows: " + describe(result))


def describe(result: dict) -> str:
    if "error" in result:
        return f"failed: {result['error']}"
    rate = result["rows"] / result["seconds"] if result["seconds"] else 0
    return (
        f"{result['seconds']:7.1f} s ({rate:,.0f} rows/s), peak RSS {result['peak_mb']:6.0f} MB "
        f"(before the export {result['baseline_mb']:.0f} MB), file {result['bytes'] / 1e6:.0f} MB"
    )


if __name__ == "__main__":
    main()
