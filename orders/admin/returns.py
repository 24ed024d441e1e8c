"""Returns, read: they are accepted at the return desk (``orders.admin.return_desk``)."""

from django.contrib import admin

from inventory.admin import LocationScopedAdminMixin, UserLocationFilter
from omni.core.admin_mixins import ReadOnlyAdminMixin
from orders.admin.common import ParentViewInline, RefundInline
from orders.admin.return_desk import ReturnDeskMixin
from orders.models import (
    OrderReturn,
    ReturnLine,
)


class ReturnLineInline(ParentViewInline):
    model = ReturnLine
    parent_permission = "orders.view_orderreturn"
    fields = ["order_line", "quantity", "condition", "amount", "paid_amount"]
    readonly_fields = fields


class ReturnRefundInline(RefundInline):
    parent_permission = "orders.view_orderreturn"
    fk_name = "order_return"


@admin.register(OrderReturn)
class OrderReturnAdmin(ReturnDeskMixin, ReadOnlyAdminMixin, LocationScopedAdminMixin, admin.ModelAdmin):
    """Returns are accepted at the return desk, through ``return_accept``; here they are read."""

    location_lookups = ("location", "order__location")
    list_display = ["number", "created_at", "order", "location", "refund_amount", "refund_method", "late_accepted"]
    list_filter = ["refund_method", "late_accepted", ("location", UserLocationFilter)]
    list_select_related = ["order", "location"]
    search_fields = ["number", "order__number"]
    readonly_fields = [
        "number",
        "order",
        "location",
        "reason",
        "refund_method",
        "amount",
        "paid_amount",
        "shortfall_points",
        "shortfall_value",
        "refund_amount",
        "refund_points",
        "points_reversed",
        "points_given_back",
        "late_accepted",
        "created_by",
        "created_at",
    ]
    fields = readonly_fields
    inlines = [ReturnLineInline, ReturnRefundInline]
    change_list_template = "admin/orders/orderreturn/change_list.html"
    change_form_template = "admin/orders/orderreturn/change_form.html"

    def get_queryset(self, request):
        return super().get_queryset(request).distinct()

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(
            request, {**(extra_context or {}), "can_take_returns": request.user.has_perm("orders.add_orderreturn")}
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "can_take_returns": request.user.has_perm("orders.add_orderreturn")}
        return super().change_view(request, object_id, form_url, extra_context)
