"""Product models (styles) with their variants, the attributes variants carry, and the import and
export of the catalogue with variants (``inventory.catalogue_resources``)."""

from django.contrib import admin
from django.db import models
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportMixin

from inventory.admin.commerceml import CommerceMLImportMixin
from inventory.admin.mixins import ServiceImportAdminMixin
from inventory.catalogue_resources import CatalogueResource
from inventory.models import Attribute, Product, ProductImage, ProductModel
from omni.core.actors import Actor
from omni.core.admin_mixins import AuditedSaveAdminMixin, ReadOnlyInline


class VariantInline(ReadOnlyInline):
    model = Product
    verbose_name = _("variant")
    verbose_name_plural = _("variants")
    fields = ["sku", "name", "price", "is_active"]
    readonly_fields = fields
    show_change_link = True


class ModelImageInline(admin.TabularInline):
    model = ProductImage
    fk_name = "model"
    fields = ["position", "url", "alt"]
    extra = 0
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


@admin.register(ProductModel)
class ProductModelAdmin(
    AuditedSaveAdminMixin, CommerceMLImportMixin, ServiceImportAdminMixin, ImportExportMixin, admin.ModelAdmin
):
    import_export_change_list_template = "admin/inventory/productmodel/change_list.html"
    list_display = ["code", "name", "category", "is_active"]
    list_filter = ["category", "is_active"]
    list_select_related = ["category"]
    search_fields = ["code", "name", "=variants__sku"]
    inlines = [VariantInline, ModelImageInline]
    resource_classes = [CatalogueResource]

    def has_import_permission(self, request):
        return request.user.has_perms(["inventory.add_product", "inventory.change_product"])

    def get_import_resource_kwargs(self, request, **kwargs):
        return {"actor": Actor(user=request.user)}

    def get_export_resource_kwargs(self, request, **kwargs):
        return {}

    def get_export_queryset(self, request):
        return Product.objects.order_by("model__code", "sku")


@admin.register(Attribute)
class AttributeAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "type"]
    list_filter = ["type"]
    search_fields = ["code", "name"]
