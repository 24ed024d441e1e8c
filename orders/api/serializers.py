"""Shapes of the orders API. They validate form only; the rules live in ``orders.services``.

Input serializers refuse any field they do not know, and say so plainly for the figures the server
computes (prices, discounts, totals): a client never sets them.
"""

import copy
from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from omni.core.api import serializers as omni_serializers
from omni.core.api.serializers import ModelSerializer, WholeNumberField, represent
from omni.core.channels import SALES_CHANNEL_CHOICES
from orders import states
from orders.models import (
    Fulfilment,
    Order,
    OrderLine,
    OrderReturn,
    Payment,
    PaymentMethod,
    Refund,
    RefundMethod,
    ReturnCondition,
    ReturnLine,
    StatusChange,
)
from orders.services import MAX_LINES, MAX_QUANTITY, PREPAYMENT_METHODS, order_as_written

COMPUTED_FIELDS = frozenset(
    {
        "price",
        "unit_price",
        "subtotal",
        "discount",
        "amount",
        "total",
        "line_total",
        "points_value",
        "paid",
        "refunded",
        "due",
        "status",
        "number",
        "refund_amount",
        "paid_amount",
        "points_earned",
    }
)
MAX_ID = 2**63 - 1
MAX_POINTS = 2**31 - 1
CLIENT_METHODS = [(value, label) for value, label in PaymentMethod.choices if value != PaymentMethod.POINTS]


class StrictInputSerializer(omni_serializers.StrictInputSerializer):
    """Refuses unknown fields rather than dropping them; computed figures are named as such."""

    def unknown_field_message(self, name: str) -> str:
        if name in COMPUTED_FIELDS:
            return _("This figure is computed by the server; do not send it.")
        return super().unknown_field_message(name)


# --- Input ------------------------------------------------------------------------------


class LineInputSerializer(StrictInputSerializer):
    sku = serializers.CharField(max_length=64)
    quantity = WholeNumberField(min_value=1, max_value=MAX_QUANTITY)


class PaymentInputSerializer(StrictInputSerializer):
    method = serializers.ChoiceField(CLIENT_METHODS)
    amount = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.01"),
        required=False,
        help_text=_("Only to split a payment between methods; omitted, it is what is left to pay."),
    )
    transaction_id = serializers.CharField(max_length=100, required=False, default="", allow_blank=True)
    terminal = serializers.CharField(max_length=64, required=False, default="", allow_blank=True)
    acquiring_bank = serializers.CharField(max_length=100, required=False, default="", allow_blank=True)


class OrderInputSerializer(StrictInputSerializer):
    channel = serializers.ChoiceField(SALES_CHANNEL_CHOICES)
    fulfilment = serializers.ChoiceField(Fulfilment.choices)
    customer = WholeNumberField(
        min_value=1,
        max_value=MAX_ID,
        required=False,
        allow_null=True,
        help_text=_("Required except for an anonymous sale in a store."),
    )
    pickup_location = serializers.CharField(
        max_length=32, required=False, default="", allow_blank=True, help_text=_("Click-and-collect: the store's code.")
    )
    location = serializers.CharField(
        max_length=32, required=False, default="", allow_blank=True, help_text=_("A sale in a store: the store's code.")
    )
    delivery_address = serializers.CharField(max_length=1000, required=False, default="", allow_blank=True)
    contact_name = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    contact_phone = serializers.CharField(max_length=32, required=False, default="", allow_blank=True)
    lines = LineInputSerializer(many=True, allow_empty=False, max_length=MAX_LINES)
    promo_code = serializers.CharField(max_length=32, required=False, default="", allow_blank=True)
    points = WholeNumberField(
        min_value=0, max_value=MAX_POINTS, required=False, default=0, help_text=_("Points to spend on the order.")
    )
    otp_code = serializers.CharField(
        max_length=12,
        required=False,
        default="",
        allow_blank=True,
        help_text=_("The one-time code sent to the customer, where the programme asks for it."),
    )
    payments = PaymentInputSerializer(many=True, required=False, default=list)
    note = serializers.CharField(max_length=255, required=False, default="", allow_blank=True)


class PaymentRecordInputSerializer(StrictInputSerializer):
    method = serializers.ChoiceField(
        [(value, PaymentMethod(value).label) for value in PREPAYMENT_METHODS],
        help_text=_("How the customer paid: online by card or through SBP."),
    )
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0.01"))
    transaction_id = serializers.CharField(
        max_length=100,
        required=False,
        default="",
        allow_blank=True,
        help_text=_("The gateway's or the bank's id: a payment is recorded once per order and transaction id."),
    )
    terminal = serializers.CharField(max_length=64, required=False, default="", allow_blank=True)
    acquiring_bank = serializers.CharField(max_length=100, required=False, default="", allow_blank=True)


class RefundCompleteInputSerializer(StrictInputSerializer):
    transaction_id = serializers.CharField(
        max_length=100, required=False, default="", allow_blank=True, help_text=_("The bank's id of the refund.")
    )


class CancelInputSerializer(StrictInputSerializer):
    reason = serializers.CharField(max_length=255, required=False, default="", allow_blank=True)


class EmptyInputSerializer(StrictInputSerializer):
    pass


class HandoverInputSerializer(StrictInputSerializer):
    refused = LineInputSerializer(
        many=True, required=False, default=list, help_text=_("Lines or units the customer does not take.")
    )
    payments = PaymentInputSerializer(
        many=True, required=False, default=list, help_text=_("How what is left to pay was paid.")
    )


class ReturnLineInputSerializer(StrictInputSerializer):
    sku = serializers.CharField(max_length=64)
    quantity = WholeNumberField(min_value=1, max_value=MAX_QUANTITY)
    condition = serializers.ChoiceField(ReturnCondition.choices)


class ReturnInputSerializer(StrictInputSerializer):
    order = serializers.CharField(max_length=32, help_text=_("The order's number."))
    location = serializers.CharField(max_length=32, help_text=_("The code of the location taking the goods back."))
    reason = serializers.CharField(max_length=255)
    refund_method = serializers.ChoiceField(RefundMethod.choices, required=False, default=RefundMethod.ORIGINAL)
    lines = ReturnLineInputSerializer(many=True, allow_empty=False, max_length=MAX_LINES)


# --- Output -----------------------------------------------------------------------------


class OrderLineSerializer(ModelSerializer):
    class Meta:
        model = OrderLine
        fields = [
            "sku",
            "name",
            "unit_price",
            "quantity",
            "subtotal",
            "discount",
            "amount",
            "points",
            "points_value",
            "total",
            "refused_quantity",
            "refused_subtotal",
            "refused_discount",
            "refused_points",
            "refused_points_value",
            "refused_total",
            "returned_quantity",
        ]


class PaymentSerializer(ModelSerializer):
    class Meta:
        model = Payment
        fields = [
            "method",
            "amount",
            "refunded",
            "status",
            "transaction_id",
            "terminal",
            "acquiring_bank",
            "created_at",
        ]


class StatusChangeSerializer(ModelSerializer):
    class Meta:
        model = StatusChange
        fields = ["status_from", "status_to", "note", "created_at"]


class RefundSerializer(ModelSerializer):
    order_return = serializers.SlugRelatedField(slug_field="number", read_only=True, allow_null=True)

    class Meta:
        model = Refund
        fields = [
            "id",
            "method",
            "amount",
            "points",
            "status",
            "order_return",
            "transaction_id",
            "created_at",
            "completed_at",
        ]


class RefundDetailSerializer(RefundSerializer):
    order = serializers.SlugRelatedField(slug_field="number", read_only=True)
    currency = serializers.SerializerMethodField()

    class Meta(RefundSerializer.Meta):
        fields = ["id", "order", "currency", *RefundSerializer.Meta.fields[1:]]

    def get_currency(self, obj) -> str:
        return settings.OMNI_CURRENCY


# The actions a client can take (the others are the system's).
PUBLIC_ACTIONS = {
    states.Action.READY,
    states.Action.ACCEPT_PARTIAL,
    states.Action.PACK,
    states.Action.SHIP,
    states.Action.HAND_OVER,
    states.Action.CANCEL,
}


class OrderSerializer(ModelSerializer):
    location = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    customer = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    currency = serializers.SerializerMethodField()
    due = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)
    lines = OrderLineSerializer(many=True, read_only=True)
    payments = PaymentSerializer(many=True, read_only=True)
    allowed_actions = serializers.SerializerMethodField()

    class Meta:
        model = Order
        fields = [
            "number",
            "channel",
            "fulfilment",
            "status",
            "customer",
            "location",
            "delivery_address",
            "contact_name",
            "contact_phone",
            "promo_code",
            "currency",
            "subtotal",
            "discount",
            "points_redeemed",
            "points_value",
            "total",
            "paid",
            "refunded",
            "due",
            "points_earned",
            "lines",
            "payments",
            "allowed_actions",
            "created_at",
            "ready_at",
            "pickup_until",
            "packed_at",
            "shipped_at",
            "completed_at",
            "cancelled_at",
            "expired_at",
        ]

    def get_currency(self, obj) -> str:
        return settings.OMNI_CURRENCY

    def get_allowed_actions(self, obj) -> list[str]:
        return [action for action in states.allowed_actions(obj) if action in PUBLIC_ACTIONS]


class OrderTrailSerializer(ModelSerializer):
    """What an order's detail shows beyond ``OrderSerializer``: its history, refunds and returns."""

    history = StatusChangeSerializer(many=True, read_only=True)
    refunds = RefundSerializer(many=True, read_only=True)
    returns = serializers.SlugRelatedField(slug_field="number", many=True, read_only=True)

    class Meta:
        model = Order
        fields = ["history", "refunds", "returns"]


class OrderDetailSerializer(OrderSerializer, OrderTrailSerializer):
    class Meta(OrderSerializer.Meta):
        fields = [*OrderSerializer.Meta.fields, *OrderTrailSerializer.Meta.fields]


_PLACED_DATA = "_placed_data"


def placed_order_data(order: Order) -> dict:
    """``OrderSerializer``'s rendering of an order ``order_place`` has just returned, from the rows
    it wrote. Rendered once and kept on the order: the order.created event renders it inside the
    placing transaction and the API's response (``placed_order_detail``) reuses it. Only for the
    order as placed: a later change of the instance is not seen."""
    data = order.__dict__.get(_PLACED_DATA)
    if data is None:
        data = order.__dict__[_PLACED_DATA] = represent(OrderSerializer, order_as_written(copy.copy(order)))
    return data


def placed_order_detail(order: Order) -> dict:
    """``OrderDetailSerializer``'s rendering of an order ``order_place`` has just returned."""
    trail = represent(OrderTrailSerializer, order_as_written(copy.copy(order)))
    return {**placed_order_data(order), **trail}


class PaymentRecordResultSerializer(serializers.Serializer):
    payment = PaymentSerializer(read_only=True)
    order = OrderDetailSerializer(read_only=True)


class ReturnLineSerializer(ModelSerializer):
    sku = serializers.CharField(source="order_line.sku", read_only=True)

    class Meta:
        model = ReturnLine
        fields = ["sku", "quantity", "condition", "amount", "paid_amount"]


class ReturnSerializer(ModelSerializer):
    order = serializers.SlugRelatedField(slug_field="number", read_only=True)
    location = serializers.SlugRelatedField(slug_field="code", read_only=True)
    currency = serializers.SerializerMethodField()
    lines = ReturnLineSerializer(many=True, read_only=True)
    refunds = RefundSerializer(many=True, read_only=True)

    class Meta:
        model = OrderReturn
        fields = [
            "id",
            "number",
            "order",
            "location",
            "reason",
            "refund_method",
            "currency",
            "amount",
            "paid_amount",
            "shortfall_points",
            "shortfall_value",
            "refund_amount",
            "refund_points",
            "points_reversed",
            "points_given_back",
            "late_accepted",
            "lines",
            "refunds",
            "created_at",
        ]

    def get_currency(self, obj) -> str:
        return settings.OMNI_CURRENCY
