"""Fill a database with a realistic shop for measuring: stores, catalogue, stock, customers, orders
of every channel with their lines, payments, status history, returns and refunds, the customers'
timelines, and loyalty activity (points earned, spent, given back, reversed and expired).

It writes rows directly (COPY on PostgreSQL, bulk_create elsewhere), bypassing the services for
speed; what it writes is kept consistent by construction (see ``Command.help``). Orders are made in
the order they were placed, so each account's points are spent first-in first-out from the lots
it really had at that moment; memory holds the open lots of each account, not the rows written.
"""

import bisect
import datetime
import json
import random
import sys
import time
from decimal import ROUND_FLOOR, Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.models import Customer, Direction, Interaction, InteractionKind
from customers.timeline_events import event_summary
from inventory.models import (
    Category,
    Employee,
    Location,
    LocationKind,
    MovementReason,
    Product,
    Stock,
    StockMovement,
    Transfer,
    TransferLine,
    TransferStatus,
)
from loyalty.models import (
    Account,
    Allocation,
    EntryKind,
    OrderPoints,
    OrderPointsLine,
    OrderPointsReturn,
    PointsEntry,
    SpendRecord,
    TierChange,
    TierChangeReason,
)
from loyalty.services import programme_current, tier_for_spend
from omni.core.channels import Channel
from omni.core.money import money, spread_units, unit_share
from omni.reports.summaries import summaries_rebuild
from orders.models import (
    COMPLETED_STATUSES,
    NUMBER_PREFIXES,
    Fulfilment,
    Order,
    OrderAllocation,
    OrderLine,
    OrderReturn,
    OrderStatus,
    Payment,
    PaymentMethod,
    Refund,
    RefundMethod,
    RefundStatus,
    ReturnCondition,
    ReturnLine,
    StatusChange,
)

S = OrderStatus
CITIES = ["Moscow", "Saint Petersburg", "Kazan", "Novosibirsk", "Yekaterinburg", "Nizhny Novgorod", "Samara"]
CHANNEL_WEIGHTS = [
    (Channel.STORE, 45),
    (Channel.SITE, 25),
    (Channel.APP, 18),
    (Channel.CALL_CENTRE, 5),
    (Channel.MESSENGER, 3),
    (Channel.SOCIAL, 2),
    (Channel.MARKETPLACE, 2),
]
RETURN_REASONS = ["Did not fit", "Changed my mind", "Faulty", "Not as described", "Arrived late", "Wrong colour"]
HOUR, DAY = datetime.timedelta(hours=1), datetime.timedelta(days=1)
# Members with at least this many points available spend them on this share of their orders.
REDEEM_SHARE, MIN_REDEEM = 0.5, 50
# When the periodic tasks run (``CELERY_BEAT_SCHEDULE``): points expire nightly at 00:20,
# uncollected orders expire hourly at five past.
POINTS_EXPIRY_AT, ORDERS_EXPIRY_MINUTE = datetime.time(0, 20), 5
# How often (of the orders' time) the open lots of every account are swept for expiry.
SWEEP_EVERY = datetime.timedelta(days=30)


def ascending_uniforms(rng: random.Random, count: int):
    """``count`` uniform draws from [0, 1) in ascending order, one at a time (each is the smallest
    of those left), so that orders can be made in time order without holding them all."""
    value = 0.0
    for left in range(count, 0, -1):
        value += (1.0 - value) * (1.0 - rng.random() ** (1.0 / left))
        yield value


class Progress:
    """One line on stderr, rewritten in place: ``orders 350,000 / 1,000,000 (35 %) 12.3 s``, and
    optionally the rows written so far to other tables."""

    def __init__(self, label: str, total: int, stream=None):
        self.label, self.total, self.stream = label, max(total, 1), stream or sys.stderr
        self.started = time.monotonic()
        self.last = 0.0

    def update(self, done: int, *, force: bool = False, extra=None) -> None:
        now = time.monotonic()
        if not force and now - self.last < 0.5:
            return
        self.last = now
        percent = done * 100 // self.total
        bar = "#" * (percent // 4)
        tail = f" | {extra()}" if extra else ""
        self.stream.write(
            f"\r{self.label:<10} [{bar:<25}] {done:>11,} / {self.total:,} ({percent:3d} %) "
            f"{now - self.started:6.1f} s{tail}"
        )
        self.stream.flush()

    def finish(self, done: int, *, extra=None) -> None:
        self.update(done, force=True, extra=extra)
        self.stream.write("\n")


class RowWriter:
    """Writes rows (dicts of attribute names) of a model in batches: COPY on PostgreSQL, else
    bulk_create. Fields a row leaves out take the model's default (``""``, 0, ...).

    At most ``batch_size`` rows wait in memory whatever the number of tables: when they are
    reached, the fullest tables are written first (foreign keys are checked at commit)."""

    def __init__(self, batch_size: int):
        self.batch_size = max(batch_size, 1)
        self.copy = connection.vendor == "postgresql"
        self.buffers: dict[type[models.Model], list[dict]] = {}
        self.buffered = 0
        self.counts: dict[type[models.Model], int] = {}
        self._defaults: dict[type[models.Model], dict] = {}
        self._specs: dict[tuple, tuple[str, list]] = {}
        self.now = timezone.now()

    def next_id(self, model) -> int:
        return (model.objects.aggregate(top=models.Max("pk"))["top"] or 0) + 1

    def written(self, model) -> int:
        """Rows of ``model`` written or waiting to be."""
        return self.counts.get(model, 0) + len(self.buffers.get(model, ()))

    def defaults(self, model) -> dict:
        if model not in self._defaults:
            values = {}
            for field in model._meta.concrete_fields:
                if field.has_default():
                    values[field.attname] = field.get_default()
                elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                    values[field.attname] = self.now
                else:
                    values[field.attname] = None if field.null else ""
            self._defaults[model] = values
        return self._defaults[model]

    def add(self, model, row: dict) -> None:
        buffer = self.buffers.get(model)
        if buffer is None:
            buffer = self.buffers[model] = []
        buffer.append(row)
        self.buffered += 1
        if self.buffered >= self.batch_size:
            for each in sorted(self.buffers, key=lambda m: len(self.buffers[m]), reverse=True):
                if self.buffered <= self.batch_size // 2:
                    break
                self.flush(each)

    def flush(self, model=None) -> None:
        for each in [model] if model else list(self.buffers):
            rows = self.buffers.get(each)
            if rows:
                self._write(each, rows)
                self.counts[each] = self.counts.get(each, 0) + len(rows)
                self.buffered -= len(rows)
                self.buffers[each] = []

    def _write(self, model, rows: list[dict]) -> None:
        pk = model._meta.pk.attname
        with_pk = pk in rows[0]  # else the database numbers the rows
        defaults = {name: value for name, value in self.defaults(model).items() if with_pk or name != pk}
        fields = [field for field in model._meta.concrete_fields if with_pk or field.attname != pk]
        if not self.copy:
            # bulk_create stamps auto_now(_add) fields with the current time: keep the rows' own.
            stamped = [f for f in fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)]
            flags = [(f.auto_now, f.auto_now_add) for f in stamped]
            try:
                for f in stamped:
                    f.auto_now = f.auto_now_add = False
                model.objects.bulk_create([model(**{**defaults, **row}) for row in rows], batch_size=1000)
            finally:
                for f, (auto_now, auto_now_add) in zip(stamped, flags, strict=True):
                    f.auto_now, f.auto_now_add = auto_now, auto_now_add
            return
        sql, columns = self._copy_spec(model, fields, defaults)
        pairs = [(name, default) for name, default, _is_json in columns]
        json_positions = [index for index, (_name, _default, is_json) in enumerate(columns) if is_json]
        with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
            write_row = copy.write_row
            for row in rows:
                get = row.get
                values = [get(name, default) for name, default in pairs]
                for index in json_positions:
                    if values[index] is not None:
                        values[index] = json.dumps(values[index])
                write_row(values)

    def _copy_spec(self, model, fields, defaults) -> tuple[str, list[tuple[str, object, bool]]]:
        """The COPY statement of these columns, and each column's (attribute name, default, is JSON)."""
        key = (model, len(fields))
        if key not in self._specs:
            names = ", ".join(connection.ops.quote_name(f.column) for f in fields)
            sql = f"COPY {connection.ops.quote_name(model._meta.db_table)} ({names}) FROM STDIN"
            columns = [(f.attname, defaults[f.attname], isinstance(f, models.JSONField)) for f in fields]
            self._specs[key] = (sql, columns)
        return self._specs[key]

    def reset_sequences(self, model_list) -> None:
        statements = connection.ops.sequence_reset_sql(no_style(), model_list)
        if statements:
            with connection.cursor() as cursor:
                for statement in statements:
                    cursor.execute(statement)


# A lot in the book: [spendable from, expires at, entry id, remaining, nightly expiry run], kept in
# the order of ``loyalty.selectors.lots_available`` (spendable date, expiry, id).
SPENDABLE, EXPIRES, ENTRY, REMAINING, EXPIRY_RUN = range(5)


def expiry_run(spendable_from: datetime.datetime, expires_at: datetime.datetime) -> datetime.datetime:
    """The nightly run (``loyalty.nightly.points_expire_due``) that expires a lot: the first one at or
    after its expiry and its creation (a lot given back may already have expired)."""
    due = max(spendable_from, expires_at)
    run = due.replace(hour=POINTS_EXPIRY_AT.hour, minute=POINTS_EXPIRY_AT.minute, second=0, microsecond=0)
    return run if run >= due else run + DAY


class PointsBook:
    """The open lots of each account while orders are made in time order, so that points are
    spent, taken back and expired as ``loyalty.services`` and ``loyalty.nightly`` do it: every
    negative entry is written with its allocations to the lots it consumes, first-in first-out from
    the lots available at its moment. The lots' ``remaining`` is set from their allocations once
    everything is written (``Command.settle_lots``). A lot leaves memory once empty or expired."""

    def __init__(self, writer: RowWriter, ids: dict):
        self.writer, self.ids = writer, ids
        self.lots: dict[int, list[list]] = {}

    def entry_id(self) -> int:
        pk = self.ids[PointsEntry]
        self.ids[PointsEntry] += 1
        return pk

    def add(self, account_id: int, spendable_from, expires_at, entry_id: int, points: int) -> list:
        lot = [spendable_from, expires_at, entry_id, points, expiry_run(spendable_from, expires_at)]
        lots = self.lots.get(account_id)
        if lots is None:
            self.lots[account_id] = [lot]
        else:
            bisect.insort(lots, lot)
        return lot

    def available(self, account_id: int, now: datetime.datetime) -> list[list]:
        """The account's lots spendable at ``now``, first-in first-out (``lots_available``)."""
        if account_id not in self.lots:
            return []
        self.expire(account_id, before=now)
        result = []
        for lot in self.lots.get(account_id, ()):
            if lot[SPENDABLE] > now:
                break
            if lot[EXPIRES] > now and lot[REMAINING] > 0:
                result.append(lot)
        return result

    def consume(self, consumer_id: int, plan: list[tuple[list, int]]) -> None:
        for lot, points in plan:
            self.writer.add(Allocation, {"consumer_id": consumer_id, "lot_id": lot[ENTRY], "points": points})
            lot[REMAINING] -= points

    def expire(self, account_id: int, *, before: datetime.datetime, inclusive: bool = False) -> None:
        """The nightly expiries of the account's lots that came before ``before``: one expiry entry
        per account and night with an allocation per lot, as ``points_expire_due`` writes them.
        A lot's rest is final by then: nothing spends a lot once it has expired."""
        due: dict[datetime.datetime, list[list]] = {}
        keep = []
        for lot in self.lots[account_id]:
            if lot[REMAINING] <= 0:
                continue
            run = lot[EXPIRY_RUN]
            if run < before or (inclusive and run == before):
                due.setdefault(run, []).append(lot)
            else:
                keep.append(lot)
        for run in sorted(due):
            lots = due[run]
            entry_id = self.entry_id()
            self.writer.add(
                PointsEntry,
                {
                    "id": entry_id,
                    "account_id": account_id,
                    "kind": EntryKind.EXPIRY,
                    "points": -sum(lot[REMAINING] for lot in lots),
                    "remaining": 0,
                    "cause_type": "expiry",
                    "cause_id": run.date().isoformat(),
                    "created_at": run,
                },
            )
            self.consume(entry_id, [(lot, lot[REMAINING]) for lot in lots])
        if keep:
            self.lots[account_id] = keep
        else:
            del self.lots[account_id]

    def sweep(self, before: datetime.datetime, *, inclusive: bool = False) -> None:
        for account_id in list(self.lots):
            self.expire(account_id, before=before, inclusive=inclusive)


def take_fifo(lots: list[list], points: int) -> list[tuple[list, int]]:
    """``loyalty.services.ledger.fifo_plan``: take ``points`` from the lots in their order."""
    plan, left = [], points
    for lot in lots:
        if left <= 0:
            break
        take = min(lot[REMAINING], left)
        if take > 0:
            plan.append((lot, take))
            left -= take
    return plan


def give_back_chunks(allocations: list[tuple[int, int, datetime.datetime]], skip: int, need: int):
    """``loyalty.services.ledger.redeemed_give_back``: ``need`` points of a redemption (its
    allocations as (lot id, points, lot expiry)) come back as lots keeping the expiry of the lots
    they came from, the latest-expiring first, after the ``skip`` points already given back."""
    chunks: list[list] = []
    for _lot_id, points, expires_at in sorted(allocations, key=lambda a: (a[2], a[0]), reverse=True):
        if skip >= points:
            skip -= points
            continue
        points -= skip
        skip = 0
        take = min(points, need)
        if chunks and chunks[-1][0] == expires_at:
            chunks[-1][1] += take
        else:
            chunks.append([expires_at, take])
        need -= take
        if need == 0:
            break
    return chunks


def proportion(points: int, part: Decimal, whole: Decimal) -> int:
    """``loyalty.services.order_points._proportion``."""
    if points <= 0:
        return 0
    if whole <= 0 or part >= whole:
        return points
    return int((Decimal(points) * part / whole).to_integral_value(rounding=ROUND_FLOOR))


def floor_points(value: Decimal) -> int:
    return max(int(value.to_integral_value(rounding=ROUND_FLOOR)), 0)


class Line:
    """An order line being made."""

    __slots__ = (
        "id",
        "product_id",
        "category_id",
        "sku",
        "name",
        "price",
        "quantity",
        "refused",
        "returned",
        "points",
        "points_value",
    )

    def __init__(self, pk, product_id, category_id, sku, name, price, quantity):
        self.id, self.product_id, self.category_id = pk, product_id, category_id
        self.sku, self.name, self.price, self.quantity = sku, name, price, quantity
        self.refused = self.returned = self.points = 0
        self.points_value = Decimal("0.00")

    @property
    def subtotal(self) -> Decimal:
        return self.price * self.quantity

    @property
    def kept(self) -> int:
        return self.quantity - self.refused

    def kept_total(self) -> Decimal:
        """What the units kept at handover cost in money (``line_part(done=refused)``)."""
        share = unit_share(self.points_value, quantity=self.quantity, done=self.refused, count=self.kept)
        return self.price * self.kept - share


# Models whose rows this command numbers itself (other rows reference them).
WITH_IDS = [
    Customer,
    Account,
    Order,
    OrderLine,
    Payment,
    OrderReturn,
    ReturnLine,
    Refund,
    OrderAllocation,
    Transfer,
    TransferLine,
    PointsEntry,
    OrderPoints,
]
# The order's date field set by each step of the state machine.
STEP_FIELDS = (
    (S.PACKED, "packed_at"),
    (S.SHIPPED, "shipped_at"),
    (S.SOLD, "completed_at"),
    (S.COLLECTED, "completed_at"),
    (S.DELIVERED, "completed_at"),
    (S.CANCELLED, "cancelled_at"),
    (S.EXPIRED, "expired_at"),
)


class Command(BaseCommand):
    help = (
        "Fill the database with load data of a realistic shape, fast: stores and warehouses in several "
        "cities, a catalogue, stock with its ledger, customers, loyalty accounts, orders of every channel "
        "(sales in store, click-and-collect, delivery) with lines, payments, status history, returns and "
        "refunds, the customers' timelines, and points earned, spent, given back and expired. It BYPASSES "
        "the services (rows are written with COPY on PostgreSQL, bulk_create elsewhere), so no message, "
        "loyalty card or stock movement of a sale is written. What it writes is consistent: each order's "
        "status history follows the state machine to its status, with the order's dates; its totals come "
        "from its lines and the points spent; refunds stay within what was paid, returns within what was "
        "bought; the stock ledger sums to the stock rows (an opening receipt per row, and each transfer's "
        "movements); points are spent first-in first-out from the lots available when the order was "
        "placed, given back on cancellation and return, and expired nightly, each with its allocations, so "
        "balances are the sum of the ledger (manage.py check_points). Timeline entries have the services' "
        "texts. For measuring only: do not run it on a database with real data."
    )

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=1000, help="Customers (default 1000).")
        parser.add_argument("--orders", type=int, default=5000, help="Orders (default 5000).")
        parser.add_argument("--lines-per-order", type=float, default=3.0, help="Average lines per order (default 3).")
        parser.add_argument("--stores", type=int, default=20, help="Stores (default 20), plus two warehouses.")
        parser.add_argument("--products", type=int, default=2000, help="Products (default 2000).")
        parser.add_argument("--days", type=int, default=730, help="Orders spread over this many days up to today.")
        parser.add_argument("--members", type=float, default=0.4, help="Share of customers with a loyalty account.")
        parser.add_argument("--return-rate", type=float, default=0.06, help="Share of completed orders with a return.")
        parser.add_argument("--batch-size", type=int, default=20000, help="Rows kept in memory before writing.")
        parser.add_argument("--seed", type=int, default=1, help="Random seed, for the same data each run.")
        parser.add_argument("--quiet", action="store_true", help="No progress bar.")

    def handle(self, *args, **options):
        if options["orders"] < 0 or options["customers"] < 1 or options["stores"] < 1 or options["products"] < 1:
            raise CommandError("Give at least one customer, store and product, and zero orders or more.")
        self.rng = random.Random(options["seed"])
        self.quiet = options["quiet"]
        self.progress_stream = getattr(self.stderr, "_out", sys.stderr)
        self.writer = RowWriter(options["batch_size"])
        self.today = timezone.localdate()
        self.end = timezone.make_aware(datetime.datetime.combine(self.today, datetime.time(21, 0)))
        self.start = self.end - datetime.timedelta(days=options["days"])
        started = time.monotonic()
        with transaction.atomic():
            self.reference_data(options)
            self.ids = {model: self.writer.next_id(model) for model in WITH_IDS}
            self.book = PointsBook(self.writer, self.ids)
            first_entry = self.ids[PointsEntry]
            self.customers_and_accounts(options)
            self.orders(options)
            self.stock()
            self.writer.flush()
            self.settle_lots(first_entry)
            self.writer.reset_sequences(WITH_IDS)
        # The rows bypassed the services (and their hooks): the report summaries are summed anew.
        summaries_started = time.monotonic()
        summaries_rebuild()
        self.summaries_seconds = time.monotonic() - summaries_started
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        names = [str(model._meta.verbose_name_plural) for model in self.writer.counts]
        counts = ", ".join(
            f"{name if names.count(name) == 1 else f'{name} ({model._meta.app_label})'}: {n:,}"
            for name, (model, n) in zip(names, self.writer.counts.items(), strict=True)
        )
        self.stdout.write(
            f"Done in {time.monotonic() - started:.1f} s (report summaries {self.summaries_seconds:.1f} s). {counts}."
        )

    # --- Stores, catalogue, staff, the loyalty programme ----------------------------------

    def reference_data(self, options) -> None:
        run = Order.objects.count()
        tag = f"g{run}"
        categories = [
            Category.objects.get_or_create(code=f"load-{i}", defaults={"name": f"Category {i}"})[0] for i in range(20)
        ]
        existing = Product.objects.filter(sku__startswith="LOAD-").count()
        Product.objects.bulk_create(
            [
                Product(
                    sku=f"LOAD-{i:06d}",
                    name=f"Load product {i}",
                    category=categories[i % len(categories)],
                    price=Decimal(self.rng.choice([199, 299, 499, 799, 999, 1499, 1999, 2999, 4999])),
                )
                for i in range(existing, options["products"])
            ],
            batch_size=2000,
        )
        self.products = list(
            Product.objects.filter(sku__startswith="LOAD-")
            .order_by("pk")
            .values_list("pk", "category_id", "sku", "name", "price")
        )
        stores = list(Location.objects.filter(code__startswith="load-s").order_by("pk"))
        for i in range(len(stores), options["stores"]):
            stores.append(
                Location.objects.create(
                    code=f"load-s{i}",
                    name=f"Store {i}",
                    kind=LocationKind.STORE,
                    city=CITIES[i % len(CITIES)],
                    is_pickup_point=True,
                    accepts_returns=True,
                )
            )
        self.stores = stores[: options["stores"]]
        self.warehouses = [
            Location.objects.get_or_create(
                code=f"load-w{i}",
                defaults={
                    "name": f"Warehouse {i}",
                    "kind": LocationKind.WAREHOUSE,
                    "city": CITIES[i],
                    "ships_orders": True,
                },
            )[0]
            for i in range(2)
        ]
        user_model = get_user_model()
        self.cashiers = {}
        for store in self.stores:
            user, created = user_model.objects.get_or_create(
                username=f"load-cashier-{store.code}", defaults={"is_staff": True}
            )
            if created:
                user.set_unusable_password()
                user.save(update_fields=["password"])
                Employee.objects.create(user=user).locations.set([store])
            self.cashiers[store.pk] = user.pk
        self.tag = tag
        # stock movements of transfers made for ship-to-store orders, applied to the stock rows
        self.transfer_deltas: dict[tuple[int, int], int] = {}

        # The programme's rules, as the loyalty services apply them (the lowest tier for everyone).
        programme = programme_current()
        self.programme = programme
        self.base_tier = tier_for_spend(sorted(programme.tiers.all(), key=lambda t: t.min_spend), Decimal(0))
        self.earn_rate = self.base_tier.earn_rate if self.base_tier else Decimal(0)
        self.point_value = programme.point_value
        self.holding = datetime.timedelta(days=programme.holding_days)
        self.expiry = datetime.timedelta(days=programme.expiry_days)
        self.pickup_time = datetime.timedelta(days=settings.ORDERS_PICKUP_DAYS)

        # The texts the services write (``orders.services``, ``loyalty.services``), in the active language;
        # the timeline entries are event codes (``orders.timeline_events``, ``loyalty.timeline_events``).
        self.texts = {
            "refund": _("Return %(number)s"),
        }

    def next_id(self, model) -> int:
        pk = self.ids[model]
        self.ids[model] += 1
        return pk

    # --- Customers and loyalty accounts ------------------------------------------------

    def customers_and_accounts(self, options) -> None:
        count = options["customers"]
        first_id = self.ids[Customer]
        progress = Progress("customers", count, self.progress_stream)
        self.customer_ids = []
        self.accounts: dict[int, int] = {}
        span = (self.end - self.start).total_seconds() + 365 * 86400
        w, tier = self.writer, self.base_tier
        welcome = self.programme.welcome_bonus
        for i in range(count):
            pk = first_id + i
            joined = self.end - datetime.timedelta(seconds=self.rng.random() * span)
            channel = self.rng.choice(["site", "app", "store", "call_centre"])
            w.add(
                Customer,
                {
                    "id": pk,
                    "first_name": f"Load{i}",
                    "last_name": f"Customer{i}",
                    "city": self.rng.choice(CITIES),
                    "created_channel": channel,
                    "created_at": joined,
                    "updated_at": joined,
                },
            )
            self.customer_ids.append(pk)
            if self.rng.random() < options["members"]:
                account_id = self.next_id(Account)
                w.add(
                    Account,
                    {
                        "id": account_id,
                        "customer_id": pk,
                        "tier_id": tier.pk if tier else None,
                        "tier_changed_at": joined if tier else None,
                        "opened_at": joined,
                        "channel": channel,
                        "created_at": joined,
                        "updated_at": joined,
                    },
                )
                self.accounts[pk] = account_id
                self.open_account(account_id, pk, channel, joined, tier, welcome)
            if not self.quiet and i % 1000 == 0:
                progress.update(i)
        self.ids[Customer] = first_id + count
        if not self.quiet:
            progress.finish(count)

    def open_account(self, account_id, customer_id, channel, joined, tier, welcome) -> None:
        """What ``account_open`` writes besides the account: the tier reached on joining, the
        welcome bonus, the timeline entry."""
        w = self.writer
        if tier is not None:
            w.add(
                TierChange,
                {
                    "account_id": account_id,
                    "new_tier_id": tier.pk,
                    "spend": Decimal("0.00"),
                    "reason": TierChangeReason.JOINED,
                    "created_at": joined,
                },
            )
        if welcome:
            entry_id = self.book.entry_id()
            expires = joined + self.expiry
            w.add(
                PointsEntry,
                {
                    "id": entry_id,
                    "account_id": account_id,
                    "kind": EntryKind.BONUS,
                    "bonus_type": "welcome",
                    "points": welcome,
                    "remaining": welcome,
                    "spendable_from": joined,
                    "expires_at": expires,
                    "cause_type": "account",
                    "cause_id": str(account_id),
                    "key": f"welcome:{account_id}",
                    "channel": channel,
                    "created_at": joined,
                },
            )
            self.book.add(account_id, joined, expires, entry_id, welcome)
        params = {"bonus": welcome or 0}
        w.add(
            Interaction,
            {
                "customer_id": customer_id,
                "channel": channel,
                "kind": InteractionKind.POINTS_CHANGE,
                "direction": Direction.INTERNAL,
                "summary": event_summary("loyalty.joined", params),
                "event": "loyalty.joined",
                "params": params,
                "occurred_at": joined,
                "subject_type": "loyalty_account",
                "subject_id": str(account_id),
                "created_at": joined,
            },
        )

    # --- Orders --------------------------------------------------------------------------

    def _customer(self) -> int:
        # A few customers buy often, most rarely: the first ones of a skewed draw.
        return self.customer_ids[int(len(self.customer_ids) * self.rng.random() ** 2.2)]

    def _extra(self) -> str:
        w = self.writer
        return " · ".join(
            f"{model._meta.verbose_name_plural} {w.written(model):,}"
            for model in (StatusChange, Interaction, PointsEntry)
        )

    def orders(self, options) -> None:
        """Orders in the order they were placed (so that each account spends the points it had then),
        each made with its whole life up to the end of the period."""
        total = options["orders"]
        self.channels = [channel for channel, _w in CHANNEL_WEIGHTS]
        self.weights = [weight for _c, weight in CHANNEL_WEIGHTS]
        self.max_lines = max(1, round(options["lines_per_order"] * 2 - 1))
        self.return_rate = options["return_rate"]
        span = (self.end - self.start).total_seconds()
        progress = Progress("orders", total, self.progress_stream)
        extra = None if self.quiet else self._extra
        next_sweep = self.start + SWEEP_EVERY
        for n, share in enumerate(ascending_uniforms(self.rng, total)):
            created = self.start + datetime.timedelta(seconds=span * share**0.8)
            if created >= next_sweep:
                self.book.sweep(created)
                next_sweep = created + SWEEP_EVERY
            self.order(created)
            if not self.quiet and n % 2000 == 0:
                progress.update(n, extra=extra)
        # The nightly expiries up to the end of the period.
        self.book.sweep(self.end, inclusive=True)
        if not self.quiet:
            progress.finish(total, extra=extra)

    def path(self, fulfilment: str, created: datetime.datetime, location: Location):
        """The order's steps through the state machine (``orders.states``) up to the end of the
        period: (status from, status to, at, staff user id), and the transfer's (shipped, received)
        times when the goods came to the pickup store from a warehouse."""
        rng = self.rng
        if fulfilment == Fulfilment.IN_STORE:
            return [("", S.SOLD, created, self.cashiers[location.pk])], None
        steps = [("", S.PLACED, created, None)]
        transfer = None
        if fulfilment == Fulfilment.CLICK_AND_COLLECT:
            roll = rng.random()
            outcome = S.COLLECTED if roll < 0.86 else S.EXPIRED if roll < 0.94 else S.CANCELLED
            staff = self.cashiers[location.pk]
            if outcome == S.COLLECTED and rng.random() < 0.1:
                shipped = created + HOUR * rng.uniform(0.5, 3)
                received = shipped + HOUR * rng.uniform(12, 30)
                ready = received + HOUR * rng.uniform(0.2, 2)
                transfer = (shipped, received)
                steps.append((S.PLACED, S.AWAITING_TRANSFER, created, None))
                ready_step = (S.AWAITING_TRANSFER, S.READY_FOR_PICKUP, ready, None)
            else:
                ready = created + HOUR * rng.uniform(1, 30)
                ready_step = (S.PLACED, S.READY_FOR_PICKUP, ready, staff)
            pickup_until = ready + self.pickup_time
            if outcome == S.CANCELLED and rng.random() < 0.5:
                steps.append((S.PLACED, S.CANCELLED, created + (ready - created) * rng.uniform(0.1, 0.9), None))
            else:
                steps.append(ready_step)
                if outcome == S.COLLECTED:
                    at = ready + max((pickup_until - ready) * rng.random() ** 2, HOUR / 6)
                    steps.append((S.READY_FOR_PICKUP, S.COLLECTED, at, staff))
                elif outcome == S.EXPIRED:
                    # the hourly task, at five past, once the pickup time is over
                    at = pickup_until.replace(minute=ORDERS_EXPIRY_MINUTE, second=0, microsecond=0)
                    steps.append((S.READY_FOR_PICKUP, S.EXPIRED, at if at >= pickup_until else at + HOUR, None))
                else:
                    at = ready + (pickup_until - ready) * rng.uniform(0.05, 0.95)
                    steps.append((S.READY_FOR_PICKUP, S.CANCELLED, at, None))
        else:
            outcome = S.DELIVERED if rng.random() < 0.95 else S.CANCELLED
            packed = created + HOUR * rng.uniform(0.5, 12)
            shipped = packed + HOUR * rng.uniform(1, 24)
            delivered = shipped + HOUR * rng.uniform(4, 72)
            moves = [(S.PLACED, S.PACKED, packed), (S.PACKED, S.SHIPPED, shipped), (S.SHIPPED, S.DELIVERED, delivered)]
            if outcome == S.CANCELLED:
                stage = rng.choices((0, 1, 2), (60, 25, 15))[0]
                begin, finish = (created, packed, shipped)[stage], (packed, shipped, delivered)[stage]
                at = begin + (finish - begin) * rng.uniform(0.1, 0.9)
                moves = [*moves[:stage], ((S.PLACED, S.PACKED, S.SHIPPED)[stage], S.CANCELLED, at)]
            steps += [(before, after, at, None) for before, after, at in moves]
        steps = [step for step in steps if step[2] <= self.end]
        if transfer is not None and steps[-1][1] != S.COLLECTED:
            # Not collected yet: the goods were at the store (transfers are made for collected orders only).
            transfer = None
            steps = [
                (S.PLACED, after, at, self.cashiers[location.pk])
                if after == S.READY_FOR_PICKUP
                else (before, after, at, by)
                for before, after, at, by in steps
                if after != S.AWAITING_TRANSFER
            ]
        return steps, transfer

    def order(self, created: datetime.datetime) -> None:
        """One order placed at ``created`` with everything that happened to it by the end of the
        period: lines, points spent, status history, payments, a return, loyalty, the timeline."""
        rng, w = self.rng, self.writer
        order_id = self.next_id(Order)
        channel = rng.choices(self.channels, self.weights)[0]
        store = rng.choice(self.stores)
        customer = self._customer()
        if channel == Channel.STORE:
            fulfilment, location = Fulfilment.IN_STORE, store
            if rng.random() < 0.3:
                customer = None
        else:
            fulfilment = Fulfilment.CLICK_AND_COLLECT if rng.random() < 0.55 else Fulfilment.DELIVERY
            location = store if fulfilment == Fulfilment.CLICK_AND_COLLECT else rng.choice(self.warehouses)
        steps, transfer = self.path(fulfilment, created, location)
        status = steps[-1][1]
        reached = {after: at for _before, after, at, _by in steps}
        completed_at = reached[status] if status in COMPLETED_STATUSES else None
        number = f"{NUMBER_PREFIXES[channel]}-{self.tag}-{order_id:08d}"

        count = min(len(self.products), rng.randint(1, self.max_lines))
        lines = [
            Line(
                self.next_id(OrderLine),
                product_id,
                category_id,
                sku,
                name,
                price,
                1 if rng.random() < 0.7 else rng.randint(2, 4),
            )
            for product_id, category_id, sku, name, price in rng.sample(self.products, count)
        ]
        account = self.accounts.get(customer) if customer is not None else None
        points_store = location.pk if fulfilment != Fulfilment.DELIVERY else None
        redemption = None
        if account is not None:
            redemption = self.redeem(account, number, lines, created, channel, points_store)
        if completed_at is not None and fulfilment != Fulfilment.IN_STORE and redemption is None:
            # units refused at the door or the counter (orders paying with points keep them all)
            for line in lines:
                if line.quantity > 1 and rng.random() < 0.05:
                    line.refused = 1
        points_value = sum((line.points_value for line in lines), Decimal("0.00"))
        subtotal = sum((line.price * line.kept for line in lines), Decimal("0.00"))
        total = subtotal - points_value
        paid = total if completed_at is not None else Decimal("0.00")

        returned = None
        if completed_at is not None and rng.random() < self.return_rate:
            line = rng.choice(lines)
            at = completed_at + DAY * rng.uniform(0.5, 6)
            if line.kept >= 1 and at <= self.end:
                received = (
                    location if location.kind == LocationKind.STORE and rng.random() < 0.6 else rng.choice(self.stores)
                )
                share = unit_share(line.points_value, quantity=line.quantity, done=line.refused, count=1)
                line.returned = 1
                return_id = self.next_id(OrderReturn)
                returned = {
                    "id": return_id,
                    "number": f"R-{self.tag}-{return_id:08d}",
                    "line": line,
                    "amount": line.price,
                    "paid_amount": min(line.price - share, paid),
                    "at": at,
                    "location": received,
                    "reason": rng.choice(RETURN_REASONS),
                }

        points_earned, value_back = 0, Decimal("0.00")
        if account is not None and (completed_at is not None or redemption is not None):
            points_earned, value_back = self.order_points(
                account, number, status, reached, created, lines, redemption, returned, channel, points_store
            )
        refunded = returned["paid_amount"] if returned else Decimal("0.00")
        updated = max(steps[-1][2], returned["at"] if returned else created)
        row = {
            "id": order_id,
            "number": number,
            "channel": channel,
            "fulfilment": fulfilment,
            "status": status,
            "customer_id": customer,
            "location_id": location.pk,
            "subtotal": subtotal,
            "points_redeemed": redemption[1] if redemption else 0,
            "points_value": points_value,
            "total": total,
            "paid": paid,
            "refunded": refunded,
            "points_earned": points_earned,
            "created_at": created,
            "updated_at": updated,
        }
        if fulfilment == Fulfilment.IN_STORE:
            row["created_by_id"] = self.cashiers[store.pk]
        if fulfilment == Fulfilment.DELIVERY:
            row["delivery_address"] = f"{location.city}, Load street {order_id % 500}"
        if S.READY_FOR_PICKUP in reached:
            row["ready_at"] = reached[S.READY_FOR_PICKUP]
            row["pickup_until"] = row["ready_at"] + self.pickup_time
        for step, field in STEP_FIELDS:
            if step in reached:
                row[field] = reached[step]
        w.add(Order, row)
        for line in lines:
            w.add(
                OrderLine,
                {
                    "id": line.id,
                    "order_id": order_id,
                    "product_id": line.product_id,
                    "sku": line.sku,
                    "name": line.name,
                    "unit_price": line.price,
                    "quantity": line.quantity,
                    # the line shows what was kept; refused units carry no points (see above)
                    "subtotal": line.price * line.kept,
                    "amount": line.price * line.kept,
                    "points": line.points,
                    "points_value": line.points_value,
                    "total": line.price * line.kept - line.points_value,
                    "refused_quantity": line.refused,
                    "refused_subtotal": line.price * line.refused,
                    "refused_total": line.price * line.refused,
                    "returned_quantity": line.returned,
                },
            )
        for before, after, at, by in steps:
            w.add(
                StatusChange,
                {
                    "order_id": order_id,
                    "status_from": before,
                    "status_to": after,
                    "created_by_id": by,
                    "created_at": at,
                },
            )
        if redemption is not None:
            w.add(
                Payment,
                {
                    "id": self.next_id(Payment),
                    "order_id": order_id,
                    "method": PaymentMethod.POINTS,
                    "amount": points_value,
                    "refunded": min(points_value, value_back),
                    "created_at": created,
                    "updated_at": created,
                },
            )
        payment_id = None
        method = PaymentMethod.CASH if fulfilment == Fulfilment.IN_STORE else PaymentMethod.CARD_ONLINE
        if paid > 0:
            payment_id = self.next_id(Payment)
            w.add(
                Payment,
                {
                    "id": payment_id,
                    "order_id": order_id,
                    "method": method,
                    "amount": paid,
                    "refunded": refunded,
                    "created_at": created,
                    "updated_at": created,
                },
            )
        if returned is not None:
            self.write_return(order_id, returned, payment_id, method)
        if transfer is not None:
            self.ship_to_store(lines, location, created, transfer)
        if customer is not None:
            self.timeline(customer, number, channel, fulfilment, location, steps, lines, returned)

    def timeline(self, customer, number, channel, fulfilment, location, steps, lines, returned) -> None:
        """The entries ``orders.services`` puts on the customer's timeline: the order placed (not for a
        sale in a store), completed, cancelled or expired, and its return."""
        w = self.writer
        common = {
            "customer_id": customer,
            "channel": channel,
            "direction": Direction.INBOUND,
            "subject_type": "order",
            "subject_id": number,
        }

        def entry(kind, event, params, at, *, location_id=location.pk, staff=None, details=""):
            w.add(
                Interaction,
                {
                    **common,
                    "kind": kind,
                    "summary": event_summary(event, params),
                    "event": event,
                    "params": params,
                    "details": details,
                    "occurred_at": at,
                    "location_id": location_id,
                    "staff_id": staff,
                    "created_at": at,
                },
            )

        created = steps[0][2]
        if fulfilment != Fulfilment.IN_STORE:
            placed_total = sum((line.subtotal - line.points_value for line in lines), Decimal("0.00"))
            entry(InteractionKind.ORDER, "order.placed", {"number": number, "total": str(placed_total)}, created)
        _before, status, at, staff = steps[-1]
        if status in COMPLETED_STATUSES:
            kept = [line for line in lines if line.kept > 0]
            params = {
                "number": number,
                "status": status,
                "items": sum(line.kept for line in kept),
                "total": str(sum((line.price * line.kept for line in kept), Decimal("0.00"))),
            }
            details = "\n".join(f"{line.sku} {line.name} × {line.kept}: {line.kept_total()}" for line in kept)
            entry(InteractionKind.ORDER, "order.completed", params, at, staff=staff, details=details)
        elif status == S.CANCELLED:
            entry(InteractionKind.ORDER, "order.cancelled", {"number": number}, at)
        elif status == S.EXPIRED:
            entry(InteractionKind.ORDER, "order.expired", {"number": number}, at)
        if returned is not None:
            params = {
                "number": returned["number"],
                "order": number,
                "items": 1,
                "refund": str(returned["paid_amount"]),
            }
            received = returned["location"]
            entry(
                InteractionKind.RETURN,
                "return.accepted",
                params,
                returned["at"],
                location_id=received.pk,
                staff=self.cashiers.get(received.pk),
                details=returned["reason"],
            )

    # --- Loyalty: points spent, earned, given back, reversed -------------------------------

    def redeem(self, account, number, lines, now, channel, store_id):
        """``points_redeem`` when the order is placed, for a share of the orders of members with
        points available: the most the programme allows on the cart or the balance available then
        (sometimes a round part of it), taken first-in first-out, and spread over the lines
        (``orders.services.placing._price``). None when no points are spent."""
        lots = self.book.available(account, now)
        available = sum(lot[REMAINING] for lot in lots)
        if available < MIN_REDEEM or self.rng.random() >= REDEEM_SHARE:
            return None
        amounts = [line.subtotal for line in lines]
        cart = sum(amounts, Decimal("0.00"))
        most = floor_points(cart * self.programme.max_redeem_percent / 100 / self.point_value)
        points = min(available, most)
        if points >= 200 and self.rng.random() < 0.3:
            points = points // 100 * 100
        if points <= 0:
            return None
        value = money(points * self.point_value)
        point_value = value / points
        shares = spread_units(points, amounts, [int(amount // point_value) for amount in amounts])
        for line, share in zip(lines, shares, strict=True):
            line.points, line.points_value = share, money(share * point_value)
        plan = take_fifo(lots, points)
        entry_id = self.book.entry_id()
        self.writer.add(
            PointsEntry,
            {
                "id": entry_id,
                "account_id": account,
                "kind": EntryKind.REDEEM,
                "points": -points,
                "remaining": 0,
                "cause_type": "order",
                "cause_id": number,
                "key": f"redeem:{number}",
                "point_value": self.point_value,
                "amount": value,
                "channel": channel,
                "store_id": store_id,
                "created_at": now,
            },
        )
        allocations = [(lot[ENTRY], take, lot[EXPIRES]) for lot, take in plan]
        self.book.consume(entry_id, plan)
        return entry_id, points, value, allocations

    def give_back(self, account, redemption, points, at, cause_id, channel, store_id) -> Decimal:
        """Spent points coming back (a cancellation, a return) as new lots spendable at once, with
        the expiry of the lots they were taken from; returns their value."""
        redemption_id, _points, _value, allocations = redemption
        for expires_at, chunk in give_back_chunks(allocations, 0, points):
            entry_id = self.book.entry_id()
            self.writer.add(
                PointsEntry,
                {
                    "id": entry_id,
                    "account_id": account,
                    "kind": EntryKind.REVERSAL,
                    "points": chunk,
                    "remaining": chunk,
                    "spendable_from": at,
                    "expires_at": expires_at,
                    "cause_type": "return",
                    "cause_id": cause_id,
                    "reverses_id": redemption_id,
                    "point_value": self.point_value,
                    "amount": money(chunk * self.point_value),
                    "channel": channel,
                    "store_id": store_id,
                    "created_at": at,
                },
            )
            self.book.add(account, at, expires_at, entry_id, chunk)
        return money(points * self.point_value)

    def order_points(self, account, number, status, reached, created, lines, redemption, returned, channel, store_id):
        """What loyalty records of the order (``OrderPoints``) and the ledger entries of its life:
        points earned on completion (pending for the holding period), and on a return the earned
        points of the returned goods cancelled and the spent ones given back in proportion; on a
        cancellation or an expiry every spent point given back. Returns (points earned, value of
        the spent points given back)."""
        w = self.writer
        order_points_id = self.next_id(OrderPoints)
        row = {"id": order_points_id, "reference": number, "account_id": account, "channel": channel}
        row["store_id"] = store_id
        spent, spent_value = (redemption[1], redemption[2]) if redemption else (0, Decimal("0.00"))
        if redemption is not None:
            cart = sum((line.subtotal for line in lines), Decimal("0.00"))
            row.update(order_total=cart, points_redeemed=spent, redeemed_value=spent_value, redemption_id=redemption[0])
        earned, value_back, updated = 0, Decimal("0.00"), created
        completed_at = reached[status] if status in COMPLETED_STATUSES else None
        if completed_at is not None:
            # points_earn_for_order (orders paying with points refuse nothing: all of them are kept)
            total = sum((line.price * line.kept for line in lines), Decimal("0.00"))
            paid = max(total - spent_value, Decimal("0.00"))
            eligible = total
            base = eligible * paid / total if total else Decimal(0)
            earned = floor_points(base * self.earn_rate / 100 / self.point_value)
            spendable_from = completed_at + self.holding
            earn_lot = None
            if earned > 0:
                entry_id = self.book.entry_id()
                w.add(
                    PointsEntry,
                    {
                        "id": entry_id,
                        "account_id": account,
                        "kind": EntryKind.EARN,
                        "points": earned,
                        "remaining": earned,
                        "spendable_from": spendable_from,
                        "expires_at": spendable_from + self.expiry,
                        "cause_type": "order",
                        "cause_id": number,
                        "key": f"earn:{number}",
                        "tier_id": self.base_tier.pk if self.base_tier else None,
                        "earn_rate": self.earn_rate,
                        "point_value": self.point_value,
                        "amount": paid,
                        "channel": channel,
                        "store_id": store_id,
                        "created_at": completed_at,
                    },
                )
                earn_lot = self.book.add(account, spendable_from, spendable_from + self.expiry, entry_id, earned)
            for line in lines:
                if line.kept > 0:
                    w.add(
                        OrderPointsLine,
                        {
                            "order_id": order_points_id,
                            "product_id": line.product_id,
                            "category_id": line.category_id,
                            "quantity": line.kept,
                            "amount": line.price * line.kept,
                            "eligible": True,
                        },
                    )
            if paid > 0:
                self.spend(account, paid, completed_at, completed_at, ("order", number), channel, store_id)
            row.update(
                completed_at=completed_at,
                order_total=total,
                paid_amount=paid,
                eligible_amount=eligible,
                points_earned=earned,
            )
            updated = completed_at
            if returned is not None:
                value_back = self.points_of_return(
                    account, row, earn_lot, redemption, returned, completed_at, channel, store_id
                )
                updated = returned["at"]
        elif redemption is not None and status in (S.CANCELLED, S.EXPIRED):
            # points_reverse(lines=None) from orders.services.fulfilment._unwind
            at = reached[status]
            reference = f"{number}-{'cancel' if status == S.CANCELLED else 'expired'}"
            value_back = self.give_back(account, redemption, spent, at, reference, channel, store_id)
            w.add(
                OrderPointsReturn,
                {
                    "order_id": order_points_id,
                    "reference": reference,
                    "amount": row["order_total"],
                    "eligible_amount": Decimal("0.00"),
                    "points_given_back": spent,
                    "value_given_back": value_back,
                    "created_at": at,
                },
            )
            row.update(returned_amount=row["order_total"], points_redeemed_returned=spent)
            updated = at
        row["created_at"], row["updated_at"] = (created if redemption is not None else completed_at), updated
        w.add(OrderPoints, row)
        return earned, value_back

    def points_of_return(self, account, row, earn_lot, redemption, returned, completed_at, channel, store_id):
        """``points_reverse`` for a return of one unit: the earned points of its amount cancelled
        (still pending: returns come within the holding period), spent points given back in
        proportion, the qualifying spend reduced. Returns the value of the points given back."""
        w = self.writer
        at, reference = returned["at"], returned["number"]
        total, earned, spent = row["order_total"], row["points_earned"], row.get("points_redeemed", 0)
        amount = min(returned["amount"], total)
        to_reverse = proportion(earned, amount, row["eligible_amount"])
        cancelled = taken = 0
        if to_reverse:
            entry_id = self.book.entry_id()
            w.add(
                PointsEntry,
                {
                    "id": entry_id,
                    "account_id": account,
                    "kind": EntryKind.REVERSAL,
                    "points": -to_reverse,
                    "remaining": 0,
                    "cause_type": "return",
                    "cause_id": reference,
                    "reverses_id": earn_lot[ENTRY],
                    "channel": channel,
                    "store_id": store_id,
                    "created_at": at,
                },
            )
            self.book.consume(entry_id, [(earn_lot, to_reverse)])
            cancelled = to_reverse if earn_lot[SPENDABLE] > at else 0
            taken = to_reverse - cancelled
        given_back, value_back = 0, Decimal("0.00")
        if spent:
            given_back = proportion(spent, amount, total)
            if given_back:
                value_back = self.give_back(account, redemption, given_back, at, reference, channel, store_id)
        if total > 0 and amount > 0:
            spend = money(amount * row["paid_amount"] / total)
            if spend:
                self.spend(account, -spend, completed_at, at, ("return", reference), channel, store_id)
        self.writer.add(
            OrderPointsReturn,
            {
                "order_id": row["id"],
                "reference": reference,
                "amount": amount,
                "eligible_amount": amount,
                "points_cancelled": cancelled,
                "points_taken_back": taken,
                "points_given_back": given_back,
                "value_given_back": value_back,
                "created_at": at,
            },
        )
        returned["points_reversed"], returned["points_given_back"] = to_reverse, given_back
        row.update(
            returned_amount=amount,
            returned_eligible_amount=amount,
            points_earn_reversed=to_reverse,
            points_redeemed_returned=given_back,
        )
        return value_back

    def spend(self, account, amount, occurred_at, at, cause, channel, store_id) -> None:
        """Qualifying spend for tiers: a purchase, or a return dated at its purchase."""
        self.writer.add(
            SpendRecord,
            {
                "account_id": account,
                "amount": amount,
                "occurred_at": occurred_at,
                "cause_type": cause[0],
                "cause_id": cause[1],
                "channel": channel,
                "store_id": store_id,
                "created_at": at,
            },
        )

    def settle_lots(self, first_entry: int) -> None:
        """Each lot written by this run keeps what its allocations leave of it."""
        consumed = (
            Allocation.objects.filter(lot_id=models.OuterRef("pk"))
            .values("lot_id")
            .annotate(total=models.Sum("points"))
            .values("total")
        )
        PointsEntry.objects.filter(
            pk__gte=first_entry,
            points__gt=0,
            pk__in=Allocation.objects.filter(lot_id__gte=first_entry).values("lot_id"),
        ).update(remaining=models.F("points") - models.Subquery(consumed))

    # --- Returns and transfers -----------------------------------------------------------

    def write_return(self, order_id, returned, payment_id, method) -> None:
        w = self.writer
        line, received, at = returned["line"], returned["location"], returned["at"]
        refund = returned["paid_amount"]
        staff = self.cashiers.get(received.pk)
        w.add(
            OrderReturn,
            {
                "id": returned["id"],
                "number": returned["number"],
                "order_id": order_id,
                "location_id": received.pk,
                "reason": returned["reason"],
                "refund_method": RefundMethod.ORIGINAL,
                "amount": returned["amount"],
                "paid_amount": refund,
                "refund_amount": refund,
                "points_reversed": returned.get("points_reversed", 0),
                "points_given_back": returned.get("points_given_back", 0),
                "created_by_id": staff,
                "created_at": at,
                "updated_at": at,
            },
        )
        w.add(
            ReturnLine,
            {
                "id": self.next_id(ReturnLine),
                "order_return_id": returned["id"],
                "order_line_id": line.id,
                "quantity": 1,
                "condition": ReturnCondition.RESELLABLE,
                "amount": returned["amount"],
                "paid_amount": refund,
            },
        )
        if refund > 0:
            w.add(
                Refund,
                {
                    "id": self.next_id(Refund),
                    "order_id": order_id,
                    "order_return_id": returned["id"],
                    "payment_id": payment_id,
                    "method": method,
                    "amount": refund,
                    "status": RefundStatus.DONE,
                    "completed_at": at,
                    "reason": self.texts["refund"] % {"number": returned["number"]},
                    "created_by_id": staff,
                    "created_at": at,
                    "updated_at": at,
                },
            )

    def ship_to_store(self, lines, store, created, transfer_times) -> None:
        """The goods came from a warehouse by transfer: the transfer, its lines and allocations
        (sold, or released when refused at the counter); its two movements per product are
        applied to the stock rows (``stock``)."""
        w = self.writer
        source = self.warehouses[0]
        shipped, received = transfer_times
        transfer_id = self.next_id(Transfer)
        transfer_number = f"TR-{self.tag}-{transfer_id:08d}"
        w.add(
            Transfer,
            {
                "id": transfer_id,
                "number": transfer_number,
                "source_id": source.pk,
                "destination_id": store.pk,
                "status": TransferStatus.RECEIVED,
                "cause_type": "order",
                "shipped_at": shipped,
                "received_at": received,
                "created_at": created,
                "updated_at": received,
            },
        )
        for line in lines:
            quantity = line.quantity
            w.add(
                TransferLine,
                {
                    "id": self.next_id(TransferLine),
                    "transfer_id": transfer_id,
                    "product_id": line.product_id,
                    "quantity": quantity,
                    "received_quantity": quantity,
                },
            )
            w.add(
                OrderAllocation,
                {
                    "id": self.next_id(OrderAllocation),
                    "line_id": line.id,
                    "location_id": store.pk,
                    "quantity": quantity,
                    "transfer_id": transfer_id,
                    "sold": line.kept,
                    "released": line.refused,
                },
            )
            for location, delta, reason, at in (
                (source.pk, -quantity, MovementReason.TRANSFER_OUT, shipped),
                (store.pk, quantity, MovementReason.TRANSFER_IN, received),
            ):
                key = (line.product_id, location)
                self.transfer_deltas[key] = self.transfer_deltas.get(key, 0) + delta
                w.add(
                    StockMovement,
                    {
                        "product_id": line.product_id,
                        "location_id": location,
                        "on_hand_delta": delta,
                        "reason": reason,
                        "cause_type": "transfer",
                        "cause_id": transfer_number,
                        "created_at": at,
                    },
                )

    # --- Stock ---------------------------------------------------------------------------

    def stock(self) -> None:
        """A stock row per product and location, each with an opening receipt in the ledger so that
        receipt + the transfers' movements = on hand; warehouses hold plenty."""
        w = self.writer
        existing = set(Stock.objects.values_list("product_id", "location_id"))
        locations = [*self.stores, *self.warehouses]
        progress = Progress("stock", len(locations) * len(self.products), self.progress_stream)
        done = 0
        for location in locations:
            for product_id, *_rest in self.products:
                done += 1
                key = (product_id, location.pk)
                moved = self.transfer_deltas.get(key, 0)
                if key in existing:
                    if moved:
                        Stock.objects.filter(product_id=product_id, location_id=location.pk).update(
                            on_hand=models.F("on_hand") + moved
                        )
                    continue
                opening = (
                    self.rng.randint(5_000, 20_000)
                    if location.kind == LocationKind.WAREHOUSE
                    else self.rng.choice([0, 0, 1, 2, 3, 5, 8, 12, 20])
                )
                on_hand = opening + moved
                if on_hand < 0:
                    opening, on_hand = opening - on_hand, 0
                if opening:
                    w.add(
                        StockMovement,
                        {
                            "product_id": product_id,
                            "location_id": location.pk,
                            "on_hand_delta": opening,
                            "reason": MovementReason.RECEIPT,
                            "cause_type": "load",
                            "cause_id": self.tag,
                            "created_at": self.start,
                        },
                    )
                if opening or moved:
                    w.add(
                        Stock,
                        {
                            "product_id": product_id,
                            "location_id": location.pk,
                            "on_hand": on_hand,
                            "min_quantity": self.rng.choice([0, 0, 2, 3, 5]),
                            "updated_at": self.end,
                        },
                    )
            if not self.quiet:
                progress.update(done)
        w.flush()
        if not self.quiet:
            progress.finish(done)
