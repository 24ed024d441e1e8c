"""Row locks the order services take, each kind in a fixed order (``orders.services`` says which
kind comes first): an order row; transfers by primary key; stock rows by (product, location) in
one statement, so that an action touching several locations cannot deadlock with another."""

from collections.abc import Iterable

from inventory.lock_objects import StockKey, stock_rows_for_update
from inventory.models import Stock, Transfer
from omni.core.db import require_transaction
from orders.models import Order


def order_for_update(order_id: int) -> Order:
    """The order row, locked until the caller's transaction ends, with what services read of it."""
    require_transaction("order_for_update")
    return Order.objects.select_for_update(of=("self",)).select_related("customer", "location").get(pk=order_id)


def transfers_for_update(transfer_ids: Iterable[int]) -> dict[int, Transfer]:
    require_transaction("transfers_for_update")
    ids = sorted(set(transfer_ids))
    if not ids:
        return {}
    rows = Transfer.objects.select_for_update().filter(pk__in=ids).order_by("pk").prefetch_related("lines")
    return {transfer.pk: transfer for transfer in rows}


def stock_rows(keys: Iterable[StockKey], *, create_missing: bool = False) -> dict[StockKey, Stock]:
    """Every stock row an action will change, locked at once in (product, location) order; the
    inventory services then lock them again, which costs nothing and cannot wait."""
    require_transaction("stock_rows")
    return stock_rows_for_update(keys, create_missing=create_missing)
