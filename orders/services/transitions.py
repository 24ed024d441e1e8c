"""The order row lock every action starts with, the customer's after it, and the recorded status moves."""

from collections.abc import Sequence

from customers.models import Customer
from omni.core.actors import Actor
from orders import hooks, states
from orders.lock_objects import order_for_update
from orders.models import (
    Order,
    StatusChange,
)


def status_record(order: Order, status_from: str, status_to: str, actor: Actor, note: str = "") -> StatusChange:
    return StatusChange.objects.create(
        order=order, status_from=status_from, status_to=status_to, note=note[:255], **actor.audit_fields
    )


def status_move(order: Order, action: str, actor: Actor, *, note: str = "", fields: Sequence[str] = ()) -> str:
    """Apply a transition of the state machine to the locked order and record it."""
    previous = order.status
    order.status = states.next_status(order, action)
    order.save(update_fields=["status", *fields, "updated_at"])
    status_record(order, previous, order.status, actor, note)
    hooks.order_status_changed(order, previous)
    return previous


def order_customer_locked(order: Order) -> Customer | None:
    """The order's customer row, locked (the second lock of every action on an order)."""
    if order.customer_id is None:
        return None
    return Customer.objects.select_for_update().get(pk=order.customer_id)


def order_locked(order: Order) -> Order:
    return order_for_update(order.pk)
