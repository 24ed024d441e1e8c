"""Fill a database with a realistic shop for measuring: stores, catalogue, stock, customers, orders
of every channel with their lines, payments, returns and refunds, and loyalty activity.

It writes rows directly (COPY on PostgreSQL, bulk_create elsewhere), bypassing the services for
speed; what it writes is kept consistent by construction (see ``Command.help``).
"""

import datetime
import json
import random
import sys
import time
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.utils import timezone

from customers.models import Customer
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
from loyalty.models import Account, EntryKind, OrderPoints, PointsEntry
from omni.reports.summaries import summaries_rebuild
from orders.models import (
    NUMBER_PREFIXES,
    Fulfilment,
    Order,
    OrderAllocation,
    OrderChannel,
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
)
from orders.services import loyalty_channel as order_loyalty_channel

CITIES = ["Moscow", "Saint Petersburg", "Kazan", "Novosibirsk", "Yekaterinburg", "Nizhny Novgorod", "Samara"]
CHANNEL_WEIGHTS = [
    (OrderChannel.STORE, 45),
    (OrderChannel.SITE, 25),
    (OrderChannel.APP, 18),
    (OrderChannel.CALL_CENTRE, 5),
    (OrderChannel.MESSENGER, 3),
    (OrderChannel.SOCIAL, 2),
    (OrderChannel.MARKETPLACE, 2),
]
RETURN_REASONS = ["Did not fit", "Changed my mind", "Faulty", "Not as described", "Arrived late", "Wrong colour"]
EARN_RATE = Decimal("0.05")
HOLDING_DAYS, EXPIRY_DAYS = 14, 365


class Progress:
    """One line on stderr, rewritten in place: ``orders 350,000 / 1,000,000 (35 %) 12.3 s``."""

    def __init__(self, label: str, total: int, stream=None):
        self.label, self.total, self.stream = label, max(total, 1), stream or sys.stderr
        self.started = time.monotonic()
        self.last = 0.0

    def update(self, done: int, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last < 0.5:
            return
        self.last = now
        percent = done * 100 // self.total
        bar = "#" * (percent // 4)
        self.stream.write(
            f"\r{self.label:<10} [{bar:<25}] {done:>11,} / {self.total:,} ({percent:3d} %) {now - self.started:6.1f} s"
        )
        self.stream.flush()

    def finish(self, done: int) -> None:
        self.update(done, force=True)
        self.stream.write("\n")


class RowWriter:
    """Writes rows (dicts of attribute names) of a model in batches: COPY on PostgreSQL, else
    bulk_create. Fields a row leaves out take the model's default (``""``, 0, ...)."""

    def __init__(self, batch_size: int):
        self.batch_size = batch_size
        self.copy = connection.vendor == "postgresql"
        self.buffers: dict[type[models.Model], list[dict]] = {}
        self.counts: dict[type[models.Model], int] = {}
        self._defaults: dict[type[models.Model], dict] = {}
        self.now = timezone.now()

    def next_id(self, model) -> int:
        return (model.objects.aggregate(top=models.Max("pk"))["top"] or 0) + 1

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
        buffer = self.buffers.setdefault(model, [])
        buffer.append(row)
        if len(buffer) >= self.batch_size:
            self.flush(model)

    def flush(self, model=None) -> None:
        for each in [model] if model else list(self.buffers):
            rows = self.buffers.get(each)
            if rows:
                self._write(each, rows)
                self.counts[each] = self.counts.get(each, 0) + len(rows)
                self.buffers[each] = []

    def _write(self, model, rows: list[dict]) -> None:
        pk = model._meta.pk.attname
        with_pk = pk in rows[0]  # else the database numbers the rows
        defaults = {name: value for name, value in self.defaults(model).items() if with_pk or name != pk}
        fields = [field for field in model._meta.concrete_fields if with_pk or field.attname != pk]
        if not self.copy:
            model.objects.bulk_create([model(**{**defaults, **row}) for row in rows], batch_size=1000)
            return
        json_fields = {f.attname for f in fields if isinstance(f, models.JSONField)}
        attnames = [f.attname for f in fields]
        columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        sql = f"COPY {connection.ops.quote_name(model._meta.db_table)} ({columns}) FROM STDIN"
        with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
            for row in rows:
                values = []
                for name in attnames:
                    value = row.get(name, defaults[name])
                    if name in json_fields and value is not None:
                        value = json.dumps(value)
                    values.append(value)
                copy.write_row(values)

    def reset_sequences(self, model_list) -> None:
        statements = connection.ops.sequence_reset_sql(no_style(), model_list)
        if statements:
            with connection.cursor() as cursor:
                for statement in statements:
                    cursor.execute(statement)


class Command(BaseCommand):
    help = (
        "Fill the database with load data of a realistic shape, fast: stores and warehouses in several "
        "cities, a catalogue, stock with its ledger, customers, loyalty accounts, orders of every channel "
        "(sales in store, click-and-collect, delivery) with lines, payments, returns and refunds, and "
        "points earned. It BYPASSES the services (rows are written with COPY on PostgreSQL, bulk_create "
        "elsewhere), so no message, timeline entry, status history or stock movement of a sale is "
        "written. What it writes is consistent: each order's totals come from its lines, refunds stay "
        "within what was paid, returns within what was bought; the stock ledger sums to the stock rows "
        "(an opening receipt per row, and each transfer's movements); every points entry is an earned "
        "lot not yet spent, so balances are the sum of the ledger. For measuring only: do not run it on "
        "a database with real data."
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
        parser.add_argument("--batch-size", type=int, default=20000, help="Rows per COPY or bulk_create batch.")
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
            self.customers_and_accounts(options)
            self.orders(options)
            self.stock()
            self.writer.flush()
            self.writer.reset_sequences(
                [
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
                    Stock,
                    StockMovement,
                    PointsEntry,
                    OrderPoints,
                ]
            )
        # The rows bypassed the services (and their signals): the report summaries are summed anew.
        summaries_rebuild()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        counts = ", ".join(f"{model._meta.verbose_name_plural}: {n:,}" for model, n in self.writer.counts.items())
        self.stdout.write(f"Done in {time.monotonic() - started:.1f} s. {counts}.")

    # --- Stores, catalogue, staff -------------------------------------------------------

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
        self.products = list(Product.objects.filter(sku__startswith="LOAD-").values_list("pk", "sku", "name", "price"))
        stores = list(Location.objects.filter(code__startswith="load-s"))
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

    # --- Customers and loyalty accounts ------------------------------------------------

    def customers_and_accounts(self, options) -> None:
        count = options["customers"]
        first_id = self.writer.next_id(Customer)
        first_account = self.writer.next_id(Account)
        progress = Progress("customers", count, self.progress_stream)
        self.customer_ids = []
        self.accounts: dict[int, int] = {}
        span = (self.end - self.start).total_seconds() + 365 * 86400
        account_id = first_account
        for i in range(count):
            pk = first_id + i
            joined = self.end - datetime.timedelta(seconds=self.rng.random() * span)
            channel = self.rng.choice(["site", "app", "store", "call_centre"])
            self.writer.add(
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
                self.writer.add(
                    Account,
                    {
                        "id": account_id,
                        "customer_id": pk,
                        "opened_at": joined,
                        "channel": channel,
                        "created_at": joined,
                        "updated_at": joined,
                    },
                )
                self.accounts[pk] = account_id
                account_id += 1
            if not self.quiet and i % 1000 == 0:
                progress.update(i)
        self.writer.flush(Customer)
        self.writer.flush(Account)
        if not self.quiet:
            progress.finish(count)

    # --- Orders --------------------------------------------------------------------------

    def _customer(self) -> int:
        # A few customers buy often, most rarely: the first ones of a skewed draw.
        return self.customer_ids[int(len(self.customer_ids) * self.rng.random() ** 2.2)]

    def orders(self, options) -> None:
        total = options["orders"]
        w = self.writer
        ids = {model: w.next_id(model) for model in (Order, OrderLine, Payment, OrderReturn, ReturnLine, Refund)}
        ids.update({model: w.next_id(model) for model in (OrderAllocation, Transfer, TransferLine, PointsEntry)})
        ids[OrderPoints] = w.next_id(OrderPoints)
        channels = [channel for channel, _w in CHANNEL_WEIGHTS]
        weights = [weight for _c, weight in CHANNEL_WEIGHTS]
        span = (self.end - self.start).total_seconds()
        progress = Progress("orders", total, self.progress_stream)
        rng, products, stores = self.rng, self.products, self.stores
        max_lines = max(1, round(options["lines_per_order"] * 2 - 1))
        for n in range(total):
            order_id = ids[Order]
            ids[Order] += 1
            channel = rng.choices(channels, weights)[0]
            created = self.start + datetime.timedelta(seconds=span * rng.random() ** 0.8)
            store = rng.choice(stores)
            customer = self._customer()
            row = {"id": order_id, "channel": channel, "created_at": created}
            if channel == OrderChannel.STORE:
                fulfilment, location, status = Fulfilment.IN_STORE, store, OrderStatus.SOLD
                if rng.random() < 0.3:
                    customer = None
                row["created_by_id"] = self.cashiers[store.pk]
                completed = created
            else:
                fulfilment = Fulfilment.CLICK_AND_COLLECT if rng.random() < 0.55 else Fulfilment.DELIVERY
                location = store if fulfilment == Fulfilment.CLICK_AND_COLLECT else rng.choice(self.warehouses)
                completed = created + datetime.timedelta(hours=rng.uniform(4, 96))
                roll = rng.random()
                if completed > self.end:
                    status = (
                        OrderStatus.READY_FOR_PICKUP
                        if fulfilment == Fulfilment.CLICK_AND_COLLECT
                        else OrderStatus.SHIPPED
                    )
                elif fulfilment == Fulfilment.CLICK_AND_COLLECT:
                    status = (
                        OrderStatus.COLLECTED
                        if roll < 0.86
                        else OrderStatus.EXPIRED
                        if roll < 0.94
                        else OrderStatus.CANCELLED
                    )
                else:
                    status = OrderStatus.DELIVERED if roll < 0.95 else OrderStatus.CANCELLED
            is_completed = status in (OrderStatus.SOLD, OrderStatus.COLLECTED, OrderStatus.DELIVERED)
            chosen = rng.sample(products, min(len(products), rng.randint(1, max_lines)))
            subtotal = Decimal("0.00")
            lines = []
            for product_id, sku, name, price in chosen:
                quantity = 1 if rng.random() < 0.7 else rng.randint(2, 4)
                refused = (
                    1
                    if is_completed and fulfilment != Fulfilment.IN_STORE and quantity > 1 and rng.random() < 0.05
                    else 0
                )
                line_subtotal = price * quantity
                lines.append([ids[OrderLine], product_id, sku, name, price, quantity, refused, 0, line_subtotal])
                ids[OrderLine] += 1
                subtotal += price * (quantity - refused)
            prefix = NUMBER_PREFIXES[channel]
            number = f"{prefix}-{self.tag}-{order_id:08d}"
            row.update(
                number=number,
                fulfilment=fulfilment,
                status=status,
                customer_id=customer,
                location_id=location.pk,
                subtotal=subtotal,
                total=subtotal,
                updated_at=created,
            )
            if fulfilment == Fulfilment.DELIVERY:
                row["delivery_address"] = f"{location.city}, Load street {order_id % 500}"
            paid = subtotal if is_completed else Decimal("0.00")
            refunded = Decimal("0.00")
            if (
                fulfilment == Fulfilment.CLICK_AND_COLLECT
                and status != OrderStatus.CANCELLED
                or (
                    status == OrderStatus.CANCELLED
                    and fulfilment == Fulfilment.CLICK_AND_COLLECT
                    and rng.random() < 0.5
                )
            ):
                ready = created + (completed - created) * rng.uniform(0.2, 0.6)
                row["ready_at"] = ready
                row["pickup_until"] = ready + datetime.timedelta(days=3)
            if is_completed:
                row["completed_at"] = completed
            elif status == OrderStatus.EXPIRED:
                row["expired_at"] = row["ready_at"] + datetime.timedelta(days=3)
            elif status == OrderStatus.CANCELLED:
                row["cancelled_at"] = completed
            if status == OrderStatus.SHIPPED:
                row["shipped_at"] = created + datetime.timedelta(hours=2)

            return_row = None
            if is_completed and rng.random() < options["return_rate"]:
                line = rng.choice(lines)
                if line[5] - line[6] >= 1:
                    line[7] = 1
                    value = line[4]
                    refunded = value
                    at = completed + datetime.timedelta(days=rng.uniform(0.5, 6))
                    received = (
                        location if location.kind == LocationKind.STORE and rng.random() < 0.6 else rng.choice(stores)
                    )
                    return_row = (line, value, at, received)
            row["paid"] = paid
            row["refunded"] = refunded

            member_account = self.accounts.get(customer) if customer else None
            if is_completed and member_account:
                points = int((paid - refunded) * EARN_RATE)
                row["points_earned"] = points
                loyalty_channel = order_loyalty_channel(channel)
                store_id = location.pk if fulfilment != Fulfilment.DELIVERY else None
                w.add(
                    OrderPoints,
                    {
                        "id": ids[OrderPoints],
                        "reference": number,
                        "account_id": member_account,
                        "channel": loyalty_channel,
                        "store_id": store_id,
                        "order_total": subtotal,
                        "completed_at": completed,
                        "paid_amount": paid,
                        "eligible_amount": paid,
                        "points_earned": points,
                        "returned_amount": refunded,
                        "returned_eligible_amount": refunded,
                        "created_at": completed,
                        "updated_at": completed,
                    },
                )
                ids[OrderPoints] += 1
                if points > 0:
                    w.add(
                        PointsEntry,
                        {
                            "id": ids[PointsEntry],
                            "account_id": member_account,
                            "kind": EntryKind.EARN,
                            "points": points,
                            "remaining": points,
                            "spendable_from": completed + datetime.timedelta(days=HOLDING_DAYS),
                            "expires_at": completed + datetime.timedelta(days=HOLDING_DAYS + EXPIRY_DAYS),
                            "cause_type": "order",
                            "cause_id": number,
                            "amount": paid - refunded,
                            "channel": loyalty_channel,
                            "store_id": store_id,
                            "created_at": completed,
                        },
                    )
                    ids[PointsEntry] += 1
            w.add(Order, row)
            for line_id, product_id, sku, name, price, quantity, refused, returned, line_subtotal in lines:
                w.add(
                    OrderLine,
                    {
                        "id": line_id,
                        "order_id": order_id,
                        "product_id": product_id,
                        "sku": sku,
                        "name": name,
                        "unit_price": price,
                        "quantity": quantity,
                        "subtotal": line_subtotal,
                        "amount": line_subtotal,
                        "total": line_subtotal,
                        "refused_quantity": refused,
                        "returned_quantity": returned,
                    },
                )
            payment_id = None
            if paid > 0:
                payment_id = ids[Payment]
                ids[Payment] += 1
                method = PaymentMethod.CASH if fulfilment == Fulfilment.IN_STORE else PaymentMethod.CARD_ONLINE
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
            if return_row is not None:
                self.write_return(ids, order_id, number, return_row, payment_id, method)
            if fulfilment == Fulfilment.CLICK_AND_COLLECT and is_completed and rng.random() < 0.1:
                self.ship_to_store(ids, lines, location, created)
            if not self.quiet and n % 2000 == 0:
                progress.update(n)
        w.flush()
        if not self.quiet:
            progress.finish(total)

    def write_return(self, ids, order_id, number, return_row, payment_id, method) -> None:
        line, value, at, received = return_row
        w = self.writer
        return_id = ids[OrderReturn]
        ids[OrderReturn] += 1
        w.add(
            OrderReturn,
            {
                "id": return_id,
                "number": f"R-{self.tag}-{return_id:08d}",
                "order_id": order_id,
                "location_id": received.pk,
                "reason": self.rng.choice(RETURN_REASONS),
                "refund_method": RefundMethod.ORIGINAL,
                "amount": value,
                "paid_amount": value,
                "refund_amount": value,
                "created_at": at,
                "updated_at": at,
            },
        )
        w.add(
            ReturnLine,
            {
                "id": ids[ReturnLine],
                "order_return_id": return_id,
                "order_line_id": line[0],
                "quantity": 1,
                "condition": ReturnCondition.RESELLABLE,
                "amount": value,
                "paid_amount": value,
            },
        )
        ids[ReturnLine] += 1
        w.add(
            Refund,
            {
                "id": ids[Refund],
                "order_id": order_id,
                "order_return_id": return_id,
                "payment_id": payment_id,
                "method": method,
                "amount": value,
                "status": RefundStatus.DONE,
                "completed_at": at,
                "reason": f"Return of {number}",
                "created_at": at,
                "updated_at": at,
            },
        )
        ids[Refund] += 1

    def ship_to_store(self, ids, lines, store, created) -> None:
        """The goods came from a warehouse by transfer: the transfer, its lines and allocations;
        its two movements per product are applied to the stock rows (``stock``)."""
        w = self.writer
        source = self.warehouses[0]
        transfer_id = ids[Transfer]
        ids[Transfer] += 1
        w.add(
            Transfer,
            {
                "id": transfer_id,
                "number": f"TR-{self.tag}-{transfer_id:08d}",
                "source_id": source.pk,
                "destination_id": store.pk,
                "status": TransferStatus.RECEIVED,
                "cause_type": "order",
                "shipped_at": created + datetime.timedelta(hours=1),
                "received_at": created + datetime.timedelta(hours=20),
                "created_at": created,
                "updated_at": created,
            },
        )
        for line_id, product_id, _sku, _name, _price, quantity, _refused, _returned, _subtotal in lines:
            w.add(
                TransferLine,
                {
                    "id": ids[TransferLine],
                    "transfer_id": transfer_id,
                    "product_id": product_id,
                    "quantity": quantity,
                    "received_quantity": quantity,
                },
            )
            ids[TransferLine] += 1
            w.add(
                OrderAllocation,
                {
                    "id": ids[OrderAllocation],
                    "line_id": line_id,
                    "location_id": store.pk,
                    "quantity": quantity,
                    "transfer_id": transfer_id,
                    "sold": quantity,
                },
            )
            ids[OrderAllocation] += 1
            for location, delta, reason in (
                (source.pk, -quantity, MovementReason.TRANSFER_OUT),
                (store.pk, quantity, MovementReason.TRANSFER_IN),
            ):
                self.transfer_deltas[(product_id, location)] = (
                    self.transfer_deltas.get((product_id, location), 0) + delta
                )
                w.add(
                    StockMovement,
                    {
                        "product_id": product_id,
                        "location_id": location,
                        "on_hand_delta": delta,
                        "reason": reason,
                        "cause_type": "transfer",
                        "cause_id": f"TR-{self.tag}-{transfer_id:08d}",
                        "created_at": created,
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
