"""Callbacks that higher apps register to hear of changes to orders, without orders importing them.

``register_order_changed(callback)``: ``callback(order)`` is called by each action of
``orders.services`` that writes an order (placing, a payment, ready for pickup, packing, shipping,
a reminder, handover, cancelling, expiry, a transfer settled, a shortfall sourced or accepted, a
return), once, after its last write of the order, inside its transaction.

``register_return_accepted(callback)``: ``callback(order_return)`` is called by
``orders.services.return_accept`` inside its transaction, after the return, its lines and the units
returned on the order's lines were written.

An app registers from its ``AppConfig.ready``; the reports app keeps its summaries with them. A
callback that raises refuses the whole action, so callbacks must not raise for their own reasons.
Rows written around the services (a queryset ``update()``, a database import) are heard by nobody:
whoever writes them tells the higher apps themselves (for the summaries,
``manage.py rebuild_report_summaries``).
"""

from collections.abc import Callable

OrderChanged = Callable[..., object]
ReturnAccepted = Callable[..., object]

_order_changed: dict[str, OrderChanged] = {}
_return_accepted: dict[str, ReturnAccepted] = {}


def _name(callback: Callable) -> str:
    # Keyed by name: registering the same function again (``ready()`` run twice) replaces it.
    return f"{callback.__module__}.{callback.__qualname__}"


def register_order_changed(callback: OrderChanged) -> None:
    """Add a callback run after a service action wrote an order."""
    _order_changed[_name(callback)] = callback


def register_return_accepted(callback: ReturnAccepted) -> None:
    """Add a callback run when a return is accepted."""
    _return_accepted[_name(callback)] = callback


def order_changed(order) -> None:
    for callback in list(_order_changed.values()):
        callback(order)


def return_accepted(order_return) -> None:
    for callback in list(_return_accepted.values()):
        callback(order_return)
