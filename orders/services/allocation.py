"""Stock allocation: where an order's goods are reserved (or, in a store, sold) when it is placed,
and the transfers that bring to a pickup store what it lacks."""

from collections import defaultdict
from collections.abc import Mapping, Sequence

from django.db import transaction
from django.utils.translation import gettext as _

from inventory.errors import InsufficientStock
from inventory.models import Location, Product
from inventory.reservations import stock_reserve_if_available
from inventory.services import (
    Cause,
    ProductQuantity,
    StockLine,
    stock_reserve,
    stock_sell,
    transfer_create,
)
from omni.core.actors import Actor
from orders.lock_objects import stock_rows
from orders.models import (
    Order,
    OrderAllocation,
    OrderLine,
)


def shipping_locations(exclude: int | None = None) -> list[Location]:
    locations = Location.objects.active().filter(ships_orders=True).order_by("code")
    if exclude is not None:
        locations = locations.exclude(pk=exclude)
    return list(locations)


def _shortage(wanted: Mapping[int, int], available: Mapping[int, int], products: Mapping[int, Product]):
    lines = [
        {"sku": products[pid].sku, "requested": qty, "available": available.get(pid, 0)}
        for pid, qty in wanted.items()
        if available.get(pid, 0) < qty
    ]
    skus = sorted(line["sku"] for line in lines)
    return InsufficientStock(
        _("Not enough stock for %(skus)s.") % {"skus": ", ".join(skus)}, details={"skus": skus, "lines": lines}
    )


def choose_sources(
    wanted: Mapping[int, int], available: Mapping[tuple[int, int], int], locations: Sequence[Location]
) -> list[tuple[Location, dict[int, int]]]:
    """Where to take ``wanted`` from: one location holding all of it when there is one (the one
    holding most, then by code), else the locations covering most of what is left, in turn."""
    left = {pid: qty for pid, qty in wanted.items() if qty > 0}
    if not left:
        return []

    def coverage(location: Location) -> int:
        return sum(min(qty, available.get((pid, location.pk), 0)) for pid, qty in left.items())

    whole = [loc for loc in locations if all(available.get((pid, loc.pk), 0) >= qty for pid, qty in left.items())]
    if whole:
        best = max(whole, key=lambda loc: (sum(available.get((pid, loc.pk), 0) for pid in left), -locations.index(loc)))
        return [(best, dict(left))]
    plan = []
    remaining = list(locations)
    while left and remaining:
        best = max(remaining, key=lambda loc: (coverage(loc), -locations.index(loc)))
        if coverage(best) == 0:
            break
        taken = {pid: min(qty, available.get((pid, best.pk), 0)) for pid, qty in left.items()}
        taken = {pid: qty for pid, qty in taken.items() if qty}
        plan.append((best, taken))
        for pid, qty in taken.items():
            left[pid] -= qty
        left = {pid: qty for pid, qty in left.items() if qty}
        remaining.remove(best)
    if left:
        raise SourcesUnavailable(left)
    return plan


class SourcesUnavailable(Exception):
    def __init__(self, left):
        self.left = left


def availability(rows) -> dict[tuple[int, int], int]:
    return {key: row.available for key, row in rows.items()}


def _reserve_whole_at_store(
    lines: list[StockLine], cause: Cause, actor: Actor, allocations: list[OrderAllocation]
) -> bool:
    """Reserve every line at the store, with its ``allocations``, or nothing. The attempt takes the
    store rows' locks; when the store is short, rolling its savepoint back releases them, so that
    the store's and the shipping locations' rows are then locked together in the lock order.
    Holding the store's while locking the others could deadlock with a delivery order that ships
    from this store. When it reserves, the savepoint is left to the commit, which releases it (a
    RELEASE would be one more statement for nothing)."""
    savepoint = transaction.savepoint()
    if stock_reserve_if_available(lines=lines, cause=cause, actor=actor, with_rows=allocations):
        return True
    transaction.savepoint_rollback(savepoint)
    return False


def allocate_click_and_collect(order: Order, lines: Sequence[OrderLine], actor: Actor) -> bool:
    """Reserve at the pickup store what it has; reserve the rest at locations that ship and
    transfer it to the store (reserved there on receipt). Returns whether transfers were made.

    The usual case, a store holding everything, is one conditional write of its stock rows, with
    the ledger and the allocations (``inventory.reservations.stock_reserve_if_available``); only
    an order it cannot serve whole locks and reads the rows of the store and of the locations
    that ship."""
    store = order.location
    wanted = {line.product_id: line.quantity for line in lines}
    by_product = {line.product_id: line for line in lines}
    cause = Cause("order", order.number)
    at_store = [StockLine(pid, store.pk, qty) for pid, qty in wanted.items()]
    whole = [OrderAllocation(line=by_product[pid], location=store, quantity=qty) for pid, qty in wanted.items()]
    if _reserve_whole_at_store(at_store, cause, actor, whole):
        return False
    shipping = shipping_locations(exclude=store.pk)
    rows = stock_rows([(pid, loc) for pid in wanted for loc in [store.pk, *(s.pk for s in shipping)]])
    available = availability(rows)
    plan_store = {pid: min(qty, available.get((pid, store.pk), 0)) for pid, qty in wanted.items()}
    rest = {pid: qty - plan_store[pid] for pid, qty in wanted.items()}
    try:
        sources = choose_sources(rest, available, shipping)
    except SourcesUnavailable:
        totals = defaultdict(int)
        for (pid, _loc), units in available.items():
            totals[pid] += max(units, 0)
        raise _shortage(wanted, totals, {line.product_id: line.product for line in lines})
    plan_store = {pid: qty for pid, qty in plan_store.items() if qty}
    allocations = []
    if plan_store:
        stock_reserve(
            lines=[StockLine(pid, store.pk, qty) for pid, qty in plan_store.items()], cause=cause, actor=actor
        )
        allocations += [
            OrderAllocation(line=by_product[pid], location=store, quantity=qty) for pid, qty in plan_store.items()
        ]
    allocations += transfers_to_store(order, sources, by_product, actor)
    OrderAllocation.objects.bulk_create(allocations)
    return bool(sources)


def transfers_to_store(
    order: Order, sources: Sequence[tuple[Location, dict[int, int]]], lines: Mapping[int, OrderLine], actor: Actor
) -> list[OrderAllocation]:
    """Transfers bringing ``sources`` to the pickup store, reserved there for the order on receipt;
    returns the (unsaved) allocations that wait for them."""
    allocations = []
    for source, taken in sources:
        transfer = transfer_create(
            source=source,
            destination=order.location,
            lines=[ProductQuantity(pid, qty) for pid, qty in taken.items()],
            cause=Cause("order", order.number),
            reserve_on_receipt=True,
            note=_("For click-and-collect order %(number)s.") % {"number": order.number},
            actor=actor,
        )
        allocations += [
            OrderAllocation(line=lines[pid], location=order.location, quantity=qty, transfer=transfer, pending=True)
            for pid, qty in taken.items()
        ]
    return allocations


def allocate_delivery(order: Order, lines: Sequence[OrderLine], actor: Actor) -> Location:
    """Reserve at locations that ship, preferring one for the whole order; returns the main one."""
    wanted = {line.product_id: line.quantity for line in lines}
    by_product = {line.product_id: line for line in lines}
    shipping = shipping_locations()
    rows = stock_rows([(pid, loc.pk) for pid in wanted for loc in shipping])
    available = availability(rows)
    try:
        sources = choose_sources(wanted, available, shipping)
    except SourcesUnavailable:
        totals = defaultdict(int)
        for (pid, _loc), units in available.items():
            totals[pid] += max(units, 0)
        raise _shortage(wanted, totals, {line.product_id: line.product for line in lines})
    stock_reserve(
        lines=[StockLine(pid, source.pk, qty) for source, taken in sources for pid, qty in taken.items()],
        cause=Cause("order", order.number),
        actor=actor,
    )
    OrderAllocation.objects.bulk_create(
        [
            OrderAllocation(line=by_product[pid], location=source, quantity=qty)
            for source, taken in sources
            for pid, qty in taken.items()
        ]
    )
    return sources[0][0]


def sell_in_store(order: Order, lines: Sequence[OrderLine], actor: Actor) -> None:
    store = order.location
    stock_rows([(line.product_id, store.pk) for line in lines])
    stock_sell(
        lines=[StockLine(line.product_id, store.pk, line.quantity) for line in lines],
        cause=Cause("order", order.number),
        actor=actor,
    )
    OrderAllocation.objects.bulk_create(
        [OrderAllocation(line=line, location=store, quantity=line.quantity, sold=line.quantity) for line in lines]
    )
