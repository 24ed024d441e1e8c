"""Reserving an order's goods where it asks for them, in one statement where the database allows.

``stock_reserve`` (in ``inventory.services``) locks and reads the rows, then decides; an order
placed at a store that holds its goods needs neither the read nor the decision, only a
conditional write: ``stock_reserve_if_available``.
"""

from collections.abc import Sequence

from django.db import connection
from django.db.models import F, Model
from django.utils import timezone

from inventory import hooks
from inventory.lock_objects import StockKey, stock_rows_for_update
from inventory.models import MovementReason, Stock, StockMovement
from inventory.services import Cause, StockLine, merge_stock_lines
from omni.core.actors import SYSTEM, Actor
from omni.core.db import ids_assign, insert_sql, prepared_cursor, require_transaction, rows_write_together


def stock_reserve_if_available(
    *, lines: Sequence[StockLine], cause: Cause, actor: Actor = SYSTEM, with_rows: Sequence[Model] = ()
) -> bool:
    """Reserve every line if each is available, else nothing: return whether it was reserved.

    Where an order mostly finds its goods where it asks for them, this takes the stock rows' locks
    and checks and writes them in one statement (PostgreSQL) instead of reading the rows first:
    the availability test sits in the statement's WHERE, evaluated on the locked rows, so nothing
    is ever reserved beyond what is available. The same statement writes the ledger rows and
    ``with_rows`` (the caller's unsaved rows that record the reservation, an order's allocations),
    only if it reserves. The caller plans something else on ``False`` (the rows stay locked: it is
    about to read them). Inside the caller's transaction.
    """
    require_transaction("stock_reserve_if_available")
    wanted = merge_stock_lines(lines)
    ledger = [
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
    if connection.vendor == "postgresql":
        reserved = _reserve_set_based(wanted, [ledger, list(with_rows)])
    else:
        reserved = _reserve_locked_rows(wanted)
        if reserved:
            rows_write_together(ledger, with_rows)
    if reserved:
        hooks.stock_changed(sorted(wanted))
    return reserved


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
enough AS (SELECT count(*) = %s AS every_line FROM locked WHERE locked.on_hand - locked.reserved >= locked.quantity),
reserved AS (
    UPDATE inventory_stock AS stock
    SET reserved = stock.reserved + locked.quantity, updated_at = %s
    FROM locked, enough
    WHERE stock.id = locked.id AND enough.every_line AND stock.on_hand - stock.reserved >= locked.quantity
    RETURNING stock.id
)"""


def _reserve_set_based(wanted: dict[StockKey, int], groups: list[list[Model]]) -> bool:
    """The reservation and, only if it is made, the rows of ``groups`` (a model each): one statement."""
    values = ", ".join(["(%s::bigint, %s::bigint, %s::integer)"] * len(wanted))
    params = [
        value for (product_id, location_id), qty in sorted(wanted.items()) for value in (product_id, location_id, qty)
    ]
    params += [len(wanted), timezone.now()]
    groups = [group for group in groups if group]
    ctes = []
    for n, group in enumerate(groups):
        sql, group_params = insert_sql(group, when="(SELECT every_line FROM enough)")
        ctes.append(f", w{n} AS ({sql})")
        params += group_params
    written = "".join(f', (SELECT array_agg("id") FROM w{n})' for n in range(len(groups)))
    with prepared_cursor() as cursor:
        cursor.execute(
            f"{_RESERVE_SQL.format(values=values)}{''.join(ctes)} SELECT (SELECT count(*) FROM reserved){written}",
            params,
        )
        updated, *ids = cursor.fetchone()
    if updated and updated != len(wanted):  # cannot happen: "enough" is all or nothing
        raise RuntimeError("A set-based reservation changed only some of its rows.")
    if updated:
        for group, group_ids in zip(groups, ids, strict=True):
            ids_assign(group, group_ids)
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
