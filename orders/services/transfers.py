"""Transfers arriving for click-and-collect orders: settled on receipt, units that did not arrive
sourced again, and the staff's decision when they are nowhere."""

import datetime
from collections import defaultdict
from collections.abc import Mapping

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from inventory.models import TransferStatus
from inventory.services import (
    Cause,
    StockLine,
    stock_release,
    stock_reserve,
)
from omni.core.actors import SYSTEM, Actor
from orders import hooks, states
from orders.errors import (
    InvalidTransition,
)
from orders.lock_objects import stock_rows
from orders.models import (
    Order,
    OrderAllocation,
    OrderLine,
    OrderStatus,
)
from orders.services.allocation import (
    SourcesUnavailable,
    availability,
    choose_sources,
    shipping_locations,
    transfers_to_store,
)
from orders.services.fulfilment import open_allocations, ready_for_pickup
from orders.services.lines import lines_take_off
from orders.services.notices import customer_notify
from orders.services.payments import ZERO, refund_to_payments
from orders.services.transitions import order_customer_locked, order_locked, status_move
from orders.states import Action


def order_transfer_received(*, transfer, received: dict[int, int]) -> None:
    """``inventory.hooks`` callback, inside the receipt's transaction (which already reserved what
    arrived for the order). The order row is taken only if free: a cancellation holding it waits
    for stock rows this receipt holds, so waiting here could deadlock; then the order is updated
    right after the receipt commits instead. Units that did not arrive are sourced again after the
    commit too, in their own transaction, which locks its stock rows in the usual order."""
    if transfer.cause_type != "order" or not transfer.cause_id:
        return
    order = Order.objects.select_for_update(skip_locked=True).filter(number=transfer.cause_id).first()
    if order is None:
        if Order.objects.filter(number=transfer.cause_id).exists():
            transfer_id = transfer.pk
            transaction.on_commit(lambda: order_transfer_settle(transfer_id=transfer_id), robust=True)
        return
    if _settle_transfer(order, transfer, received, SYSTEM):
        order_id = order.pk
        transaction.on_commit(lambda: order_source_shortfall(order=Order(pk=order_id)), robust=True)


def order_transfer_settle(*, transfer_id: int, actor: Actor = SYSTEM) -> None:
    """Apply a received transfer to its order (after the receipt, or from the periodic check)."""
    from inventory.models import Transfer

    with transaction.atomic():
        transfer = Transfer.objects.get(pk=transfer_id)
        if transfer.status != TransferStatus.RECEIVED:
            return
        order = Order.objects.filter(number=transfer.cause_id).first()
        if order is None:
            return
        order = order_locked(order)
        received = {line.product_id: line.received_quantity or 0 for line in transfer.lines.all()}
        shortfall = _settle_transfer(order, transfer, received, actor)
    if shortfall:
        order_source_shortfall(order=order, actor=actor)


def _settle_transfer(order: Order, transfer, received: Mapping[int, int], actor: Actor) -> bool:
    """Apply what arrived to the order's allocations waiting for the transfer. Units that did not
    arrive become an allocation waiting for a source (pending, without a transfer) for
    ``order_source_shortfall``; returns whether the order has any (this receipt's or an earlier
    one's, left waiting while another transfer was on its way)."""
    pending = list(
        OrderAllocation.objects.filter(line__order=order, transfer=transfer, pending=True).select_related("line")
    )
    if not pending:
        return False
    cause = Cause("order", order.number)
    if order.status != OrderStatus.AWAITING_TRANSFER:
        # Cancelled or expired meanwhile: what arrived was reserved for nothing.
        arrived = [(a, min(received.get(a.line.product_id, 0), a.quantity)) for a in pending]
        lines = [StockLine(a.line.product_id, transfer.destination_id, qty) for a, qty in arrived if qty]
        if lines:
            stock_release(lines=lines, cause=cause, actor=actor)
        OrderAllocation.objects.filter(pk__in=[a.pk for a in pending]).update(pending=False)
        return False
    shortfall = []
    for allocation in pending:
        arrived = min(received.get(allocation.line.product_id, 0), allocation.quantity)
        missing = allocation.quantity - arrived
        if missing:
            shortfall.append(
                OrderAllocation(
                    line=allocation.line, location_id=allocation.location_id, quantity=missing, pending=True
                )
            )
            if arrived:
                allocation.quantity = arrived
            else:
                allocation.released = allocation.quantity  # nothing came: it holds nothing
        allocation.pending = False
        allocation.save(update_fields=["quantity", "pending", "released"])
    OrderAllocation.objects.bulk_create(shortfall)
    waiting = OrderAllocation.objects.filter(line__order=order, pending=True)
    if not waiting.exists():
        ready_for_pickup(order, Action.TRANSFER_ARRIVED, actor)
        hooks.order_changed(order)
        return False
    return waiting.filter(transfer=None).exists()


def order_source_shortfall(*, order: Order, actor: Actor = SYSTEM) -> Order:
    """Source again the units of a click-and-collect order that a transfer did not bring (received
    short): the pickup store's own available stock first, then a new transfer from locations that
    ship when they hold all of the rest, reserved under the same locks as at placement. When the
    rest is nowhere and no other transfer is on its way, the order waits for staff to decide
    (``order_accept_partial`` or ``order_cancel``; it expires like a pickup if nobody does) and the
    customer is told. Run after the receipt commits, and by the hourly task for any left over."""
    with transaction.atomic():
        order = order_locked(order)
        if order.status != OrderStatus.AWAITING_TRANSFER:
            return order
        allocations = open_allocations(order)
        unsourced = [a for a in allocations if a.pending and a.transfer_id is None and a.open_quantity]
        if not unsourced:
            return order
        store = order.location
        wanted, lines = defaultdict(int), {}
        for allocation in unsourced:
            wanted[allocation.line.product_id] += allocation.open_quantity
            lines[allocation.line.product_id] = allocation.line
        shipping = shipping_locations(exclude=store.pk)
        available = availability(stock_rows([(pid, loc.pk) for pid in wanted for loc in [store, *shipping]]))
        from_store = {pid: min(qty, max(available.get((pid, store.pk), 0), 0)) for pid, qty in wanted.items()}
        rest = {pid: qty - from_store[pid] for pid, qty in wanted.items()}
        try:
            sources = choose_sources(rest, available, shipping)
            missing = {}
        except SourcesUnavailable:
            sources, missing = [], {pid: qty for pid, qty in rest.items() if qty}

        cause = Cause("order", order.number)
        replacements = [
            OrderAllocation(line=lines[pid], location=store, quantity=qty, pending=True) for pid, qty in missing.items()
        ]
        from_store = {pid: qty for pid, qty in from_store.items() if qty}
        if from_store:
            stock_reserve(
                lines=[StockLine(pid, store.pk, qty) for pid, qty in from_store.items()], cause=cause, actor=actor
            )
            replacements += [
                OrderAllocation(line=lines[pid], location=store, quantity=qty) for pid, qty in from_store.items()
            ]
        replacements += transfers_to_store(order, sources, lines, actor)
        # The allocations waiting for a source held nothing: they are replaced by what was found.
        OrderAllocation.objects.filter(pk__in=[a.pk for a in unsourced]).delete()
        OrderAllocation.objects.bulk_create(replacements)

        waiting = OrderAllocation.objects.filter(line__order=order, pending=True)
        if not waiting.exists():
            ready_for_pickup(order, Action.TRANSFER_ARRIVED, actor)
        elif not waiting.filter(transfer__isnull=False).exists():
            _await_decision(order, {lines[pid]: qty for pid, qty in missing.items()}, actor)
        hooks.order_changed(order)
    return order


def _await_decision(order: Order, missing: Mapping[OrderLine, int], actor: Actor) -> None:
    """Goods of the order are nowhere: staff decide; what is there is kept until ``pickup_until``."""
    order.pickup_until = timezone.now() + datetime.timedelta(days=settings.ORDERS_PICKUP_DAYS)
    items = ", ".join(f"{line.name} × {qty}" for line, qty in missing.items())
    status_move(order, Action.AWAIT_DECISION, actor, note=items, fields=["pickup_until"])
    customer_notify(
        order,
        kind="order_short",
        subject=_("Order %(number)s: some goods could not be found") % {"number": order.number},
        text=_(
            "We could not bring all of your order %(number)s to %(store)s: %(items)s could not be found. "
            "You can take what is there or cancel the order; the store will contact you. "
            "What is there is kept for you until %(until)s."
        )
        % {
            "number": order.number,
            "store": order.location.name,
            "items": items,
            "until": date_format(timezone.localtime(order.pickup_until), "DATETIME_FORMAT"),
        },
        actor=actor,
    )


def order_accept_partial(*, order: Order, actor: Actor = SYSTEM) -> Order:
    """Go ahead with what is there for an order awaiting a decision: the missing units are taken
    off their lines (their share of the order, points given back), what was paid for them is
    refunded, and the order is ready for pickup (the customer is told, with what is left to pay)."""
    with transaction.atomic():
        order = order_locked(order)
        states.next_status(order, Action.ACCEPT_PARTIAL)
        order_customer_locked(order)
        lines = list(order.lines.select_related("product").order_by("id"))
        unsourced = [a for a in open_allocations(order) if a.pending and a.open_quantity]
        missing = defaultdict(int)
        for allocation in unsourced:
            missing[allocation.line_id] += allocation.open_quantity
        if all(line.quantity - line.refused_quantity <= missing[line.pk] for line in lines):
            raise InvalidTransition(
                _("None of the goods of order %(number)s are there: cancel it instead.") % {"number": order.number},
                details={"number": order.number, "status": order.status},
            )
        lines_take_off(order, lines, missing, actor, reference=f"{order.number}-missing")
        for allocation in unsourced:
            allocation.released += allocation.open_quantity
            allocation.pending = False
        OrderAllocation.objects.bulk_update(unsourced, ["released", "pending"])
        excess = order.paid - order.refunded - order.total
        if excess > 0:
            refunds = refund_to_payments(order, excess, actor, reason=_("Goods that could not be found."))
            order.refunded += sum((r.amount for r in refunds), ZERO)
        order.save(update_fields=["subtotal", "discount", "points_value", "total", "refunded", "updated_at"])
        ready_for_pickup(order, Action.ACCEPT_PARTIAL, actor)
        hooks.order_changed(order)
    return order
