"""The event types an integration can subscribe to, each with what it means."""

from django.utils.translation import gettext_lazy as _

PING = "ping"

EVENT_TYPES = {
    "order.created": _("An order was placed (in any channel, also a sale in a store)."),
    "order.status_changed": _("An order's status changed: status_from and status_to, and the order."),
    "order.ready_for_pickup": _("A click-and-collect order is ready for pickup at its store."),
    "order.handed_over": _("An order was handed over to the customer; refused lists the units refused."),
    "return.accepted": _("Goods of an order were returned."),
    "refund.completed": _("A pending refund was paid back to the customer."),
    "stock.changed": _("The stock of a SKU at a location changed: on hand, reserved and available."),
    "product.changed": _("A product or its price was created or changed."),
    "customer.created": _("A customer was registered."),
    "customer.updated": _("A customer's profile changed."),
    "customer.merged": _("Two customers were merged: the old id and the id that remains."),
    "points.changed": _("A loyalty account's points changed: balance and pending."),
    "transfer.received": _("A transfer between locations was received."),
}
