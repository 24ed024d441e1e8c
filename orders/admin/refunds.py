"""Refunds: created by cancellations, handovers and returns; completed here (or at the return
desk) once paid back, with how and the transaction id."""

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from inventory.admin import LocationScopedAdminMixin
from inventory.forms import message_domain_error
from omni.core.admin_mixins import render_form_page
from omni.core.errors import DomainError
from orders import services
from orders.admin.common import actor_of
from orders.desk_forms.returns import RefundCompleteForm
from orders.models import (
    PaymentMethod,
    Refund,
    RefundPayout,
    RefundStatus,
)


def payouts_for(refund: Refund) -> tuple[str, ...]:
    """The ways a refund can be paid back, the likeliest first: an online payment by the gateway,
    anything else at the store's terminal."""
    if refund.method in (PaymentMethod.CARD_ONLINE, PaymentMethod.SBP):
        return (RefundPayout.BANK, RefundPayout.TERMINAL, RefundPayout.CASH)
    return (RefundPayout.TERMINAL, RefundPayout.CASH, RefundPayout.BANK)


@admin.register(Refund)
class RefundAdmin(LocationScopedAdminMixin, admin.ModelAdmin):
    """Refunds are created by cancellations, handovers and returns; a pending one is completed
    on its own page, saying how it was paid back (``refund_complete``)."""

    location_lookups = ("order__location", "order_return__location")
    list_display = [
        "created_at",
        "order",
        "order_return",
        "method",
        "amount",
        "status",
        "complete_link",
    ]
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
        "terminal",
        "completed_at",
        "created_by",
        "api_key",
        "created_at",
    ]
    fields = readonly_fields
    actions = None
    change_form_template = "admin/orders/refund/change_form.html"

    def get_queryset(self, request):
        return super().get_queryset(request).distinct()

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # a refund changes only through "Complete the refund"

    def has_delete_permission(self, request, obj=None):
        return False

    def has_complete_permission(self, request):
        return request.user.has_perm("orders.change_order")

    @admin.display(description=_("paid back"))
    def complete_link(self, obj):
        if obj.status != RefundStatus.PENDING:
            return ""
        url = reverse("admin:orders_refund_complete", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, gettext("Complete…"))

    def get_urls(self):
        view = self.admin_site.admin_view
        urls = [path("<path:object_id>/complete/", view(self.complete_view), name="orders_refund_complete")]
        return urls + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        refund = self.get_object(request, unquote(object_id))
        can_complete = (
            refund is not None and refund.status == RefundStatus.PENDING and self.has_complete_permission(request)
        )
        return super().change_view(
            request, object_id, form_url, {**(extra_context or {}), "can_complete": can_complete}
        )

    def complete_view(self, request, object_id):
        """Say how a pending refund was paid back: at the terminal (its transaction id), in
        cash at the desk, or by the bank."""
        if not self.has_complete_permission(request):
            raise PermissionDenied
        refund = self.get_object(request, unquote(object_id))
        if refund is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        form = RefundCompleteForm(request.POST or None, payouts=payouts_for(refund))
        if request.method == "POST" and form.is_valid():
            try:
                services.refund_complete(refund=refund, actor=actor_of(request), **form.cleaned_data)
            except DomainError as exc:
                message_domain_error(self, request, exc)
            else:
                self.message_user(
                    request,
                    gettext("The refund of %(amount)s for order %(number)s is completed; the customer is told.")
                    % {"amount": number_format(refund.amount, 2, force_grouping=True), "number": refund.order.number},
                    messages.SUCCESS,
                )
                return redirect("admin:orders_refund_change", refund.pk)
        return render_form_page(
            self,
            request,
            form=form,
            original=refund,
            title=gettext("Complete the refund for order %(number)s") % {"number": refund.order.number},
            submit_label=gettext("Complete the refund"),
            intro=gettext("%(amount)s, %(method)s, %(status)s. Say how it was paid back.")
            % {
                "amount": number_format(refund.amount, 2, force_grouping=True),
                "method": refund.get_method_display(),
                "status": refund.get_status_display(),
            },
        )
