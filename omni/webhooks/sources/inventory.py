"""stock.changed, product.changed and transfer.received, from ``inventory.hooks``.

stock.changed is coalesced. A stock write only appends its (product, location) pairs to
``StockEventPending`` in its transaction (no event, no read of the stock). After the commit a flush
is queued, at most one per ``STOCK_EVENT_DEBOUNCE_SECONDS``: it reads the pairs waiting, the stock
of each as it is then, records one stock.changed per pair with those figures, and deletes the rows
it read. A burst of 1,000 reservations of one SKU at one location thus sends about one event per
second of the burst, and the last one carries the figures after the burst: a write committed after
the flush read the rows leaves a row of its own, flushed next time. Rows left by a lost queue
message (a broker outage) go with the next flush, or with ``stock_events_flush`` run by beat.
Flushes take turns (an advisory lock on PostgreSQL), so a pair's events follow its figures in time.

Without a broker (tasks run eagerly, in-process) there is nothing to wait for: each commit flushes.
"""

import logging
from collections import defaultdict

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from rest_framework import serializers

from inventory import hooks
from inventory.api.serializers import LocationAvailabilitySerializer, ProductSerializer
from inventory.api.transfer_serializers import TransferSerializer
from inventory.api.transfers import transfers_for_display
from inventory.models import Product, Stock, Transfer
from omni.core.api.serializers import represent
from omni.webhooks.sources import recording
from omni.webhooks.stock_models import StockEventPending

logger = logging.getLogger(__name__)

STOCK_EVENT_DEBOUNCE_SECONDS = 1
FLUSH_BATCH = 5_000
_TIME = serializers.DateTimeField()  # times as the API writes them (local time, with its offset)
_FLUSH_QUEUED_KEY = "omni.webhooks:stock_flush_queued"
_FLUSH_LOCK = 0x57_0C_4E_5E  # a PostgreSQL advisory lock key of its own


# --- stock.changed ----------------------------------------------------------------------


def stock_data(stock: Stock) -> dict:
    """A stock row as an integration reads it: the availability API's location entry, with the figures."""
    where = LocationAvailabilitySerializer({"location": stock.location.code, "available": stock.available}).data
    return {
        "sku": stock.product.sku,
        **where,
        "on_hand": stock.on_hand,
        "reserved": stock.reserved,
        "updated_at": _TIME.to_representation(stock.updated_at),
    }


def stock_changed(changes) -> None:
    """Note the pairs changed; the events follow the commit (see the module's docstring)."""
    if not changes or not recording.wanted("stock.changed"):
        return
    StockEventPending.objects.bulk_create(
        [StockEventPending(product_id=product_id, location_id=location_id) for product_id, location_id in changes]
    )
    transaction.on_commit(flush_soon)


def flush_soon() -> None:
    """Queue a flush, unless one is queued already for the next moments."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        stock_events_flush()
        return
    if not cache.add(_FLUSH_QUEUED_KEY, 1, timeout=STOCK_EVENT_DEBOUNCE_SECONDS):
        return
    try:
        stock_events_flush_task.apply_async(countdown=STOCK_EVENT_DEBOUNCE_SECONDS)
    except Exception:  # the broker is down: the rows wait for the next flush; the change is committed
        cache.delete(_FLUSH_QUEUED_KEY)
        logger.exception("Could not queue the stock events flush")


def _stocks_of(pairs: set[tuple[int, int]]) -> list[Stock]:
    """The stock rows of these pairs as they are now (unlocked: the flush never waits for a sale)."""
    products_at: dict[int, set[int]] = defaultdict(set)
    for product_id, location_id in pairs:
        products_at[location_id].add(product_id)
    stocks = []
    for location_id, product_ids in sorted(products_at.items()):
        stocks += Stock.objects.filter(location_id=location_id, product_id__in=product_ids).select_related(
            "product", "location"
        )
    return sorted(stocks, key=lambda row: (row.product_id, row.location_id))


def _one_flush_at_a_time() -> None:
    """Two flushes reading the same pair could record the older figures last: the second waits."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_FLUSH_LOCK])
    # SQLite runs one writing transaction at a time anyway.


def stock_events_flush(*, batch: int = FLUSH_BATCH) -> int:
    """Record stock.changed for the pairs waiting, with their current figures. Returns the events."""
    recorded = 0
    while True:
        with transaction.atomic():
            _one_flush_at_a_time()
            rows = list(StockEventPending.objects.order_by("id").values_list("id", "product_id", "location_id")[:batch])
            if not rows:
                return recorded
            for stock in _stocks_of({(product_id, location_id) for _id, product_id, location_id in rows}):
                recording.record(
                    event_type="stock.changed",
                    object_type="stock",
                    object_id=f"{stock.product.sku}@{stock.location.code}",
                    data=stock_data(stock),
                )
                recorded += 1
            StockEventPending.objects.filter(id__in=[row[0] for row in rows]).delete()
        if len(rows) < batch:
            return recorded


@shared_task(name="omni.webhooks.stock_events_flush")
def stock_events_flush_task() -> int:
    return stock_events_flush()


# --- product.changed, transfer.received -------------------------------------------------


def product_data(product: Product) -> dict:
    product = Product.objects.select_related("category").prefetch_related("barcodes").get(pk=product.pk)
    return represent(ProductSerializer, product)


def product_changed(product: Product) -> None:
    if recording.wanted("product.changed"):
        recording.record(
            event_type="product.changed", object_type="product", object_id=product.sku, data=product_data(product)
        )


def transfer_data(transfer: Transfer) -> dict:
    """The transfer as its API endpoint renders it, received quantities included."""
    return represent(TransferSerializer, transfers_for_display().get(pk=transfer.pk))


def transfer_received(*, transfer: Transfer, received: dict[int, int]) -> None:
    """``received`` is on the transfer's lines by now (``received_quantity``), which the event shows."""
    if recording.wanted("transfer.received"):
        recording.record(
            event_type="transfer.received",
            object_type="transfer",
            object_id=transfer.number,
            data=transfer_data(transfer),
        )


def connect() -> None:
    hooks.register_stock_changed(stock_changed)
    hooks.register_product_changed(product_changed)
    hooks.register_transfer_received(transfer_received)
