"""Every change of orders, payments, returns and refunds. Each function is one business action in
one transaction, all or nothing.

Locks are always taken in one order, so that no two actions can deadlock: the order row, the
customer, the promo code (``loyalty.services.promo``), the loyalty account (``loyalty.services``), the
transfers, then the stock rows (all of an action's rows in one sorted ``select_for_update``,
``lock_objects.stock_rows``) before the inventory services change them. Messages and timeline
entries are written last, in the same transaction (the messaging outbox delivers after commit).
An action that writes an order tells the higher apps last, in its transaction (``orders.hooks``).
Payment rows are only ever locked by an action that holds their order's row.

Money: clients never send prices or totals. Lines take the catalogue price; the promo discount is
spread over lines in proportion to their subtotals and the points spent in proportion to their
amounts after discount (``omni.core.money``), so the lines always sum to the order. Refused and
returned units take their share of each line figure cumulatively, and refunds are computed from
what was paid for exactly those units (``return_figures``).

One module per area: ``placing``, ``allocation`` (stock), ``payments``, ``refunds``, ``fulfilment``
(status actions and completion), ``handover``, ``transfers`` (arriving for click-and-collect),
``returns`` with the pure ``return_figures``, ``customers`` (merge and personal data); the steps
they share are in ``inputs``, ``lines``, ``notices`` and ``transitions``. This package re-exports
what callers use.
"""

from orders.services.customers import anonymise_orders, export_orders, move_orders
from orders.services.fulfilment import (
    order_cancel,
    order_expire,
    order_mark_ready,
    order_pack,
    order_remind_pickup,
    order_ship,
)
from orders.services.handover import HandoverPreview, order_hand_over, order_hand_over_preview
from orders.services.inputs import MAX_LINES, MAX_QUANTITY, LineInput, PaymentInput, ReturnLineInput
from orders.services.payments import (
    CLOSED_STATUSES,
    COURIER_METHODS,
    PREPAYMENT_METHODS,
    STORE_METHODS,
    payment_record,
)
from orders.services.placing import order_as_written, order_code_verify, order_place, order_preview
from orders.services.refunds import refund_complete
from orders.services.return_figures import ReturnFigures
from orders.services.returns import return_accept, return_deadline, return_preview, return_window_days
from orders.services.transfers import (
    order_accept_partial,
    order_source_shortfall,
    order_transfer_received,
    order_transfer_settle,
)

__all__ = [
    "order_as_written",
    "CLOSED_STATUSES",
    "COURIER_METHODS",
    "MAX_LINES",
    "MAX_QUANTITY",
    "PREPAYMENT_METHODS",
    "STORE_METHODS",
    "HandoverPreview",
    "LineInput",
    "PaymentInput",
    "ReturnFigures",
    "ReturnLineInput",
    "anonymise_orders",
    "export_orders",
    "move_orders",
    "order_accept_partial",
    "order_cancel",
    "order_code_verify",
    "order_expire",
    "order_hand_over",
    "order_hand_over_preview",
    "order_mark_ready",
    "order_pack",
    "order_place",
    "order_preview",
    "order_remind_pickup",
    "order_ship",
    "order_source_shortfall",
    "order_transfer_received",
    "order_transfer_settle",
    "payment_record",
    "refund_complete",
    "return_accept",
    "return_deadline",
    "return_preview",
    "return_window_days",
]
