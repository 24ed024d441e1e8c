"""Query-string filters of the loyalty API lists."""

from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters

from loyalty.models import EntryKind, PointsEntry
from omni.core import dates


class EntryFilter(filters.FilterSet):
    kind = filters.MultipleChoiceFilter(choices=EntryKind.choices, help_text=_("Only entries of these kinds."))
    created_after = dates.IsoDateTimeFilter(
        field_name="created_at", lookup_expr="gte", help_text=_("Entries made at or after this time (ISO 8601).")
    )
    created_before = dates.IsoDateTimeFilter(
        field_name="created_at", lookup_expr="lt", help_text=_("Entries made before this time (ISO 8601).")
    )
    cause_id = filters.CharFilter(help_text=_("Entries caused by this reference, for example an order's."))

    class Meta:
        model = PointsEntry
        fields = []
