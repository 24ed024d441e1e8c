"""The last orders of every channel in the customer's card summary
(``customers.admin.add_customer_card_panel``); imported by ``orders.apps`` to register the box."""

from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from customers.admin import add_customer_card_panel
from customers.timeline_events import money_label
from omni.core.admin_mixins import panel_table
from orders.models import Order

LAST_ORDERS = 5


def last_orders_box(request, customer) -> str:
    if not request.user.has_perm("orders.view_order"):
        return ""
    orders = Order.objects.filter(customer=customer).select_related("location")
    count = orders.count()
    if not count:
        return format_html("<p>{}</p>", gettext("No orders yet."))
    rows = [
        (
            format_html('<a href="{}">{}</a>', reverse("admin:orders_order_change", args=[order.pk]), order.number),
            order.created_at,
            f"{order.get_channel_display()}, {order.get_fulfilment_display()}",
            order.location.name if order.location else "—",
            order.get_status_display(),
            format_html('<span style="white-space:nowrap">{}</span>', money_label(order.total)),
        )
        for order in orders.order_by("-created_at", "-id")[:LAST_ORDERS]
    ]
    table = panel_table(
        [_("order"), _("date"), _("channel"), Order._meta.get_field("location").verbose_name, _("status"), _("total")],
        rows,
    )
    if count <= LAST_ORDERS:
        return table
    more = ngettext(
        "%(count)d order in all, every one listed below the profile.",
        "%(count)d orders in all, every one listed below the profile.",
        count,
    ) % {"count": count}
    return format_html('{}<p class="more">{}</p>', table, more)


add_customer_card_panel("orders", _("Last orders, every channel"), last_orders_box, order=20, wide=True)
