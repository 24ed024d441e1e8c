"""Order-family events: order.created, order.status_changed, order.ready_for_pickup,
order.handed_over, return.accepted and refund.completed.

Each is keyed by its order's number (``object_type`` "order"), so that a subscriber gets one
order's whole life in order, its return and refund included. A status move is noted on the order
instance and written when the action calls ``order_changed`` (its last write), so the order in
the event is the order as the action left it; nothing is rendered when nobody subscribes.
"""

from omni.core.api.serializers import represent
from omni.webhooks.sources import recording
from orders import hooks
from orders.api.serializers import OrderSerializer, RefundDetailSerializer, ReturnSerializer, placed_order_data
from orders.models import Order, OrderReturn, OrderStatus, Refund

NOTED = "webhook_events"
HANDED_OVER = (OrderStatus.COLLECTED, OrderStatus.DELIVERED)


def _note(order: Order, event_type: str, extra: dict | None = None) -> None:
    noted = getattr(order, NOTED, None)
    if noted is None:
        noted = []
        setattr(order, NOTED, noted)
    noted.append((event_type, extra or {}))


def order_placed(order: Order) -> None:
    _note(order, "order.created")


def order_status_changed(order: Order, status_from: str) -> None:
    _note(order, "order.status_changed", {"status_from": status_from, "status_to": order.status})
    if order.status == OrderStatus.READY_FOR_PICKUP:
        _note(order, "order.ready_for_pickup")
    elif order.status in HANDED_OVER:
        _note(order, "order.handed_over", {"refused": None})


def refused_lines(order: Order) -> list[dict]:
    lines = order.lines.filter(refused_quantity__gt=0).select_related("product").order_by("id")
    return [{"sku": line.sku, "quantity": line.refused_quantity} for line in lines]


def order_changed(order: Order) -> None:
    """Write the events the action noted, with the order as it is now."""
    noted = getattr(order, NOTED, None) or []
    setattr(order, NOTED, [])
    wanted = [(event_type, extra) for event_type, extra in noted if recording.wanted(event_type)]
    if not wanted:
        return
    if any(event_type == "order.created" for event_type, _extra in noted) and hasattr(order, "written"):
        order_data = placed_order_data(order)  # just placed: from the rows in hand, as the API answers
    else:
        order_data = represent(OrderSerializer, order)
    for event_type, extra in wanted:
        if "refused" in extra:
            extra = {"refused": refused_lines(order)}
        recording.record(
            event_type=event_type, object_type="order", object_id=order.number, data={**extra, "order": order_data}
        )


def return_accepted(order_return: OrderReturn) -> None:
    if recording.wanted("return.accepted"):
        data = {"return": represent(ReturnSerializer, order_return), "order": order_return.order.number}
        recording.record(
            event_type="return.accepted", object_type="order", object_id=order_return.order.number, data=data
        )


def refund_completed(refund: Refund) -> None:
    if recording.wanted("refund.completed"):
        data = {"refund": represent(RefundDetailSerializer, refund), "order": refund.order.number}
        recording.record(event_type="refund.completed", object_type="order", object_id=refund.order.number, data=data)


def connect():
    hooks.register_order_placed(order_placed)
    hooks.register_order_status_changed(order_status_changed)
    hooks.register_order_changed(order_changed)
    hooks.register_return_accepted(return_accepted)
    hooks.register_refund_completed(refund_completed)
