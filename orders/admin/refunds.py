"""Refunds: created by cancellations, handovers and returns; completed here once paid back."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from inventory.admin import LocationScopedAdminMixin
from inventory.forms import message_domain_error
from omni.core.errors import DomainError
from orders import services
from orders.admin.common import actor_of
from orders.models import (
    Refund,
)


@admin.register(Refund)
class RefundAdmin(LocationScopedAdminMixin, admin.ModelAdmin):
    """Refunds are created by cancellations, handovers and returns; here pending ones are marked
    as made once the bank has paid them back (``refund_complete``)."""

    location_lookups = ("order__location", "order_return__location")
    list_display = ["id", "created_at", "order", "order_return", "method", "amount", "points", "status", "completed_at"]
    list_filter = ["status", "method"]
    list_select_related = ["order", "order_return"]
    search_fields = ["order__number", "order_return__number", "transaction_id"]
    readonly_fields = [
        "order",
        "order_return",
        "payment",
        "method",
        "amount",
        "points",
        "status",
        "reason",
        "transaction_id",
        "completed_at",
        "created_by",
        "api_key",
        "created_at",
    ]
    fields = readonly_fields
    actions = ["complete_selected"]

    def get_queryset(self, request):
        return super().get_queryset(request).distinct()

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # a refund changes only through its actions

    def has_delete_permission(self, request, obj=None):
        return False

    def has_complete_permission(self, request):
        return request.user.has_perm("orders.change_order")

    @admin.action(description=_("Mark as refunded"), permissions=["complete"])
    def complete_selected(self, request, queryset):
        done = []
        for refund in queryset.select_related("order").order_by("pk"):
            try:
                services.refund_complete(refund=refund, actor=actor_of(request))
            except DomainError as exc:
                message_domain_error(self, request, exc)
            else:
                done.append(refund)
        if done:
            self.message_user(
                request,
                ngettext(
                    "%(count)d refund is marked as refunded; the customer is told.",
                    "%(count)d refunds are marked as refunded; the customers are told.",
                    len(done),
                )
                % {"count": len(done)},
                messages.SUCCESS,
            )
