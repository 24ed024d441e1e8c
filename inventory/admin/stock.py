"""Stock levels, with receipts, counts and write-offs typed in or imported, and the read-only record
of every change: the stock ledger and the stock documents."""

from dataclasses import dataclass
from functools import partial

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportMixin

from inventory.admin.counts import StockCountScreenMixin
from inventory.admin.mixins import LocationScopedAdminMixin, ServiceImportAdminMixin, UserLocationFilter
from inventory.forms import (
    StockConfirmImportForm,
    StockDocumentForm,
    StockImportForm,
    message_domain_error,
    stock_import_modes,
)
from inventory.models import Stock, StockDocument, StockDocumentKind, StockDocumentLine, StockMovement
from inventory.resources import StockImportResource
from inventory.selectors import stock_levels, with_units_in_transit
from inventory.services import stock_count, stock_receive, stock_set_minimum, stock_write_off
from omni.core.actors import Actor
from omni.core.admin_mixins import ReadOnlyAdminMixin, ReadOnlyInline, render_form_page
from omni.core.errors import DomainError


class LowStockFilter(admin.SimpleListFilter):
    title = _("low stock")
    parameter_name = "low_stock"

    def lookups(self, request, model_admin):
        return [("yes", _("Below the minimum")), ("no", _("At or above the minimum"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(is_low=True)
        if self.value() == "no":
            return queryset.filter(is_low=False)
        return queryset


@dataclass(frozen=True)
class StockDocumentScreen:
    """A screen that records one kind of stock document through its service."""

    kind: str
    slug: str
    permission: str
    service: object
    allow_zero: bool
    title: str
    intro: str


STOCK_DOCUMENT_SCREENS = (
    StockDocumentScreen(
        kind=StockDocumentKind.RECEIPT,
        slug="receive",
        permission="inventory.receive_stock",
        service=stock_receive,
        allow_zero=False,
        title=_("Record a receipt"),
        intro=_("Goods that arrived: their quantities are added to stock."),
    ),
    StockDocumentScreen(
        kind=StockDocumentKind.COUNT,
        slug="count",
        permission="inventory.count_stock",
        service=stock_count,
        allow_zero=True,
        title=_("Record a count"),
        intro=_(
            "Enter what was counted and press Preview: each product's difference is shown before anything "
            "changes. Posting sets stock on hand to the counted quantities."
        ),
    ),
    StockDocumentScreen(
        kind=StockDocumentKind.WRITE_OFF,
        slug="write-off",
        permission="inventory.write_off_stock",
        service=stock_write_off,
        allow_zero=False,
        title=_("Record a write-off"),
        intro=_("Damaged, lost or expired goods: their quantities leave stock."),
    ),
)


@admin.register(Stock)
class StockAdmin(
    LocationScopedAdminMixin, StockCountScreenMixin, ServiceImportAdminMixin, ImportMixin, admin.ModelAdmin
):
    """Stock levels. Only the minimum quantity is edited here; figures change through documents."""

    location_lookups = ("location",)
    # Short columns so the list fits a 1,366 px screen beside the menu and the filters; the
    # location column only for those who see more than one location (get_list_display).
    list_display = ["product_label", "location_code", "on_hand", "reserved", "available", "in_transit", "minimum"]
    list_display_links = ["product_label"]
    list_filter = [("location", UserLocationFilter), "product__category", LowStockFilter]
    search_fields = ["product__sku", "product__name", "=product__barcodes__code"]
    search_help_text = _("Search by SKU or product name, or by the exact barcode.")
    fields = ["product", "location", "on_hand", "reserved", "available", "min_quantity", "updated_at"]
    readonly_fields = ["product", "location", "on_hand", "reserved", "available", "updated_at"]
    import_export_change_list_template = "admin/inventory/stock/change_list.html"
    import_form_class = StockImportForm
    confirm_form_class = StockConfirmImportForm
    # The ledger and the stock documents are the record of an import.
    skip_admin_log = True

    def get_queryset(self, request):
        return with_units_in_transit(stock_levels(super().get_queryset(request)))

    def get_list_display(self, request):
        if self.user_location_ids(request) is not None and len(self.user_location_ids(request)) < 2:
            return [name for name in self.list_display if name != "location_code"]
        return self.list_display

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("product"), ordering="product__name")
    def product_label(self, obj):
        return format_html('{}<br><span class="quiet">{}</span>', obj.product.name, obj.product.sku)

    @admin.display(description=_("location"), ordering="location__code")
    def location_code(self, obj):
        return format_html('<span title="{}">{}</span>', obj.location.name, obj.location.code)

    @admin.display(description=_("available"), ordering="available_qty")
    def available(self, obj):
        if not obj.is_low:  # annotated by stock_levels (inventory.selectors.LOW_STOCK)
            return obj.available
        return format_html(
            '<strong class="low-stock" title="{}">▼ {}</strong>',
            gettext("Below the minimum of %(minimum)d") % {"minimum": obj.min_quantity},
            obj.available,
        )

    @admin.display(description=pgettext_lazy("goods", "in transit"), ordering="in_transit_qty")
    def in_transit(self, obj):
        return obj.in_transit_qty or "—"

    @admin.display(description=pgettext_lazy("stock level", "minimum"), ordering="min_quantity")
    def minimum(self, obj):
        return obj.min_quantity

    def save_model(self, request, obj, form, change):
        # Only the minimum quantity is in the form; obj.save() would also write back figures
        # read when the page was opened, over any change made since.
        try:
            stock_set_minimum(stock=obj, min_quantity=form.cleaned_data["min_quantity"])
        except DomainError as exc:
            message_domain_error(self, request, exc)

    # --- Receipts, counts and write-offs typed in the admin

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        urls = [
            path(
                f"{screen.slug}/",
                self.admin_site.admin_view(partial(self.stock_document_view, screen=screen)),
                name="{}_{}_{}".format(*info, screen.slug.replace("-", "_")),
            )
            for screen in STOCK_DOCUMENT_SCREENS
        ]
        return urls + super().get_urls()

    def stock_document_view(self, request, screen: StockDocumentScreen):
        if not request.user.has_perm(screen.permission):
            raise PermissionDenied
        if screen.kind == StockDocumentKind.COUNT:
            return self.count_view(request, screen)
        form = StockDocumentForm(
            request.POST or None, locations=self.user_locations(request), allow_zero=screen.allow_zero
        )
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                document, created = screen.service(
                    location=data["location"],
                    lines=data["lines"],
                    number=data["number"],
                    note=data["note"],
                    actor=Actor(user=request.user),
                )
            except DomainError as exc:
                message_domain_error(self, request, exc)
            else:
                self.message_document(request, document, created)
                changelist = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist")
                return redirect(f"{changelist}?location__id__exact={document.location_id}")
        return render_form_page(
            self, request, form=form, title=screen.title, submit_label=screen.title, intro=screen.intro
        )

    def message_document(self, request, document, created: bool) -> None:
        values = {"document": document, "location": document.location}
        if created:
            self.message_user(request, gettext("%(document)s is recorded at %(location)s.") % values, messages.SUCCESS)
        else:
            self.message_user(
                request,
                gettext("%(document)s was already recorded at %(location)s with these lines; nothing changed.")
                % values,
                messages.WARNING,
            )

    def changelist_view(self, request, extra_context=None):
        info = self.opts.app_label, self.opts.model_name
        links = [
            {"url": reverse("admin:{}_{}_{}".format(*info, screen.slug.replace("-", "_"))), "label": screen.title}
            for screen in STOCK_DOCUMENT_SCREENS
            if request.user.has_perm(screen.permission)
        ]
        return super().changelist_view(request, {**(extra_context or {}), "stock_document_links": links})

    # --- Import (receipt or count, one document per location) and export

    def has_import_permission(self, request):
        return bool(stock_import_modes(request.user))

    def get_import_resource_classes(self, request):
        return [StockImportResource]

    def get_import_form_kwargs(self, request):
        return {**super().get_import_form_kwargs(request), "modes": stock_import_modes(request.user)}

    def get_confirm_form_kwargs(self, request, import_form=None):
        return {**super().get_confirm_form_kwargs(request, import_form), "modes": stock_import_modes(request.user)}

    def get_confirm_form_initial(self, request, import_form):
        initial = super().get_confirm_form_initial(request, import_form)
        if import_form is not None:
            initial.update({name: import_form.cleaned_data[name] for name in ("mode", "number", "note")})
        return initial

    def get_import_resource_kwargs(self, request, **kwargs):
        form = kwargs.get("form")
        data = getattr(form, "cleaned_data", None) or {}
        return {
            "mode": data.get("mode") or StockDocumentKind.RECEIPT,
            "number": data.get("number", ""),
            "note": data.get("note", ""),
            "actor": Actor(user=request.user),
            "locations": self.user_locations(request),
        }

    def add_success_message(self, result, request):
        for document, created in getattr(result, "stock_documents", []):
            self.message_document(request, document, created)


# --- Stock ledger and documents (read-only) ---------------------------------------------


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyAdminMixin, LocationScopedAdminMixin, admin.ModelAdmin):
    location_lookups = ("location",)
    list_display = [
        "created_at",
        "product",
        "location",
        "on_hand_delta",
        "reserved_delta",
        "reason",
        "cause",
        "by",
    ]
    list_filter = ["reason", ("location", UserLocationFilter)]
    list_select_related = ["product", "location", "created_by", "api_key"]
    date_hierarchy = "created_at"
    search_fields = ["product__sku", "cause_id"]
    search_help_text = _("Search by SKU or by cause reference (an order or a document number).")

    @admin.display(description=_("cause"), ordering="cause_id")
    def cause(self, obj):
        return f"{obj.cause_type} {obj.cause_id}".strip()

    @admin.display(description=_("by"))
    def by(self, obj):
        return str(Actor(user=obj.created_by, api_key=obj.api_key))


class StockDocumentLineInline(ReadOnlyInline):
    model = StockDocumentLine
    fields = ["product", "quantity", "on_hand_before", "on_hand_delta"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("product")

    def has_view_permission(self, request, obj=None):
        # The lines are part of the document: whoever may see it sees them.
        return request.user.has_perm("inventory.view_stockdocument")


@admin.register(StockDocument)
class StockDocumentAdmin(ReadOnlyAdminMixin, LocationScopedAdminMixin, admin.ModelAdmin):
    location_lookups = ("location",)
    list_display = ["number", "kind", "location", "created_at", "by", "note"]
    list_filter = ["kind", ("location", UserLocationFilter)]
    list_select_related = ["location", "created_by", "api_key"]
    date_hierarchy = "created_at"
    search_fields = ["number"]
    fields = ["kind", "number", "location", "note", "created_by", "api_key", "created_at"]
    readonly_fields = fields
    inlines = [StockDocumentLineInline]

    @admin.display(description=_("by"))
    def by(self, obj):
        return str(Actor(user=obj.created_by, api_key=obj.api_key))
