"""The order events on a customer's timeline (``customers.timeline_events``), rendered in the
reader's language. Registered when this module is imported: by ``orders.apps`` and the services."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from customers.timeline_events import choice_label, money_label, register_event
from orders.models import OrderStatus


def _completed(values: dict) -> str:
    return (
        ngettext(
            "Order %(number)s completed (%(status)s): %(items)d item for %(total)s.",
            "Order %(number)s completed (%(status)s): %(items)d items for %(total)s.",
            values["items"],
        )
        % values
    )


def _return_accepted(values: dict) -> str:
    return (
        ngettext(
            "Return %(number)s of order %(order)s: %(items)d item, refund %(refund)s.",
            "Return %(number)s of order %(order)s: %(items)d items, refund %(refund)s.",
            values["items"],
        )
        % values
    )


register_event("order.placed", _("Order %(number)s placed: %(total)s."), total=money_label)
register_event("order.completed", _completed, status=choice_label(OrderStatus), total=money_label)
register_event("order.cancelled", _("Order %(number)s cancelled."))
register_event("order.expired", _("Order %(number)s was not collected in time and is cancelled."))
register_event("return.accepted", _return_accepted, refund=money_label)
