"""The order state machine: the one place that says which action moves an order where.

Click-and-collect: placed -> (awaiting transfer) -> ready for pickup -> collected; when goods a
                   transfer did not bring cannot be found anywhere: awaiting transfer -> awaiting
                   a decision -> ready for pickup with what is there (or cancelled, or expired).
Delivery:          placed -> packed -> shipped -> delivered.
Sale in store:     sold at once.
Before the goods are handed over an order may be cancelled; a click-and-collect order not
collected in time expires. Services call ``next_status`` with the order row locked
(``select_for_update``), so two racing actions cannot both apply.
"""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from orders.errors import InvalidTransition
from orders.models import Fulfilment, OrderStatus

S = OrderStatus


class Action:
    AWAIT_TRANSFER = "await_transfer"
    TRANSFER_ARRIVED = "transfer_arrived"
    AWAIT_DECISION = "await_decision"
    ACCEPT_PARTIAL = "accept_partial"
    READY = "ready"
    PACK = "pack"
    SHIP = "ship"
    HAND_OVER = "hand_over"
    CANCEL = "cancel"
    EXPIRE = "expire"


ACTION_LABELS = {
    Action.AWAIT_TRANSFER: gettext_lazy("wait for a transfer"),
    Action.TRANSFER_ARRIVED: gettext_lazy("receive the transfer"),
    Action.AWAIT_DECISION: gettext_lazy("wait for a decision on the missing goods"),
    Action.ACCEPT_PARTIAL: gettext_lazy("go ahead with the goods that are there"),
    Action.READY: gettext_lazy("mark ready for pickup"),
    Action.PACK: gettext_lazy("pack the order"),
    Action.SHIP: gettext_lazy("ship the order"),
    Action.HAND_OVER: gettext_lazy("hand over"),
    Action.CANCEL: gettext_lazy("cancel"),
    Action.EXPIRE: gettext_lazy("expire"),
}

# (fulfilment, action) -> {status the action applies to: status it leads to}
TRANSITIONS: dict[tuple[str, str], dict[str, str]] = {
    (Fulfilment.CLICK_AND_COLLECT, Action.AWAIT_TRANSFER): {S.PLACED: S.AWAITING_TRANSFER},
    (Fulfilment.CLICK_AND_COLLECT, Action.TRANSFER_ARRIVED): {S.AWAITING_TRANSFER: S.READY_FOR_PICKUP},
    (Fulfilment.CLICK_AND_COLLECT, Action.AWAIT_DECISION): {S.AWAITING_TRANSFER: S.AWAITING_DECISION},
    (Fulfilment.CLICK_AND_COLLECT, Action.ACCEPT_PARTIAL): {S.AWAITING_DECISION: S.READY_FOR_PICKUP},
    (Fulfilment.CLICK_AND_COLLECT, Action.READY): {S.PLACED: S.READY_FOR_PICKUP},
    (Fulfilment.CLICK_AND_COLLECT, Action.HAND_OVER): {S.READY_FOR_PICKUP: S.COLLECTED},
    (Fulfilment.CLICK_AND_COLLECT, Action.CANCEL): {
        S.PLACED: S.CANCELLED,
        S.AWAITING_TRANSFER: S.CANCELLED,
        S.AWAITING_DECISION: S.CANCELLED,
        S.READY_FOR_PICKUP: S.CANCELLED,
    },
    (Fulfilment.CLICK_AND_COLLECT, Action.EXPIRE): {S.READY_FOR_PICKUP: S.EXPIRED, S.AWAITING_DECISION: S.EXPIRED},
    (Fulfilment.DELIVERY, Action.PACK): {S.PLACED: S.PACKED},
    (Fulfilment.DELIVERY, Action.SHIP): {S.PACKED: S.SHIPPED},
    (Fulfilment.DELIVERY, Action.HAND_OVER): {S.SHIPPED: S.DELIVERED},
    (Fulfilment.DELIVERY, Action.CANCEL): {S.PLACED: S.CANCELLED, S.PACKED: S.CANCELLED, S.SHIPPED: S.CANCELLED},
}

# Where a new order starts.
INITIAL = {
    Fulfilment.CLICK_AND_COLLECT: S.PLACED,
    Fulfilment.DELIVERY: S.PLACED,
    Fulfilment.IN_STORE: S.SOLD,
}


def next_status(order, action: str) -> str:
    """The status ``action`` leads the order to, or ``InvalidTransition`` naming its current one."""
    target = TRANSITIONS.get((order.fulfilment, action), {}).get(order.status)
    if target is None:
        raise InvalidTransition(
            _("Order %(number)s is %(status)s: it cannot %(action)s now.")
            % {"number": order.number, "status": OrderStatus(order.status).label, "action": ACTION_LABELS[action]},
            details={
                "number": order.number,
                "status": order.status,
                "action": action,
                "allowed_from": sorted(TRANSITIONS.get((order.fulfilment, action), {})),
            },
        )
    return target


def allowed(order, action: str) -> bool:
    return order.status in TRANSITIONS.get((order.fulfilment, action), {})


def allowed_actions(order) -> list[str]:
    return [
        action
        for (fulfilment, action), moves in TRANSITIONS.items()
        if fulfilment == order.fulfilment and order.status in moves
    ]
