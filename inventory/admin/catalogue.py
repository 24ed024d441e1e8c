"""The catalogue and the places: categories, products with their barcodes and stock, locations,
employees and the locations they work at."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportMixin

from inventory.admin.mixins import ServiceImportAdminMixin
from inventory.models import Barcode, Category, Employee, Location, Product, Stock
from inventory.resources import ProductResource
from inventory.selectors import filter_for_user_locations
from omni.core.actors import Actor
from omni.core.admin_mixins import AuditedSaveAdminMixin, ChangeHistoryAdminMixin, ReadOnlyInline


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "parent", "category_path", "is_active"]
    list_filter = ["is_active"]
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
    search_fields = ["sku", "name", "=barcodes__code", "=external_id"]
    search_help_text = _("Search by SKU or name, or by the exact barcode or ERP id.")
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
