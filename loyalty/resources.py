"""Exports of the points ledger and of promo code uses, with django-import-export.

Nothing is imported: points change only through ``loyalty.services``.
"""

from django.utils.translation import gettext_lazy as _
from import_export import resources, widgets
from import_export.fields import Field

from loyalty.models import PointsEntry, PromoUsage
from omni.core.actors import Actor


class PointsEntryResource(resources.ModelResource):
    at = Field(attribute="created_at", column_name="at", widget=widgets.DateTimeWidget())
    customer_id = Field(attribute="account__customer_id", column_name="customer_id")
    kind = Field(attribute="kind", column_name="kind")
    bonus_type = Field(attribute="bonus_type", column_name="bonus_type")
    points = Field(attribute="points", column_name="points", widget=widgets.IntegerWidget())
    remaining = Field(attribute="remaining", column_name="remaining", widget=widgets.IntegerWidget())
    spendable_from = Field(attribute="spendable_from", column_name="spendable_from", widget=widgets.DateTimeWidget())
    expires_at = Field(attribute="expires_at", column_name="expires_at", widget=widgets.DateTimeWidget())
    cause_type = Field(attribute="cause_type", column_name="cause_type")
    cause_id = Field(attribute="cause_id", column_name="cause_id")
    amount = Field(attribute="amount", column_name="amount", widget=widgets.DecimalWidget())
    channel = Field(attribute="channel", column_name="channel")
    store = Field(attribute="store__code", column_name="store")
    note = Field(attribute="note", column_name="reason")
    by = Field(column_name="by", dehydrate_method="dehydrate_by")

    class Meta:
        model = PointsEntry
        name = _("Points ledger")
        fields = (
            "at",
            "customer_id",
            "kind",
            "bonus_type",
            "points",
            "remaining",
            "spendable_from",
            "expires_at",
            "cause_type",
            "cause_id",
            "amount",
            "channel",
            "store",
            "note",
            "by",
        )
        export_order = fields

    def filter_export(self, queryset, **kwargs):
        return super().filter_export(queryset, **kwargs).select_related("account", "store", "created_by", "api_key")

    def dehydrate_by(self, entry: PointsEntry) -> str:
        return str(Actor(user=entry.created_by, api_key=entry.api_key))


class PromoUsageResource(resources.ModelResource):
    at = Field(attribute="created_at", column_name="at", widget=widgets.DateTimeWidget())
    code = Field(attribute="promo__code", column_name="code")
    order = Field(attribute="reference", column_name="order")
    customer_id = Field(attribute="customer_id", column_name="customer_id")
    channel = Field(attribute="channel", column_name="channel")
    order_total = Field(attribute="order_total", column_name="order_total", widget=widgets.DecimalWidget())
    discount = Field(attribute="discount", column_name="discount", widget=widgets.DecimalWidget())
    points = Field(attribute="points", column_name="points", widget=widgets.IntegerWidget())
    status = Field(attribute="status", column_name="status")

    class Meta:
        model = PromoUsage
        name = _("Promo code uses")
        fields = ("at", "code", "order", "customer_id", "channel", "order_total", "discount", "points", "status")
        export_order = fields

    def filter_export(self, queryset, **kwargs):
        return super().filter_export(queryset, **kwargs).select_related("promo")
