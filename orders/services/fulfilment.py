"""Status actions before handover (ready, packed, shipped, cancelled, expired, reminded) and the
completion every sale ends with: points earned and the sale on the customer's timeline."""

import datetime
from collections.abc import Sequence

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from customers.models import InteractionKind
from inventory.models import TransferStatus
from inventory.services import (
    Cause,
    StockLine,
    stock_release,
    transfer_cancel,
)
from loyalty import services as loyalty
from loyalty.services import promo as loyalty_promo
from omni.core.actors import SYSTEM, Actor
from orders import hooks, states
from orders.errors import (
    InvalidTransition,
)
from orders.lock_objects import stock_rows, transfers_for_update
from orders.models import (
    Fulfilment,
    Order,
    OrderAllocation,
    OrderLine,
    OrderStatus,
)
from orders.services.lines import Part, cart_line, line_part
from orders.services.notices import customer_notify, money_text, timeline_record
from orders.services.payments import ZERO, points_payment_given_back, refund_to_payments
from orders.services.transitions import order_customer_locked, order_locked, status_move
from orders.states import Action


def _kept_lines(lines: Sequence[OrderLine]) -> list[tuple[OrderLine, Part]]:
    """Each line with the share of its figures the customer keeps (less what was refused)."""
    result = []
    for line in lines:
        kept = line.quantity - line.refused_quantity
        if kept > 0:
            result.append((line, line_part(line, done=line.refused_quantity, count=kept)))
    return result


def completion_record(order: Order, lines: Sequence[OrderLine], actor: Actor, now: datetime.datetime) -> None:
    """The goods are the customer's: points are earned (pending until the return window ends) and
    the sale goes on the timeline."""
    order.completed_at = now
    kept = _kept_lines(lines)
    if order.customer is not None and kept:
        earning = loyalty.points_earn_for_order(
            customer=order.customer,
            reference=order.number,
            lines=[cart_line(line, part.amount, part.quantity) for line, part in kept],
            channel=order.channel,
            store=order.location if order.fulfilment != Fulfilment.DELIVERY else None,
            completed_at=now,
            actor=actor,
        )
        order.points_earned = earning.points
    order.save(update_fields=["completed_at", "points_earned", "updated_at"])
    items = sum(part.quantity for _line, part in kept)
    timeline_record(
        order,
        kind=InteractionKind.ORDER,
        event="order.completed",
        params={
            "number": order.number,
            "status": order.status,
            "items": items,
            "total": str(order.total + order.points_value),
        },
        details="\n".join(f"{line.sku} {line.name} × {part.quantity}: {part.total}" for line, part in kept),
        location=order.location,
        actor=actor,
    )


def order_mark_ready(*, order: Order, actor: Actor = SYSTEM) -> Order:
    """Click-and-collect: the goods are set aside at the store; the customer is told where and until when."""
    with transaction.atomic():
        order = order_locked(order)
        states.next_status(order, Action.READY)
        ready_for_pickup(order, Action.READY, actor)
        hooks.order_changed(order)
    return order


def pickup_place(order: Order) -> dict:
    """What a pickup message says of the order and where it waits: number, store, address, hours, until when."""
    store = order.location
    return {
        "number": order.number,
        "store": store.name,
        "address": store.address or store.city,
        "hours": store.opening_hours or "—",
        "until": date_format(timezone.localtime(order.pickup_until), "DATETIME_FORMAT"),
    }


def ready_for_pickup(order: Order, action: str, actor: Actor) -> None:
    now = timezone.now()
    order.ready_at = now
    order.pickup_until = now + datetime.timedelta(days=settings.ORDERS_PICKUP_DAYS)
    status_move(order, action, actor, fields=["ready_at", "pickup_until"])
    customer_notify(
        order,
        kind="order_ready",
        subject=_("Order %(number)s is ready for pickup") % {"number": order.number},
        text=_(
            "Your order %(number)s is ready for pickup at %(store)s, %(address)s (open %(hours)s). "
            "It is kept for you until %(until)s. To pay: %(due)s."
        )
        % {**pickup_place(order), "due": money_text(order.due)},
        actor=actor,
    )


def order_pack(*, order: Order, actor: Actor = SYSTEM) -> Order:
    with transaction.atomic():
        order = order_locked(order)
        order.packed_at = timezone.now()
        status_move(order, Action.PACK, actor, fields=["packed_at"])
        hooks.order_changed(order)
    return order


def order_ship(*, order: Order, actor: Actor = SYSTEM) -> Order:
    """Delivery: the goods left with the courier (they stay reserved until the door)."""
    with transaction.atomic():
        order = order_locked(order)
        order.shipped_at = timezone.now()
        status_move(order, Action.SHIP, actor, fields=["shipped_at"])
        customer_notify(
            order,
            kind="order_shipped",
            subject=_("Order %(number)s is on its way") % {"number": order.number},
            text=_("Your order %(number)s is on its way to %(address)s. To pay on delivery: %(due)s.")
            % {"number": order.number, "address": order.delivery_address, "due": money_text(order.due)},
            actor=actor,
        )
        hooks.order_changed(order)
    return order


def open_allocations(order: Order) -> list[OrderAllocation]:
    return list(
        OrderAllocation.objects.filter(line__order=order).select_related("line", "transfer").order_by("line_id", "id")
    )


def _release_allocations(order: Order, allocations: Sequence[OrderAllocation], actor: Actor) -> None:
    """Give back every unit still held for the order: reservations released, transfers not yet
    shipped cancelled; goods in transit are released at the store when they arrive."""
    transfers = {a.transfer_id for a in allocations if a.pending and a.transfer_id and a.open_quantity}
    locked = transfers_for_update(transfers)
    held = [a for a in allocations if not a.pending and a.open_quantity]
    requested = [t for t in locked.values() if t.status == TransferStatus.REQUESTED]
    stock_rows(
        [(a.line.product_id, a.location_id) for a in held]
        + [(line.product_id, t.source_id) for t in requested for line in t.lines.all()]
    )
    for transfer in requested:
        transfer_cancel(transfer=transfer, actor=actor)
    if held:
        stock_release(
            lines=[StockLine(a.line.product_id, a.location_id, a.open_quantity) for a in held],
            cause=Cause("order", order.number),
            actor=actor,
        )
    for allocation in allocations:
        if allocation.open_quantity:
            allocation.released += allocation.open_quantity
            allocation.save(update_fields=["released"])


def _unwind(order: Order, actor: Actor, *, reason: str, suffix: str) -> None:
    """Cancel or expire: promo use released, points returned, stock released, payments refunded."""
    if order.promo_code:
        loyalty_promo.promo_release(reference=order.number, actor=actor)
    if order.points_redeemed:
        reversal = loyalty.points_reverse(
            reference=order.number, return_reference=f"{order.number}-{suffix}", actor=actor
        )
        points_payment_given_back(order, reversal.value_given_back)
    _release_allocations(order, open_allocations(order), actor)
    refunds = refund_to_payments(order, order.paid - order.refunded, actor, reason=reason)
    if refunds:
        order.refunded += sum((r.amount for r in refunds), ZERO)


def order_cancel(*, order: Order, reason: str = "", actor: Actor = SYSTEM) -> Order:
    """Cancel before handover: stock released, points returned, promo use released, transfers
    not yet shipped cancelled, payments marked for refund; the customer is told."""
    with transaction.atomic():
        order = order_locked(order)
        states.next_status(order, Action.CANCEL)
        order_customer_locked(order)
        _unwind(order, actor, reason=reason or _("Order cancelled."), suffix="cancel")
        order.cancelled_at = timezone.now()
        order.cancel_reason = reason.strip()[:255]
        status_move(order, Action.CANCEL, actor, note=reason, fields=["cancelled_at", "cancel_reason", "refunded"])
        timeline_record(
            order,
            kind=InteractionKind.ORDER,
            event="order.cancelled",
            params={"number": order.number},
            details=order.cancel_reason,
            location=order.location,
            actor=actor,
        )
        text = _("Your order %(number)s is cancelled.") % {"number": order.number}
        if order.refunded:
            text += " " + _("%(amount)s will be refunded to you.") % {"amount": money_text(order.refunded)}
        customer_notify(
            order,
            kind="order_cancelled",
            subject=_("Order %(number)s is cancelled") % {"number": order.number},
            text=text,
            actor=actor,
        )
        hooks.order_changed(order)
    return order


def order_expire(*, order: Order, now: datetime.datetime | None = None, actor: Actor = SYSTEM) -> Order:
    """A click-and-collect order not collected in time: released like a cancellation."""
    now = now or timezone.now()
    with transaction.atomic():
        order = order_locked(order)
        states.next_status(order, Action.EXPIRE)
        if order.pickup_until is None or order.pickup_until > now:
            raise InvalidTransition(
                _("Order %(number)s may still be collected.") % {"number": order.number},
                details={"number": order.number, "status": order.status},
            )
        order_customer_locked(order)
        _unwind(order, actor, reason=_("Not collected in time."), suffix="expired")
        order.expired_at = now
        status_move(order, Action.EXPIRE, actor, fields=["expired_at", "refunded"])
        timeline_record(
            order,
            kind=InteractionKind.ORDER,
            event="order.expired",
            params={"number": order.number},
            location=order.location,
            actor=actor,
        )
        customer_notify(
            order,
            kind="order_expired",
            subject=_("Order %(number)s is cancelled") % {"number": order.number},
            text=_("Your order %(number)s was not collected by %(until)s and is cancelled.")
            % {"number": order.number, "until": date_format(timezone.localtime(order.pickup_until), "DATETIME_FORMAT")},
            actor=actor,
        )
        hooks.order_changed(order)
    return order


def order_remind_pickup(*, order: Order, now: datetime.datetime | None = None, actor: Actor = SYSTEM) -> bool:
    """Remind the customer, once, that the order waits at the store. Returns whether it was sent now."""
    now = now or timezone.now()
    with transaction.atomic():
        order = order_locked(order)
        if order.status != OrderStatus.READY_FOR_PICKUP or order.reminded_at is not None:
            return False
        order.reminded_at = now
        order.save(update_fields=["reminded_at", "updated_at"])
        hooks.order_changed(order)
        customer_notify(
            order,
            kind="order_pickup_reminder",
            subject=_("Order %(number)s is waiting for you") % {"number": order.number},
            text=_(
                "Your order %(number)s is waiting for you at %(store)s, %(address)s (open %(hours)s) until %(until)s."
            )
            % pickup_place(order),
            actor=actor,
        )
    return True
