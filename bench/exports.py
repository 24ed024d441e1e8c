"""Exports benchmark: order lines to CSV and XLSX on PostgreSQL, old and new paths, with the ceiling.

The script fills a PostgreSQL database (its name must contain "bench") with a small shop from
``generate_load_data`` (5,000 orders), then copies its orders and lines set-based
(``INSERT … SELECT … CROSS JOIN generate_series``) until there are ``--lines`` order lines; a run on
a database that already holds them reuses them. Then it exports the first 100,000 and 1,000,000
lines (the slow paths fewer: ``--slow-rows``, ``--xlsx-rows``) of the dashboard's "orders" export
(``omni.reports.exports.kinds.order_lines``, the job's query and ordering) — each export in a
child process, printing rows/s and the child's peak resident memory (``VmHWM``):

- ``ceiling``: the COPY statement the new path runs, through psycopg straight to /dev/null;
- ``copy``: the export job's writer now (``write_rows``: COPY into a file, with the header row);
- ``stream``: the same writer through the Resource a row at a time (what it did before, and still
  does on SQLite);
- ``plain``: plain django-import-export (``Resource.export()`` into a tablib Dataset, then
  ``dataset.export()``), the library without our writer (100,000 rows only: it holds every row);
- XLSX: ``xlsx-old`` (the Resource a row at a time into openpyxl's write-only workbook, as before),
  ``xlsx-openpyxl`` (the plain columns' tuples into the same workbook), ``xlsx-xlsxwriter`` (the same
  tuples into XlsxWriter's ``constant_memory`` workbook, the writer until 2026-12-04) and ``xlsx``
  (the writer now, ``omni.reports.exports.xlsx``: each row's XML streamed into the zip).

Usage:

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/omni_exports_bench python -m bench.exports \
        [--lines 1000000] [--sizes 100000,1000000] [--slow-rows 100000] [--runs 1]

The figures are recorded in bench/RESULTS.md.
"""

import argparse
import datetime
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time

from bench.reports import ensure_database, peak_mb, rss_mb

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "omni.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")

import django


def export_rows(rows: int):
    """The dashboard's export of order lines over every day there are, cut at ``rows``."""
    from django.utils import timezone

    from omni.reports.exports import kinds
    from omni.reports.filters import ReportFilters

    today = timezone.localdate()
    filters = ReportFilters(date_from=today - datetime.timedelta(days=3650), date_to=today, churn_days=180)
    kind = kinds.LISTS["orders"]
    resource = kind.resource()
    return resource, resource.filter_export(kind.rows(filters))[:rows]


def _ceiling(resource, queryset) -> int:
    """The new path's COPY statement through a plain psycopg connection, to /dev/null."""
    import psycopg
    from django.db import connection

    from omni.reports.exports.columns import copy_statement, plain_columns
    from omni.reports.exports.services import CSV_STYLES

    statement, params = copy_statement(queryset, plain_columns(resource, queryset), CSV_STYLES["csv"])
    config = connection.settings_dict
    count = 0
    with (
        psycopg.connect(dbname=config["NAME"], host=config["HOST"], port=config["PORT"], user=config["USER"]) as conn,
        conn.cursor() as cursor,
        cursor.copy(statement, params) as copy,
        open(os.devnull, "wb") as devnull,
    ):
        for data in copy:
            devnull.write(data)
            count += 1
    return count


def xlsx_cell(value):
    """A native value as openpyxl's XLSX cell, as the export wrote it before 2026-12-04: a moment in
    local time, text without what XML cannot hold."""
    from django.utils import timezone

    if isinstance(value, datetime.datetime) and timezone.is_aware(value):
        return timezone.localtime(value).replace(tzinfo=None)
    if isinstance(value, str):
        return re.sub(r"[\000-\010]|[\013-\014]|[\016-\037]", "", value)
    return value


def _openpyxl_old(resource, rows, target) -> int:
    """The XLSX writer as it was: the Resource a row at a time into openpyxl's write-only workbook."""
    from openpyxl import Workbook

    from omni.reports.exports.headers import header_row
    from omni.reports.exports.services import _exporters, iter_rows

    fields = resource.get_export_fields()
    exporters = _exporters(resource, fields, native=True)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title="orders")
    sheet.append(header_row(resource, fields, "labels"))
    count = 0
    for row in iter_rows(rows, 2000):
        sheet.append([xlsx_cell(export(row)) for export in exporters])
        count += 1
    workbook.save(target)
    return count


def _openpyxl_native(resource, rows, target) -> int:
    """openpyxl's write-only workbook fed with the plain columns' tuples, as XlsxWriter is."""
    from openpyxl import Workbook

    from omni.reports.exports.columns import native_rows, plain_columns
    from omni.reports.exports.headers import header_row

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title="orders")
    sheet.append(header_row(resource, resource.get_export_fields(), "labels"))
    count = 0
    for row in native_rows(rows, plain_columns(resource, rows), 2000):
        sheet.append([xlsx_cell(value) for value in row])
        count += 1
    workbook.save(target)
    return count


def _xlsxwriter_native(resource, rows, target) -> int:
    """XlsxWriter's constant-memory workbook fed with the plain columns' tuples, each column's cell
    written by its kind's method (the export's writer until 2026-12-04)."""
    import xlsxwriter
    from django.utils import timezone

    from omni.reports.exports import columns
    from omni.reports.exports.columns import native_rows, plain_columns
    from omni.reports.exports.headers import header_row

    plain = plain_columns(resource, rows)
    workbook = xlsxwriter.Workbook(target, {"constant_memory": True, "strings_to_numbers": False})
    sheet = workbook.add_worksheet("orders")
    sheet.write_row(0, 0, header_row(resource, resource.get_export_fields(), "labels"))
    moment, day = (
        workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"}),
        workbook.add_format({"num_format": "yyyy-mm-dd"}),
    )
    zone = timezone.get_current_timezone()
    writers = {
        columns.TEXT: sheet.write_string,
        columns.INTEGER: sheet.write_number,
        columns.DECIMAL: sheet.write_number,
        columns.MOMENT: lambda r, c, v: sheet.write_datetime(r, c, v.astimezone(zone).replace(tzinfo=None), moment),
        columns.DATE: lambda r, c, v: sheet.write_datetime(r, c, v, day),
    }
    by_column = [writers[column.kind] for column in plain]
    count = 0
    for count, row in enumerate(native_rows(rows, plain, 2000), start=1):
        for column, value in enumerate(row):
            if value is not None and value != "":
                by_column[column](count, column, value)
    workbook.close()
    return count


def child(mode: str, rows: int) -> None:
    django.setup()
    from unittest import mock

    from omni.reports.exports import services

    resource, queryset = export_rows(rows)
    baseline = rss_mb()
    started = time.perf_counter()
    suffix = "xlsx" if mode.startswith("xlsx") else "csv"
    written = rows
    with tempfile.NamedTemporaryFile(suffix=f".{suffix}") as target:
        if mode == "ceiling":
            written = _ceiling(resource, queryset)
        elif mode == "copy":
            written = services.write_rows(resource, queryset, "csv", target)
        elif mode == "stream":
            with mock.patch.object(services, "csv_by_copy", lambda rows, columns: False):
                written = services.write_rows(resource, queryset, "csv", target)
        elif mode == "plain":
            dataset = resource.export(queryset=queryset)
            target.write(dataset.export("csv").encode())
            written = len(dataset)
        elif mode == "xlsx":
            written = services.write_rows(resource, queryset, "xlsx", target)
        elif mode == "xlsx-old":
            written = _openpyxl_old(resource, queryset, target)
        elif mode == "xlsx-openpyxl":
            written = _openpyxl_native(resource, queryset, target)
        elif mode == "xlsx-xlsxwriter":
            written = _xlsxwriter_native(resource, queryset, target.name)
        target.flush()
        size = os.path.getsize(target.name)
    seconds = time.perf_counter() - started
    print(
        json.dumps({"rows": written, "seconds": seconds, "baseline_mb": baseline, "peak_mb": peak_mb(), "bytes": size})
    )


def run_child(mode: str, rows: int) -> dict:
    result = subprocess.run(
        [sys.executable, "-m", "bench.exports", "--child", mode, str(rows)], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        return {"error": result.stderr.strip().splitlines()[-1] if result.stderr.strip() else "failed"}
    return json.loads(result.stdout.strip().splitlines()[-1])


# --- Data ----------------------------------------------------------------------------------


def _columns(cursor, table: str) -> list[str]:
    cursor.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s ORDER BY ordinal_position", [table]
    )
    return [name for (name,) in cursor.fetchall()]


def multiply_orders(lines: int) -> None:
    """Copy every order and its lines until there are ``lines`` lines: copy k of an order gets the
    id ``id + k * max(id)`` and the number ``<number>-<k>``; its lines follow it."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT max(id), count(*) FROM orders_order")
        max_order, _orders = cursor.fetchone()
        cursor.execute("SELECT max(id), count(*) FROM orders_orderline")
        max_line, have = cursor.fetchone()
        copies = -(-lines // have) - 1
        if copies <= 0:
            return
        order_columns = _columns(cursor, "orders_order")
        line_columns = _columns(cursor, "orders_orderline")
        order_select = {"id": f"o.id + k * {max_order}", "number": "o.number || '-' || k"}
        line_select = {"id": f"l.id + k * {max_line}", "order_id": f"l.order_id + k * {max_order}"}
        cursor.execute(
            f"INSERT INTO orders_order ({', '.join(order_columns)}) "
            f"SELECT {', '.join(order_select.get(c, f'o.{c}') for c in order_columns)} "
            f"FROM orders_order o CROSS JOIN generate_series(1, {copies}) k"
        )
        cursor.execute(
            f"INSERT INTO orders_orderline ({', '.join(line_columns)}) "
            f"SELECT {', '.join(line_select.get(c, f'l.{c}') for c in line_columns)} "
            f"FROM orders_orderline l CROSS JOIN generate_series(1, {copies}) k"
        )
        for table in ("orders_order", "orders_orderline"):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE orders_order")
        cursor.execute("VACUUM ANALYZE orders_orderline")


def ensure_data(lines: int) -> None:
    from django.core.management import call_command

    from orders.models import OrderLine

    call_command("migrate", verbosity=0)
    if OrderLine.objects.count() >= lines:
        return
    started = time.perf_counter()
    call_command("flush", interactive=False, verbosity=0)
    call_command(
        "generate_load_data", customers=2000, orders=5000, products=500, stores=10, days=365, quiet=True, verbosity=0
    )
    multiply_orders(lines)
    print(f"Generated {OrderLine.objects.count():,} order lines in {time.perf_counter() - started:.0f} s.")


# --- Report ----------------------------------------------------------------------------------


def describe(result: dict) -> str:
    if "error" in result:
        return f"failed: {result['error']}"
    rate = result["rows"] / result["seconds"] if result["seconds"] else 0
    return (
        f"{result['seconds']:7.2f} s {rate:>10,.0f} rows/s   peak {result['peak_mb']:5.0f} MB "
        f"(before {result['baseline_mb']:3.0f} MB)   file {result['bytes'] / 1e6:5.1f} MB"
    )


def rate(result: dict) -> float:
    return result["rows"] / result["seconds"] if "seconds" in result and result["seconds"] else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000, help="Order lines in the database.")
    parser.add_argument("--sizes", default="100000,1000000", help="Rows exported to CSV by COPY, and the ceiling.")
    parser.add_argument("--xlsx-rows", default="20000,100000", help="Rows exported to XLSX by the new writer.")
    parser.add_argument("--slow-rows", default="20000", help="Rows exported by the old paths (the same ratios).")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--child", nargs=2, metavar=("MODE", "ROWS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], int(args.child[1]))
        return

    ensure_database()
    django.setup()
    from django.db import connection

    from orders.models import OrderLine

    ensure_data(args.lines)
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        version = cursor.fetchone()[0].split(",")[0]
    print(
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, {version}; "
        f"{OrderLine.objects.count():,} order lines; load {os.getloadavg()[0]:.2f}"
    )
    sizes = [int(n) for n in args.sizes.split(",") if n]
    slow = [int(n) for n in args.slow_rows.split(",") if n]
    plan = [(mode, rows) for rows in sizes for mode in ("ceiling", "copy")]
    plan += [(mode, int(n)) for n in args.xlsx_rows.split(",") if n for mode in ("xlsx", "xlsx-xlsxwriter")]
    plan += [(mode, rows) for rows in slow for mode in ("stream", "plain", "xlsx-old", "xlsx-openpyxl")]
    for run in range(1, args.runs + 1):
        print(f"\nRun {run} (load {os.getloadavg()[0]:.2f}):")
        results = {}
        for mode, rows in sorted(plan, key=lambda step: (step[1], step[0])):
            results[mode, rows] = run_child(mode, rows)
            print(f"  {mode:<14} {rows:>9,} rows: {describe(results[mode, rows])}")
        for rows in sorted({rows for _mode, rows in plan}):
            ratios = []
            for mode, against in (("copy", "ceiling"), ("copy", "stream"), ("copy", "plain"), ("xlsx", "xlsx-old")):
                if rate(results.get((mode, rows), {})) and rate(results.get((against, rows), {})):
                    ratios.append(f"{mode}/{against} {rate(results[mode, rows]) / rate(results[against, rows]):.2f}")
            for against in ("xlsx-xlsxwriter", "xlsx-openpyxl"):
                if rate(results.get(("xlsx", rows), {})) and rate(results.get((against, rows), {})):
                    ratios.append(f"xlsx/{against} {rate(results['xlsx', rows]) / rate(results[against, rows]):.2f}")
            if ratios:
                print(f"  ratios at {rows:,} rows: " + ", ".join(ratios))


if __name__ == "__main__":
    main()
