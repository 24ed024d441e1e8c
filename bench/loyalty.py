"""Loyalty benchmark on PostgreSQL: the nightly expiry over 1,000,000 accounts.

Fills the database with COPY (customers, accounts and two lots per account: one whose expiry has
come, one still valid), then times the nightly task's service ``points_expire_due``, which
expires set-based in batches of ``LOYALTY_BATCH_SIZE`` accounts (one expiry entry per account,
one allocation per lot). Then it times a second run (nothing left to do), a balance read, and
checks the ledger of a sample of accounts.

Usage (the database is emptied and filled; its name must contain "bench"):

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/omni_loyalty_bench python -m bench.loyalty
    ... python -m bench.loyalty --accounts 100000 --batch-size 10000
"""

import argparse
import datetime
import json
import os
import platform
import random
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "omni.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")

import warnings

import django

warnings.filterwarnings("ignore", message="No directory at")  # WhiteNoise: collectstatic not run

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, models  # noqa: E402
from django.utils import timezone  # noqa: E402

from customers.models import Customer  # noqa: E402
from loyalty.models import Account, Allocation, PointsEntry  # noqa: E402
from loyalty.nightly import points_expire_due  # noqa: E402
from loyalty.selectors import balance, points_discrepancies  # noqa: E402
from loyalty.services import programme_current  # noqa: E402

CHUNK = 50_000


def machine() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0]
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, PostgreSQL {pg}"


def reset_database() -> None:
    name = settings.DATABASES["default"]["NAME"]
    if connection.vendor != "postgresql" or "bench" not in name:
        sys.exit(f"Refusing to run: the database must be PostgreSQL with 'bench' in its name (got {name!r}).")
    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)


# --- Filling the database with COPY -----------------------------------------------------


def _text(value) -> str:
    if value is None:
        return r"\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    return str(value).replace("\\", "\\\\").replace("\t", " ").replace("\n", " ")


def copy_rows(model: type[models.Model], rows, fixed: dict) -> int:
    """COPY rows into a model's table: each row a dict of its own values, ``fixed`` for the
    values every row shares, every other column its field's default (or NULL)."""
    fields = list(model._meta.concrete_fields)
    defaults = {}
    for field in fields:
        default = field.get_default()  # "" for text columns, None for nullable ones
        defaults[field.attname] = json.dumps(default) if isinstance(default, list | dict) else default
    columns = [field.column for field in fields]
    count = 0
    with connection.cursor() as cursor:
        raw = cursor.connection.cursor()
        with raw.copy(f'COPY "{model._meta.db_table}" ({", ".join(columns)}) FROM STDIN') as copy:
            buffer = []
            for row in rows:
                values = {**defaults, **fixed, **row}
                buffer.append("\t".join(_text(values[field.attname]) for field in fields))
                count += 1
                if len(buffer) >= CHUNK:
                    copy.write("\n".join(buffer) + "\n")
                    buffer = []
            if buffer:
                copy.write("\n".join(buffer) + "\n")
    with connection.cursor() as cursor:
        table = model._meta.db_table
        cursor.execute(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), (SELECT MAX(id) FROM \"{table}\"))")
    return count


def fill(accounts: int, now: datetime.datetime) -> None:
    """``accounts`` customers with an account each; per account a lot of 100 points whose expiry
    came yesterday (a few days' spread) and a lot of 50 points valid for another year."""
    started = time.perf_counter()
    tier = programme_current().tiers.order_by("min_spend").first()
    rng = random.Random(1)
    stamp = now - datetime.timedelta(days=400)
    copy_rows(
        Customer,
        ({"id": n, "first_name": f"Name{n}", "last_name": f"Surname{n}"} for n in range(1, accounts + 1)),
        {"created_at": stamp, "updated_at": stamp, "created_channel": "site"},
    )
    copy_rows(
        Account,
        ({"id": n, "customer_id": n} for n in range(1, accounts + 1)),
        {"created_at": stamp, "updated_at": stamp, "opened_at": stamp, "tier_id": tier.pk if tier else None},
    )

    def lots():
        for n in range(1, accounts + 1):
            expired_at = now - datetime.timedelta(hours=rng.randint(1, 96))
            yield {
                "id": 2 * n - 1,
                "account_id": n,
                "points": 100,
                "remaining": 100,
                "spendable_from": expired_at - datetime.timedelta(days=365),
                "expires_at": expired_at,
                "created_at": expired_at - datetime.timedelta(days=365),
            }
            yield {
                "id": 2 * n,
                "account_id": n,
                "points": 50,
                "remaining": 50,
                "spendable_from": now - datetime.timedelta(days=10),
                "expires_at": now + datetime.timedelta(days=355),
                "created_at": now - datetime.timedelta(days=10),
            }

    copy_rows(PointsEntry, lots(), {"kind": "bonus", "bonus_type": "campaign", "cause_type": "bench", "cause_id": "1"})
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE customers_customer; ANALYZE loyalty_account; ANALYZE loyalty_pointsentry")
    print(
        f"   filled {accounts:,} customers and accounts and {2 * accounts:,} lots with COPY "
        f"in {time.perf_counter() - started:.1f} s"
    )


# --- The benchmark ----------------------------------------------------------------------


def bench_expiry(accounts: int, batch_size: int) -> None:
    now = timezone.now()
    print(f"\n1. Nightly expiry over {accounts:,} accounts (batches of {batch_size:,} accounts)")
    fill(accounts, now)

    started = time.perf_counter()
    run = points_expire_due(now=now, batch_size=batch_size)
    elapsed = time.perf_counter() - started
    print(
        f"   expired {run.points:,} points of {run.lots:,} lots on {run.accounts:,} accounts "
        f"in {run.batches} batches: {elapsed:.1f} s ({run.accounts / elapsed:,.0f} accounts/s, "
        f"{elapsed / max(run.batches, 1) * 1000:.0f} ms per batch)"
    )
    assert run.accounts == accounts and run.points == 100 * accounts

    started = time.perf_counter()
    again = points_expire_due(now=now, batch_size=batch_size)
    print(f"   run again (nothing left to expire): {time.perf_counter() - started:.2f} s, {again.accounts} accounts")
    assert again.accounts == 0

    account = Account.objects.get(pk=accounts // 2)
    timings = []
    for _ in range(50):
        started = time.perf_counter()
        figures = balance(account, now=now)
        timings.append((time.perf_counter() - started) * 1000)
    print(f"   balance of one account after it: {sorted(timings)[25]:.2f} ms (p50), available {figures.available}")
    assert figures.available == 50

    sample = random.Random(2).sample(range(1, accounts + 1), min(1000, accounts))
    started = time.perf_counter()
    problems = points_discrepancies(sample)
    print(
        f"   ledger check of {len(sample):,} random accounts: {time.perf_counter() - started:.2f} s, "
        f"{len(problems)} discrepancies"
    )
    assert not problems
    print(f"   rows now: {PointsEntry.objects.count():,} entries, {Allocation.objects.count():,} allocations")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=1_000_000, help="accounts with points to expire")
    parser.add_argument("--batch-size", type=int, default=settings.LOYALTY_BATCH_SIZE, help="accounts per batch")
    args = parser.parse_args()
    reset_database()
    print(f"Loyalty benchmark — {machine()}")
    bench_expiry(args.accounts, args.batch_size)


if __name__ == "__main__":
    main()
