"""The customer's page: every order and return, from every channel."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from customers.admin import DisplayOnlyFormSet, add_customer_page_inline
from omni.core.admin_mixins import ReadOnlyInline
from orders.models import (
    Order,
)


class CustomerOrderInline(ReadOnlyInline):
    model = Order
    fk_name = "customer"
    formset = DisplayOnlyFormSet
    verbose_name = _("order")
    verbose_name_plural = _("orders and returns, every channel")
    fields = ["order_link", "created_at", "channel", "fulfilment", "status", "location", "total", "paid", "returns"]
    readonly_fields = fields
    ordering = ["-created_at", "-id"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("location").prefetch_related("returns")

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("orders.view_order")

    @admin.display(description=_("order"))
    def order_link(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("admin:orders_order_change", args=[obj.pk]), obj.number)

    @admin.display(description=_("returns"))
    def returns(self, obj):
        found = [
            (reverse("admin:orders_orderreturn_change", args=[r.pk]), r.number, r.refund_amount)
            for r in obj.returns.all()
        ]
        if not found:
            return "—"
        return format_html_join(", ", '<a href="{}">{}</a> ({})', found)


add_customer_page_inline(CustomerOrderInline)
