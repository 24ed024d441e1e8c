"""The inventory in the Django admin, for store staff and head office.

Every screen here is thin: it parses the input, checks the permission and the user's locations,
calls one service of ``inventory.services`` and shows its result. Stock figures (on hand,
reserved) are never edited here, so the ledger stays complete.

Store staff and store managers see only the rows of the locations they work at
(``LocationScopedAdminMixin``); head office sees every location.
"""

from dataclasses import dataclass
from functools import partial

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core import checks
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.translation import gettext, ngettext, ngettext_lazy
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportMixin, ImportMixin
from import_export.formats.base_formats import CSV, XLSX

from inventory.forms import (
    StockConfirmImportForm,
    StockDocumentForm,
    StockImportForm,
    TransferCreateForm,
    TransferReceiveForm,
    domain_error_messages,
    message_domain_error,
    stock_import_modes,
)
from inventory.models import (
    Barcode,
    Category,
    Employee,
    Location,
    Product,
    Stock,
    StockDocument,
    StockDocumentKind,
    StockDocumentLine,
    StockMovement,
    Transfer,
    TransferLine,
    TransferStatus,
)
from inventory.resources import (
    ProductResource,
    SpreadsheetCSV,
    StockImportResource,
    import_error_messages,
)
from inventory.selectors import (
    filter_for_user_locations,
    locations_for_user,
    stock_levels,
    visible_locations,
)
from inventory.services import (
    stock_count,
    stock_receive,
    stock_set_minimum,
    stock_write_off,
    transfer_cancel,
    transfer_create,
    transfer_receive,
    transfer_ship,
)
from omni.core.actors import Actor
from omni.core.admin_mixins import (
    AuditedSaveAdminMixin,
    ChangeHistoryAdminMixin,
    ReadOnlyAdminMixin,
    ReadOnlyInline,
    render_form_page,
)
from omni.core.errors import DomainError

# --- Shared pieces (orders, returns and cases reuse them) --------------------------------


class UserLocationFilter(admin.RelatedFieldListFilter):
    """A filter on a location field that offers only the locations the user works at."""

    def field_choices(self, field, request, model_admin):
        ordering = self.field_admin_ordering(field, request, model_admin)
        return field.get_choices(
            include_blank=False,
            limit_choices_to={"pk__in": locations_for_user(request.user)},
            ordering=ordering,
        )


class LocationScopedAdminMixin:
    """Limit an admin to the locations the user works at (``locations_for_user``).

    ``location_lookups`` names the paths from the model to a location: ``("location",)`` for
    stock, ``("source", "destination")`` for transfers. A row is visible when any of them is
    one of the user's locations, so another location's change page answers "does not exist".
    Head office and superusers see every row. Foreign keys to ``Location`` offer only the
    user's locations; use ``UserLocationFilter`` for location list filters.
    """

    location_lookups: tuple[str, ...] = ()

    def check(self, **kwargs):
        errors = super().check(**kwargs)
        if not self.location_lookups:
            errors.append(
                checks.Error(
                    "location_lookups must name at least one path to a location.",
                    obj=self.__class__,
                    id="inventory.E001",
                )
            )
        return errors

    def get_queryset(self, request):
        return filter_for_user_locations(super().get_queryset(request), request.user, self.location_lookups)

    def user_locations(self, request):
        return locations_for_user(request.user)

    def user_location_ids(self, request) -> frozenset[int] | None:
        """The ids of the user's locations, or None when the user works with every location."""
        return visible_locations(request.user).ids

    def works_at(self, request, location_id: int) -> bool:
        return visible_locations(request.user).includes(location_id)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model is Location and "queryset" not in kwargs:
            kwargs["queryset"] = self.user_locations(request)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.related_model is Location and "queryset" not in kwargs:
            kwargs["queryset"] = self.user_locations(request)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class ServiceImportAdminMixin:
    """django-import-export screens whose imports are all or nothing (``inventory.resources``).

    The library's confirm step reports "Import finished" whatever the result; here a result with
    any error shows each error and "Nothing was imported" instead.
    """

    import_formats = [SpreadsheetCSV, XLSX]
    export_formats = [CSV, XLSX]
    import_template_name = "admin/inventory/import.html"

    def has_export_permission(self, request):
        return self.has_view_permission(request)

    def process_result(self, result, request):
        if result.has_errors() or result.has_validation_errors():
            for text in import_error_messages(result):
                self.message_user(request, text, messages.ERROR)
            self.message_user(request, gettext("Nothing was imported."), messages.ERROR)
            return redirect(f"admin:{self.opts.app_label}_{self.opts.model_name}_import")
        return super().process_result(result, request)


# --- Catalogue and locations ------------------------------------------------------------


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "parent", "category_path"]
    search_fields = ["name", "code"]
    list_select_related = ["parent__parent__parent"]
    autocomplete_fields = ["parent"]

    @admin.display(description=_("path"))
    def category_path(self, obj):
        return obj.path


class BarcodeInline(admin.TabularInline):
    """Editable by those who may change barcodes (head office); read-only for store staff."""

    model = Barcode
    extra = 0
    fields = ["code"]


class ProductStockInline(ReadOnlyInline):
    model = Stock
    verbose_name = _("stock level")
    verbose_name_plural = _("stock at your locations")
    fields = ["location", "on_hand", "reserved", "available"]
    readonly_fields = fields

    def get_queryset(self, request):
        rows = super().get_queryset(request).select_related("location")
        return filter_for_user_locations(rows, request.user, ["location"])

    @admin.display(description=_("available"))
    def available(self, obj):
        return obj.available


@admin.register(Product)
class ProductAdmin(
    ChangeHistoryAdminMixin, AuditedSaveAdminMixin, ServiceImportAdminMixin, ImportExportMixin, admin.ModelAdmin
):
    list_display = ["sku", "name", "category", "price", "unit", "is_active"]
    list_filter = ["category", "is_active"]
    list_select_related = ["category"]
    search_fields = ["sku", "name", "=barcodes__code"]
    search_help_text = _("Search by SKU or name, or by the exact barcode.")
    inlines = [BarcodeInline, ProductStockInline]
    resource_classes = [ProductResource]

    def has_import_permission(self, request):
        return request.user.has_perms(["inventory.add_product", "inventory.change_product"])

    def get_import_resource_kwargs(self, request, **kwargs):
        return {"actor": Actor(user=request.user)}

    def get_export_resource_kwargs(self, request, **kwargs):
        return {}


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name",
        "kind",
        "city",
        "is_pickup_point",
        "accepts_returns",
        "ships_orders",
        "is_active",
    ]
    list_filter = ["kind", "city", "is_pickup_point", "accepts_returns", "ships_orders", "is_active"]
    search_fields = ["code", "name", "city"]


@admin.register(Employee)
class EmployeeAdmin(admin.ModelAdmin):
    list_display = ["user", "location_list"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "user__email"]
    list_select_related = ["user"]
    autocomplete_fields = ["user"]
    filter_horizontal = ["locations"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("locations")

    @admin.display(description=_("locations"))
    def location_list(self, obj):
        return ", ".join(location.code for location in obj.locations.all())


# --- Stock levels -----------------------------------------------------------------------


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
        intro=_("What was counted: stock on hand is set to these quantities."),
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
class StockAdmin(LocationScopedAdminMixin, ServiceImportAdminMixin, ImportMixin, admin.ModelAdmin):
    """Stock levels. Only the minimum quantity is edited here; figures change through documents."""

    location_lookups = ("location",)
    list_display = [
        "product_sku",
        "product_name",
        "location",
        "on_hand",
        "reserved",
        "available",
        "min_quantity",
        "low_stock",
    ]
    list_display_links = ["product_sku"]
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
        return stock_levels(super().get_queryset(request))

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("SKU"), ordering="product__sku")
    def product_sku(self, obj):
        return obj.product.sku

    @admin.display(description=_("product"), ordering="product__name")
    def product_name(self, obj):
        return obj.product.name

    @admin.display(description=_("available"), ordering="available_qty")
    def available(self, obj):
        return obj.available

    @admin.display(description=_("low stock"), boolean=True, ordering="is_low")
    def low_stock(self, obj):
        return obj.is_low  # annotated by stock_levels (inventory.selectors.LOW_STOCK)

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


# --- Transfers --------------------------------------------------------------------------


class TransferLineInline(ReadOnlyInline):
    model = TransferLine
    fields = ["product", "quantity", "received_quantity", "discrepancy"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("product")

    @admin.display(description=_("not arrived"))
    def discrepancy(self, obj):
        return obj.discrepancy


@admin.register(Transfer)
class TransferAdmin(LocationScopedAdminMixin, admin.ModelAdmin):
    """Transfers are created, shipped, received and cancelled only through their services."""

    location_lookups = ("source", "destination")
    list_display = [
        "number",
        "source",
        "destination",
        "status",
        "created_at",
        "shipped_at",
        "received_at",
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
        "discrepancy_summary",
    ]
    readonly_fields = fields
    inlines = [TransferLineInline]
    actions = ["ship_selected", "receive_selected", "cancel_selected"]
    change_form_template = "admin/inventory/transfer/change_form.html"

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("source", "destination")
            .prefetch_related(Prefetch("lines", queryset=TransferLine.objects.select_related("product")))
        )

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
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                transfer = transfer_create(
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
                    request,
                    gettext("Transfer %(number)s is requested; its goods are reserved at %(source)s.")
                    % {"number": transfer.number, "source": transfer.source},
                    messages.SUCCESS,
                )
                return redirect("admin:inventory_transfer_change", transfer.pk)
        return render_form_page(
            self,
            request,
            form=form,
            title=gettext("Request a transfer"),
            submit_label=gettext("Request the transfer"),
            intro=gettext("The goods are reserved at the source until the transfer is shipped or cancelled."),
        )

    # --- Shipping, receiving and cancelling

    @admin.action(description=_("Ship selected transfers"), permissions=["ship"])
    def ship_selected(self, request, queryset):
        self.run_on_transfers(
            request,
            queryset,
            service=transfer_ship,
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
        urls = [
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
        lines = list(transfer.lines.all())
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
        return super().change_view(request, object_id, form_url, extra_context)
