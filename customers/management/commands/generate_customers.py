"""Generate many customers fast, for benchmarks: ``manage.py generate_customers --count 1000000``.

Each customer gets a phone (``+7999`` followed by seven digits) and an e-mail
(``bench<n>@example.com``), already normalised. On PostgreSQL the rows are streamed with COPY,
elsewhere inserted in large batches. Not for production data: it writes rows directly, without
the services, and expects nobody else to be creating customers meanwhile.
"""

import datetime
import random
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from customers.models import Customer, Identity, IdentityKind, reversed_tail
from omni.core.channels import Channel

PHONE_PREFIX = "+7999"
CAPACITY = 10_000_000  # seven digits after the prefix
FIRST_NAMES = ["Ivan", "Anna", "Olga", "Pavel", "Maria", "Sergey", "Elena", "Dmitry", "Irina", "Alexey"]
LAST_NAMES = ["Ivanov", "Petrova", "Smirnov", "Kuznetsova", "Popov", "Sokolova", "Lebedev", "Kozlova", "Novikov"]
CITIES = ["Moscow", "Saint Petersburg", "Kazan", "Omsk", "Samara", "Novosibirsk", "Yekaterinburg"]
CHANNELS = [Channel.SITE, Channel.APP, Channel.STORE, Channel.CALL_CENTRE]

CUSTOMER_COLUMNS = [
    "id",
    "first_name",
    "last_name",
    "middle_name",
    "birthday",
    "gender",
    "city",
    "preferred_channel",
    "preferred_payment_method",
    "tags",
    "notes",
    "acquisition_channel",
    "acquisition_campaign",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "created_channel",
    "created_at",
    "updated_at",
]
IDENTITY_COLUMNS = ["customer_id", "kind", "system", "value", "match_key", "reversed_tail", "created_at", "updated_at"]


def bench_phone(n: int) -> str:
    return f"{PHONE_PREFIX}{n:07d}"


class Command(BaseCommand):
    help = "Generate customers with a phone and an e-mail each, fast (COPY on PostgreSQL), for benchmarks."

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, default=1_000_000, help="How many customers to add.")
        parser.add_argument("--batch", type=int, default=50_000, help="Rows per batch.")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--force", action="store_true", help="Run even if the database's name contains neither bench nor test."
        )

    def handle(self, *args, count, batch, seed, force, **options):
        name = str(connection.settings_dict["NAME"])
        if not force and "bench" not in name and "test" not in name:
            raise CommandError(f"Refusing to add fake customers to {name!r}: use a bench database or --force.")
        start = Identity.objects.filter(kind=IdentityKind.PHONE, value__startswith=PHONE_PREFIX).count()
        if count <= 0 or start + count > CAPACITY:
            raise CommandError(f"--count must be between 1 and {CAPACITY - start}.")
        rng = random.Random(seed)
        first_id = (Customer.objects.aggregate(top=Max("id"))["top"] or 0) + 1
        began = time.perf_counter()
        done = 0
        while done < count:
            size = min(batch, count - done)
            customers, identities = self._rows(rng, first_id + done, start + done, size)
            with transaction.atomic():
                if connection.vendor == "postgresql":
                    self._copy(Customer._meta.db_table, CUSTOMER_COLUMNS, customers)
                    self._copy(Identity._meta.db_table, IDENTITY_COLUMNS, identities)
                else:
                    self._insert(Customer._meta.db_table, CUSTOMER_COLUMNS, customers)
                    self._insert(Identity._meta.db_table, IDENTITY_COLUMNS, identities)
            done += size
            self.stdout.write(f"{done}/{count} customers ({time.perf_counter() - began:.1f} s)")
        self._after(first_id + count)
        total = time.perf_counter() - began
        self.stdout.write(self.style.SUCCESS(f"Added {count} customers and {2 * count} identities in {total:.1f} s."))

    @staticmethod
    def _rows(rng: random.Random, first_id: int, first_number: int, size: int):
        now = timezone.now()
        customers, identities = [], []
        for offset in range(size):
            pk, number = first_id + offset, first_number + offset
            birthday = None
            if rng.random() < 0.6:
                birthday = now.date().replace(year=rng.randint(1950, 2006), month=rng.randint(1, 12), day=1)
            customers.append(
                (
                    pk,
                    rng.choice(FIRST_NAMES),
                    rng.choice(LAST_NAMES),
                    "",
                    birthday,
                    "",
                    rng.choice(CITIES),
                    "",
                    "",
                    "[]",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    rng.choice(CHANNELS),
                    now,
                    now,
                )
            )
            phone = bench_phone(number)
            email = f"bench{number}@example.com"
            identities.append(
                (pk, IdentityKind.PHONE, "", phone, phone[2:], reversed_tail(IdentityKind.PHONE, phone), now, now)
            )
            identities.append((pk, IdentityKind.EMAIL, "", email, email, "", now, now))
        return customers, identities

    @staticmethod
    def _copy(table: str, columns: list[str], rows: list[tuple]) -> None:
        with connection.cursor() as cursor:
            raw = cursor.cursor  # psycopg's cursor: COPY streams the rows without one INSERT each
            with raw.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)

    @staticmethod
    def _insert(table: str, columns: list[str], rows: list[tuple]) -> None:
        ops = connection.ops

        def adapt(value):
            if isinstance(value, datetime.datetime):
                return ops.adapt_datetimefield_value(value)
            if isinstance(value, datetime.date):
                return ops.adapt_datefield_value(value)
            return value

        placeholders = ", ".join(["%s"] * len(columns))
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})",
                [tuple(adapt(value) for value in row) for row in rows],
            )

    @staticmethod
    def _after(next_id: int) -> None:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                table = Customer._meta.db_table
                cursor.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)", [table, next_id - 1])
                cursor.execute(f"ANALYZE {table}")
                cursor.execute(f"ANALYZE {Identity._meta.db_table}")
