"""Row locks on stock, always taken in one order (product, then location) so that two
operations over the same rows can never deadlock, whatever order their lines came in."""

from collections.abc import Iterable

from django.db.models import Q

from inventory.models import Stock
from omni.core.db import require_transaction

StockKey = tuple[int, int]  # (product_id, location_id)


def stock_rows_for_update(keys: Iterable[StockKey], *, create_missing: bool) -> dict[StockKey, Stock]:
    """Lock the stock rows of ``keys`` (inside the caller's transaction) and return them by key.

    With ``create_missing`` absent rows are first created at zero, so that goods can arrive at a
    location that never held the product; otherwise absent rows are simply not returned.
    """
    require_transaction("stock_rows_for_update")
    keys = sorted(set(keys))
    if not keys:
        return {}
    if create_missing:
        Stock.objects.bulk_create(
            [Stock(product_id=product_id, location_id=location_id) for product_id, location_id in keys],
            ignore_conflicts=True,
        )
    condition = Q()
    for product_id, location_id in keys:
        condition |= Q(product_id=product_id, location_id=location_id)
    rows = Stock.objects.select_for_update().filter(condition).order_by("product_id", "location_id")
    return {(row.product_id, row.location_id): row for row in rows}
