"""Segments: their conditions checked as they are typed, their members listed and exported."""

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from import_export.formats.base_formats import CSV, XLSX

from customers import segments, selectors
from customers.models import Segment, SegmentCondition
from customers.resources import CustomerResource
from omni.core.errors import DomainError


class SegmentConditionForm(forms.ModelForm):
    condition = forms.ChoiceField(label=_("condition"), choices=())

    class Meta:
        model = SegmentCondition
        fields = ["condition", "value", "date_from", "date_to"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["condition"].choices = [("", "—"), *segments.condition_choices()]
        hints = [f"{kind.label}: {kind.help_text}" for kind in segments.condition_types().values() if kind.help_text]
        self.fields["value"].help_text = "; ".join(str(hint) for hint in hints)

    def clean(self):
        data = super().clean()
        if data.get("condition"):
            try:
                segments.validate_condition(
                    data["condition"], data.get("value", ""), data.get("date_from"), data.get("date_to")
                )
            except DomainError as exc:
                field = exc.details.get("field")
                self.add_error(field if field in self.fields else None, exc.message)
        return data


class SegmentConditionInline(admin.TabularInline):
    model = SegmentCondition
    form = SegmentConditionForm
    extra = 1


@admin.register(Segment)
class SegmentAdmin(admin.ModelAdmin):
    list_display = ["name", "member_count", "members_link", "updated_at"]
    search_fields = ["name"]
    inlines = [SegmentConditionInline]
    readonly_fields = ["member_count", "members_link"]
    fields = ["name", "description", "member_count", "members_link"]

    @admin.display(description=_("members now"))
    def member_count(self, obj):
        if obj.pk is None:
            return "—"
        try:
            return segments.segment_members(obj).count()
        except DomainError as exc:
            return exc.message

    @admin.display(description=_("members"))
    def members_link(self, obj):
        if obj.pk is None:
            return "—"
        members = reverse("admin:customers_customer_changelist") + f"?segment={obj.pk}"
        return format_html(
            '<a href="{}">{}</a> · <a href="{}">CSV</a> · <a href="{}">XLSX</a>',
            members,
            gettext("List"),
            reverse("admin:customers_segment_export", args=[obj.pk, "csv"]),
            reverse("admin:customers_segment_export", args=[obj.pk, "xlsx"]),
        )

    def get_urls(self):
        export = path(
            "<int:pk>/export/<str:fmt>/",
            self.admin_site.admin_view(self.export_view),
            name="customers_segment_export",
        )
        return [export, *super().get_urls()]

    def export_view(self, request, pk: int, fmt: str):
        if not self.has_view_permission(request):
            raise PermissionDenied
        formats = {"csv": CSV(), "xlsx": XLSX()}
        if fmt not in formats:
            raise PermissionDenied
        segment = get_object_or_404(Segment, pk=pk)
        members = selectors.customers_with_identities(segments.segment_members(segment))
        dataset = CustomerResource().export(queryset=members)
        file_format = formats[fmt]
        response = HttpResponse(file_format.export_data(dataset), content_type=file_format.get_content_type())
        stamp = timezone.localdate().isoformat()
        response["Content-Disposition"] = f'attachment; filename="segment-{segment.pk}-{stamp}.{fmt}"'
        return response
