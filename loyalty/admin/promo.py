"""Promo codes and their uses (exported to CSV or XLSX)."""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from import_export.admin import ExportMixin
from import_export.formats.base_formats import CSV, XLSX

from loyalty.models import PromoCode, PromoKind, PromoUsage
from loyalty.resources import PromoUsageResource
from omni.core.admin_mixins import ReadOnlyAdminMixin, ReadOnlyInline
from omni.core.channels import Channel
from omni.core.validators import validate_identifier


class PromoCodeForm(forms.ModelForm):
    channels = forms.MultipleChoiceField(
        label=_("channels"),
        choices=Channel.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Where the code is valid; none ticked: everywhere."),
    )

    class Meta:
        model = PromoCode
        fields = [
            "code",
            "description",
            "kind",
            "value",
            "valid_from",
            "valid_until",
            "max_uses",
            "max_uses_per_customer",
            "min_order_total",
            "channels",
            "segments",
            "is_active",
        ]

    def clean_code(self):
        code = self.cleaned_data["code"].strip().upper()
        validate_identifier(code)
        return code

    def clean(self):
        data = super().clean()
        value = data.get("value")
        if data.get("kind") == PromoKind.POINTS and value is not None and value != int(value):
            self.add_error("value", _("Extra points are a whole number."))
        return data


class PromoUsageInline(ReadOnlyInline):
    model = PromoUsage
    fields = ["created_at", "reference", "customer", "channel", "order_total", "discount", "points", "status"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("customer")


@admin.register(PromoUsage)
class PromoUsageAdmin(ReadOnlyAdminMixin, ExportMixin, admin.ModelAdmin):
    list_display = [
        "created_at",
        "promo",
        "reference",
        "customer",
        "channel",
        "order_total",
        "discount",
        "points",
        "status",
    ]
    list_filter = ["status", "channel", "promo"]
    list_select_related = ["promo", "customer"]
    search_fields = ["=reference", "=promo__code"]
    date_hierarchy = "created_at"
    resource_classes = [PromoUsageResource]
    export_formats = [CSV, XLSX]

    def has_export_permission(self, request):
        return self.has_view_permission(request)


@admin.register(PromoCode)
class PromoCodeAdmin(admin.ModelAdmin):
    form = PromoCodeForm
    list_display = ["code", "kind", "value", "valid_from", "valid_until", "uses", "min_order_total", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["code", "description"]
    filter_horizontal = ["segments"]
    readonly_fields = ["used_count"]
    inlines = [PromoUsageInline]

    def has_delete_permission(self, request, obj=None):
        return False  # switch a code off instead: its uses keep pointing at it

    @admin.display(description=_("used"), ordering="used_count")
    def uses(self, obj):
        if obj.max_uses is None:
            return str(obj.used_count)
        return f"{obj.used_count} / {obj.max_uses}"
