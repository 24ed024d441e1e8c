"""Callbacks that higher apps register to hear of changes to orders, without orders importing them.

``register_order_changed(callback)``: ``callback(order)`` is called by each action of
``orders.services`` that writes an order (placing, a payment, ready for pickup, packing, shipping,
a reminder, handover, cancelling, expiry, a transfer settled, a shortfall sourced or accepted, a
return), once, after its last write of the order, inside its transaction.

``register_return_accepted(callback)``: ``callback(order_return)`` is called by
``orders.services.return_accept`` inside its transaction, after the return, its lines and the units
returned on the order's lines were written.

``register_order_placed(callback)``: ``callback(order)`` is called by ``orders.services.order_place``
inside its transaction, after the order, its lines, allocations and payments were written (before
``order_changed``).

``register_order_status_changed(callback)``: ``callback(order, status_from)`` is called by every
status move of the state machine (``orders.services.transitions.status_move``), inside the action's
transaction, just after the new status is saved; the action may still write the order after it and
calls ``order_changed`` last.

``register_refund_completed(callback)``: ``callback(refund)`` is called by
``orders.services.refund_complete`` inside its transaction, after the refund was marked done.

An app registers from its ``AppConfig.ready``; the reports app keeps its summaries with them. A
callback that raises refuses the whole action, so callbacks must not raise for their own reasons.
Rows written around the services (a queryset ``update()``, a database import) are heard by nobody:
whoever writes them tells the higher apps themselves (for the summaries,
``manage.py rebuild_report_summaries``).
"""

from omni.core.hooks import Hook

order_changed = Hook("orders.order_changed")
register_order_changed = order_changed.register
return_accepted = Hook("orders.return_accepted")
register_return_accepted = return_accepted.register
order_placed = Hook("orders.order_placed")
register_order_placed = order_placed.register
order_status_changed = Hook("orders.order_status_changed")
register_order_status_changed = order_status_changed.register
refund_completed = Hook("orders.refund_completed")
register_refund_completed = refund_completed.register
