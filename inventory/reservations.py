"""Reserving an order's goods where it asks for them, in one statement where the database allows.

``stock_reserve`` (in ``inventory.services``) locks and reads the rows, then decides; an order
placed at a store that holds its goods needs neither the read nor the decision, only a
conditional write: ``stock_reserve_if_available``.
"""

from collections.abc import Sequence

from django.db import connection
from django.db.models import F
from django.utils import timezone

from inventory import hooks
from inventory.lock_objects import StockKey, stock_rows_for_update
from inventory.models import MovementReason, Stock, StockMovement
from inventory.services import Cause, StockLine, merge_stock_lines
from omni.core.actors import SYSTEM, Actor
from omni.core.db import require_transaction


def stock_reserve_if_available(*, lines: Sequence[StockLine], cause: Cause, actor: Actor = SYSTEM) -> bool:
    """Reserve every line if each is available, else nothing: return whether it was reserved.

    Where an order mostly finds its goods where it asks for them, this takes the stock rows' locks
    and checks and writes them in one statement (PostgreSQL) instead of reading the rows first:
    the availability test sits in the statement's WHERE, evaluated on the locked rows, so nothing
    is ever reserved beyond what is available. The caller plans something else on ``False``
    (the rows stay locked: it is about to read them). Inside the caller's transaction.
    """
    require_transaction("stock_reserve_if_available")
    wanted = merge_stock_lines(lines)
    reserve = _reserve_set_based if connection.vendor == "postgresql" else _reserve_locked_rows
    if not reserve(wanted):
        return False
    StockMovement.objects.bulk_create(
        [
            StockMovement(
                product_id=product_id,
                location_id=location_id,
                reserved_delta=qty,
                reason=MovementReason.RESERVATION,
                cause_type=cause.type,
                cause_id=cause.id,
                **actor.audit_fields,
            )
            for (product_id, location_id), qty in sorted(wanted.items())
        ]
    )
    hooks.stock_changed(sorted(wanted))
    return True


# The rows are locked in (product, location) order by the MATERIALIZED CTE (the lock order of
# ``inventory.lock_objects``), all of them, then updated only if every one holds enough: its
# figures are those of the locked, latest row versions, so the count cannot be stale.
_RESERVE_SQL = """
WITH wanted (product_id, location_id, quantity) AS (VALUES {values}),
locked AS MATERIALIZED (
    SELECT stock.id, stock.on_hand, stock.reserved, wanted.quantity
    FROM inventory_stock AS stock
    JOIN wanted ON stock.product_id = wanted.product_id AND stock.location_id = wanted.location_id
    ORDER BY stock.product_id, stock.location_id
    FOR UPDATE OF stock
),
enough AS (SELECT count(*) = %s AS every_line FROM locked WHERE locked.on_hand - locked.reserved >= locked.quantity)
UPDATE inventory_stock AS stock
SET reserved = stock.reserved + locked.quantity, updated_at = %s
FROM locked, enough
WHERE stock.id = locked.id AND enough.every_line AND stock.on_hand - stock.reserved >= locked.quantity
RETURNING stock.id
"""


def _reserve_set_based(wanted: dict[StockKey, int]) -> bool:
    values = ", ".join(["(%s::bigint, %s::bigint, %s::integer)"] * len(wanted))
    params = [
        value for (product_id, location_id), qty in sorted(wanted.items()) for value in (product_id, location_id, qty)
    ]
    with connection.cursor() as cursor:
        cursor.execute(_RESERVE_SQL.format(values=values), [*params, len(wanted), timezone.now()])
        updated = cursor.fetchall()
    if updated and len(updated) != len(wanted):  # cannot happen: "enough" is all or nothing
        raise RuntimeError("A set-based reservation changed only some of its rows.")
    return bool(updated)


def _reserve_locked_rows(wanted: dict[StockKey, int]) -> bool:
    """The same with the ORM (SQLite, which runs one writer at a time): lock, check, update."""
    rows = stock_rows_for_update(wanted, create_missing=False)
    if any(key not in rows or rows[key].available < qty for key, qty in wanted.items()):
        return False
    now = timezone.now()
    for key, qty in sorted(wanted.items()):
        Stock.objects.filter(pk=rows[key].pk).update(reserved=F("reserved") + qty, updated_at=now)
    return True
