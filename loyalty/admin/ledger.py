"""The points ledger and the points of each order, with their returns: read-only."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from loyalty.models import OrderPoints, OrderPointsReturn, PointsEntry
from omni.core.admin_mixins import ReadOnlyAdminMixin, ReadOnlyInline


@admin.register(PointsEntry)
class PointsEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "created_at",
        "account",
        "kind",
        "bonus_type",
        "points",
        "remaining",
        "spendable_from",
        "expires_at",
        "cause_type",
        "cause_id",
        "channel",
        "store",
        "created_by",
        "note",
    ]
    list_filter = ["kind", "bonus_type", "channel", "store"]
    list_select_related = ["account__customer", "store", "created_by"]
    search_fields = ["=cause_id", "=account__cards__number"]
    search_help_text = _("Search by the exact reference of an order or a return, or a card number.")
    date_hierarchy = "created_at"


class OrderReturnInline(ReadOnlyInline):
    model = OrderPointsReturn
    fields = [
        "created_at",
        "reference",
        "amount",
        "points_cancelled",
        "points_taken_back",
        "shortfall_points",
        "shortfall_value",
        "points_given_back",
    ]
    readonly_fields = fields


@admin.register(OrderPoints)
class OrderPointsAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "reference",
        "account",
        "channel",
        "store",
        "order_total",
        "points_redeemed",
        "points_earned",
        "completed_at",
    ]
    list_filter = ["channel", "store"]
    list_select_related = ["account__customer", "store"]
    search_fields = ["=reference"]
    inlines = [OrderReturnInline]
