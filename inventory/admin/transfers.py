"""Transfers between locations: requested, shipped, received (in full or in part) and cancelled
through their services."""

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext, gettext_lazy, ngettext, ngettext_lazy, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from inventory.admin.mixins import LocationScopedAdminMixin, UserLocationFilter
from inventory.admin.transfer_requests import TransferRequestsMixin
from inventory.forms import TransferCreateForm, TransferReceiveForm, domain_error_messages, message_domain_error
from inventory.models import Location, Transfer, TransferLine, TransferStatus
from inventory.selectors import visible_locations
from inventory.services import (
    transfer_cancel,
    transfer_create,
    transfer_receive,
    transfer_ship_from_source,
)
from omni.core.actors import Actor
from omni.core.admin_mixins import ReadOnlyInline, render_form_page
from omni.core.errors import DomainError
from omni.core.formats import format_short_datetime


class TransferLineInline(ReadOnlyInline):
    model = TransferLine
    fields = ["product", "asked_quantity", "quantity", "received_quantity", "discrepancy"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("product")

    @admin.display(description=_("not arrived"))
    def discrepancy(self, obj):
        return obj.discrepancy


@admin.register(Transfer)
class TransferAdmin(LocationScopedAdminMixin, TransferRequestsMixin, admin.ModelAdmin):
    """Transfers are created, shipped, received and cancelled only through their services."""

    location_lookups = ("source", "destination")
    # Location codes and short dates, so the list fits a 1,366 px screen (the status says whether
    # it was received; its page says when).
    list_display = [
        "number",
        "source_code",
        "destination_code",
        "status",
        "created",
        "shipped",
        "has_discrepancy",
    ]
    list_filter = ["status", ("source", UserLocationFilter), ("destination", UserLocationFilter)]
    search_fields = ["number", "cause_id"]
    fields = [
        "number",
        "source",
        "destination",
        "status",
        "note",
        "cause_type",
        "cause_id",
        "created_by",
        "api_key",
        "created_at",
        "shipped_at",
        "received_at",
        "cancelled_at",
        "declined_at",
        "decline_reason",
        "discrepancy_summary",
    ]
    readonly_fields = fields
    inlines = [TransferLineInline]
    actions = ["ship_selected", "receive_selected", "cancel_selected"]
    change_form_template = "admin/inventory/transfer/change_form.html"
    change_list_template = "admin/inventory/transfer/change_list.html"

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("source", "destination")
            .prefetch_related(Prefetch("lines", queryset=TransferLine.objects.select_related("product")))
        )

    def get_fields(self, request, obj=None):
        if obj is not None and obj.status == TransferStatus.DECLINED:
            return self.fields
        return [name for name in self.fields if name not in ("declined_at", "decline_reason")]

    def has_change_permission(self, request, obj=None):
        return False  # a transfer changes only through its actions

    def has_delete_permission(self, request, obj=None):
        return False

    def has_ship_permission(self, request):
        return request.user.has_perm("inventory.ship_transfer")

    def has_receive_permission(self, request):
        return request.user.has_perm("inventory.receive_transfer")

    def has_cancel_permission(self, request):
        return request.user.has_perm("inventory.cancel_transfer")

    @admin.display(description=_("source"), ordering="source__code")
    def source_code(self, obj):
        return format_html('<span title="{}">{}</span>', obj.source.name, obj.source.code)

    @admin.display(description=_("destination"), ordering="destination__code")
    def destination_code(self, obj):
        return format_html('<span title="{}">{}</span>', obj.destination.name, obj.destination.code)

    @admin.display(description=pgettext_lazy("transfer", "created"), ordering="created_at")
    def created(self, obj):
        return format_short_datetime(obj.created_at)

    @admin.display(description=pgettext_lazy("transfer", "shipped"), ordering="shipped_at")
    def shipped(self, obj):
        return format_short_datetime(obj.shipped_at)

    @admin.display(description=_("discrepancy"), boolean=True)
    def has_discrepancy(self, obj):
        return obj.has_discrepancy

    @admin.display(description=_("discrepancy"))
    def discrepancy_summary(self, obj):
        missing = [line for line in obj.lines.all() if line.discrepancy]
        if not missing:
            return "—"
        return "; ".join(
            gettext("%(sku)s: %(missing)d of %(shipped)d did not arrive")
            % {"sku": line.product.sku, "missing": line.discrepancy, "shipped": line.quantity}
            for line in missing
        )

    # --- Creating a transfer

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = TransferCreateForm(
            request.POST or None,
            sources=self.user_locations(request).filter(is_active=True),
            destinations=Location.objects.active(),
        )
        return self.new_transfer_page(
            request,
            form,
            service=transfer_create,
            done=gettext_lazy("Transfer %(number)s is requested; its goods are reserved at %(source)s."),
            title=gettext("Send goods"),
            submit_label=gettext("Reserve and create the transfer"),
            intro=gettext("The goods are reserved at the source until the transfer is shipped or cancelled."),
        )

    def new_transfer_page(self, request, form, *, service, done, **page):
        """A page that creates a transfer (sent, or asked for) through ``service`` and opens it."""
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                transfer = service(
                    source=data["source"],
                    destination=data["destination"],
                    lines=data["lines"],
                    note=data["note"],
                    actor=Actor(user=request.user),
                )
            except DomainError as exc:
                message_domain_error(self, request, exc)
            else:
                self.log_addition(request, transfer, [{"added": {}}])
                self.message_user(
                    request, done % {"number": transfer.number, "source": transfer.source}, messages.SUCCESS
                )
                return redirect("admin:inventory_transfer_change", transfer.pk)
        return render_form_page(self, request, form=form, **page)

    # --- Shipping, receiving and cancelling

    @admin.action(description=_("Ship selected transfers"), permissions=["ship"])
    def ship_selected(self, request, queryset):
        self.run_on_transfers(
            request,
            queryset,
            service=transfer_ship_from_source,
            location_field="source",
            outside=_("Transfer %(number)s was not shipped: it leaves from %(location)s, which is not your location."),
            refused=_("Transfer %(number)s was not shipped. %(reason)s"),
            done=ngettext_lazy("Transfer %(numbers)s is shipped.", "Transfers %(numbers)s are shipped.", "count"),
        )

    @admin.action(description=_("Receive selected transfers in full"), permissions=["receive"])
    def receive_selected(self, request, queryset):
        self.run_on_transfers(
            request,
            queryset,
            service=transfer_receive,
            location_field="destination",
            outside=_("Transfer %(number)s was not received: it goes to %(location)s, which is not your location."),
            refused=_("Transfer %(number)s was not received. %(reason)s"),
            done=ngettext_lazy("Transfer %(numbers)s is received.", "Transfers %(numbers)s are received.", "count"),
        )

    @admin.action(description=_("Cancel selected transfers"), permissions=["cancel"])
    def cancel_selected(self, request, queryset):
        self.run_on_transfers(
            request,
            queryset,
            service=transfer_cancel,
            location_field=None,
            outside="",
            refused=_("Transfer %(number)s was not cancelled. %(reason)s"),
            done=ngettext_lazy("Transfer %(numbers)s is cancelled.", "Transfers %(numbers)s are cancelled.", "count"),
        )

    def run_on_transfers(self, request, queryset, *, service, location_field, outside, refused, done):
        """Call the service for each selected transfer the user may act on, one by one."""
        visible = visible_locations(request.user)
        actor = Actor(user=request.user)
        finished = []
        for transfer in queryset.order_by("pk"):
            if location_field and not visible.includes(getattr(transfer, f"{location_field}_id")):
                values = {"number": transfer.number, "location": getattr(transfer, location_field)}
                self.message_user(request, outside % values, messages.ERROR)
                continue
            try:
                service(transfer=transfer, actor=actor)
            except DomainError as exc:
                reason = " ".join(domain_error_messages(exc))
                self.message_user(request, refused % {"number": transfer.number, "reason": reason}, messages.ERROR)
            else:
                finished.append(transfer.number)
        if finished:
            text = done % {"count": len(finished), "numbers": ", ".join(finished)}
            self.message_user(request, text, messages.SUCCESS)

    # --- Receiving part of a transfer

    def get_urls(self):
        urls = self.request_urls() + [
            path(
                "<path:object_id>/receive/",
                self.admin_site.admin_view(self.receive_view),
                name="inventory_transfer_receive",
            )
        ]
        return urls + super().get_urls()

    def can_receive(self, request, transfer: Transfer) -> bool:
        return self.has_receive_permission(request) and self.works_at(request, transfer.destination_id)

    def receive_view(self, request, object_id):
        transfer = self.get_object(request, unquote(object_id))
        if transfer is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.can_receive(request, transfer):
            raise PermissionDenied
        if request.method != "POST" and transfer.status != TransferStatus.IN_TRANSIT:
            self.message_user(
                request,
                gettext("Transfer %(number)s is %(status)s; only a transfer in transit can be received.")
                % {"number": transfer.number, "status": transfer.get_status_display()},
                messages.ERROR,
            )
            return redirect("admin:inventory_transfer_change", transfer.pk)
        lines = [line for line in transfer.lines.all() if line.quantity]  # a refused line brings nothing
        form = TransferReceiveForm(request.POST or None, lines=lines)
        if request.method == "POST" and form.is_valid():
            received = form.received()
            try:
                transfer = transfer_receive(transfer=transfer, received=received, actor=Actor(user=request.user))
            except DomainError as exc:
                message_domain_error(self, request, exc)
            else:
                self.message_user(
                    request, gettext("Transfer %(number)s is received.") % {"number": transfer.number}, messages.SUCCESS
                )
                missing = sum(line.quantity - received[line.product_id] for line in lines)
                if missing:
                    self.message_user(
                        request,
                        ngettext(
                            "%(count)d unit shipped did not arrive; the discrepancy is recorded on the transfer.",
                            "%(count)d units shipped did not arrive; the discrepancy is recorded on the transfer.",
                            missing,
                        )
                        % {"count": missing},
                        messages.WARNING,
                    )
                return redirect("admin:inventory_transfer_change", transfer.pk)
        return render_form_page(
            self,
            request,
            form=form,
            original=transfer,
            title=gettext("Receive transfer %(number)s") % {"number": transfer.number},
            submit_label=gettext("Record the receipt"),
            intro=gettext("Enter the units that arrived. What was shipped and did not arrive stays on the transfer."),
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = dict(extra_context or {})
        transfer = self.get_object(request, unquote(object_id))
        if (
            transfer is not None
            and transfer.status == TransferStatus.IN_TRANSIT
            and self.can_receive(request, transfer)
        ):
            extra_context["receive_url"] = reverse("admin:inventory_transfer_receive", args=[transfer.pk])
        if transfer is not None and self.can_answer(request, transfer):
            extra_context["ship_url"] = reverse("admin:inventory_transfer_ship", args=[transfer.pk])
        return super().change_view(request, object_id, form_url, extra_context)

    def changelist_view(self, request, extra_context=None):
        extra_context = dict(extra_context or {})
        if self.has_add_permission(request):
            extra_context["ask_url"] = reverse("admin:inventory_transfer_ask")
        return super().changelist_view(request, extra_context)
