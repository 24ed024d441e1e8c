"""django-import-export Resources for the exports of the reports: orders with their lines, returns
with their lines, and any report table. Export only: nothing is imported through them.

The lists the other apps already export (customers, stock levels, the stock ledger, the points
ledger) use those apps' own Resources (``omni.reports.exports.kinds``).
"""

import datetime

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from import_export import resources, widgets
from import_export.fields import Field

from orders.models import OrderLine, ReturnLine


class PlainNumberWidget(widgets.Widget):
    """Numbers as machine-readable text (``1234.50``) whatever the language: the library's number
    widgets format them for the locale (``1 234,50`` in Russian) and cost half of an export's time.
    A file that keeps numbers as numbers (XLSX) gets the number itself."""

    def render(self, value, obj=None, **kwargs):
        if kwargs.get("force_native_type"):
            return value
        return "" if value is None else str(value)


class OrderLineExportResource(resources.ModelResource):
    """One row per order line, with the order's figures repeated on each of its lines. A line shows
    what was kept (``line_total``) and apart what was refused, so the lines sum to ``order_total``."""

    order = Field(attribute="order__number", column_name="order")
    created_at = Field(attribute="order__created_at", column_name="created_at", widget=widgets.DateTimeWidget())
    completed_at = Field(attribute="order__completed_at", column_name="completed_at", widget=widgets.DateTimeWidget())
    channel = Field(attribute="order__channel", column_name="channel")
    fulfilment = Field(attribute="order__fulfilment", column_name="fulfilment")
    status = Field(attribute="order__status", column_name="status")
    store = Field(attribute="order__location__code", column_name="store")
    customer_id = Field(attribute="order__customer_id", column_name="customer_id")
    order_total = Field(attribute="order__total", column_name="order_total", widget=PlainNumberWidget())
    order_paid = Field(attribute="order__paid", column_name="order_paid", widget=PlainNumberWidget())
    order_refunded = Field(attribute="order__refunded", column_name="order_refunded", widget=PlainNumberWidget())
    sku = Field(attribute="sku", column_name="sku")
    name = Field(attribute="name", column_name="name")
    unit_price = Field(attribute="unit_price", column_name="unit_price", widget=PlainNumberWidget())
    quantity = Field(attribute="quantity", column_name="quantity", widget=PlainNumberWidget())
    refused = Field(attribute="refused_quantity", column_name="refused", widget=PlainNumberWidget())
    refused_total = Field(attribute="refused_total", column_name="refused_total", widget=PlainNumberWidget())
    returned = Field(attribute="returned_quantity", column_name="returned", widget=PlainNumberWidget())
    discount = Field(attribute="discount", column_name="discount", widget=PlainNumberWidget())
    points_value = Field(attribute="points_value", column_name="points_value", widget=PlainNumberWidget())
    total = Field(attribute="total", column_name="line_total", widget=PlainNumberWidget())

    class Meta:
        model = OrderLine
        name = _("Orders with their lines")
        fields = (
            "order",
            "created_at",
            "completed_at",
            "channel",
            "fulfilment",
            "status",
            "store",
            "customer_id",
            "order_total",
            "order_paid",
            "order_refunded",
            "sku",
            "name",
            "unit_price",
            "quantity",
            "refused",
            "refused_total",
            "returned",
            "discount",
            "points_value",
            "total",
        )
        export_order = fields

    def filter_export(self, queryset, **kwargs):
        return queryset.select_related("order", "order__location")


class ReturnLineExportResource(resources.ModelResource):
    """One row per returned line, with its return and order."""

    number = Field(attribute="order_return__number", column_name="return")
    at = Field(attribute="order_return__created_at", column_name="at", widget=widgets.DateTimeWidget())
    order = Field(attribute="order_return__order__number", column_name="order")
    order_channel = Field(attribute="order_return__order__channel", column_name="order_channel")
    order_store = Field(attribute="order_return__order__location__code", column_name="order_store")
    received_at = Field(attribute="order_return__location__code", column_name="received_at")
    reason = Field(attribute="order_return__reason", column_name="reason")
    refund_method = Field(attribute="order_return__refund_method", column_name="refund_method")
    sku = Field(attribute="order_line__sku", column_name="sku")
    quantity = Field(attribute="quantity", column_name="quantity", widget=PlainNumberWidget())
    condition = Field(attribute="condition", column_name="condition")
    amount = Field(attribute="amount", column_name="amount", widget=PlainNumberWidget())
    paid_amount = Field(attribute="paid_amount", column_name="paid_amount", widget=PlainNumberWidget())

    class Meta:
        model = ReturnLine
        name = _("Returns with their lines")
        fields = (
            "number",
            "at",
            "order",
            "order_channel",
            "order_store",
            "received_at",
            "reason",
            "refund_method",
            "sku",
            "quantity",
            "condition",
            "amount",
            "paid_amount",
        )
        export_order = fields

    def filter_export(self, queryset, **kwargs):
        return queryset.select_related(
            "order_return",
            "order_return__order",
            "order_return__order__location",
            "order_return__location",
            "order_line",
        )


class ReportTableResource(resources.Resource):
    """A report table (``omni.reports.figures.Table``): its columns are the fields (the column's
    key is its machine name, its label the name for people), its rows dicts."""

    def __init__(self, table, **kwargs):
        super().__init__()
        self.table = table
        self.fields = {column.key: Field(attribute=column.key, column_name=column.key) for column in table.columns}
        self.people_names = {column.key: column.label for column in table.columns}

    def get_export_fields(self, selected_fields=None):
        return list(self.fields.values())

    def get_export_headers(self, selected_fields=None):
        return [field.column_name for field in self.get_export_fields()]

    def export_field(self, field, instance, **kwargs):
        value = instance.get(field.attribute)
        if kwargs.get("force_native_type"):
            return value
        if value is None:
            return ""
        if isinstance(value, datetime.datetime):
            return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S")
        return value.isoformat() if isinstance(value, datetime.date) else str(value)

    def filter_export(self, queryset, **kwargs):
        return queryset
