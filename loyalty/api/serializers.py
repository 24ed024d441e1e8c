"""Shapes of the loyalty API. They validate form only; the rules live in ``loyalty.services``."""

from collections.abc import Mapping

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from loyalty.models import Card, CardKind, CardStatus, PointsEntry
from omni.core.api.serializers import ModelSerializer, StrictInputSerializer, WholeNumberField
from omni.core.channels import Channel
from omni.core.validators import validate_identifier

MAX_CART_LINES = 500
MAX_LINE_QUANTITY = 1_000_000
MAX_POINTS = 10**12


class CartLineSerializer(StrictInputSerializer):
    sku = serializers.CharField(max_length=64, help_text=_("The product's SKU."))
    quantity = WholeNumberField(min_value=1, max_value=MAX_LINE_QUANTITY)
    amount = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        min_value=0,
        help_text=_("The line's total after discounts, before points, in the configured currency."),
    )


class CustomerRefSerializer(StrictInputSerializer):
    """Who: ``customer_id`` or a loyalty ``card`` number, exactly one of them."""

    customer_id = serializers.IntegerField(
        required=False, min_value=1, help_text=_("The customer's id (a merged profile's id resolves to the survivor).")
    )
    card = serializers.CharField(required=False, max_length=32, help_text=_("A loyalty card number."))

    def validate(self, attrs):
        attrs = super().validate(attrs)
        given = [name for name in ("customer_id", "card") if attrs.get(name) not in (None, "")]
        if len(given) != 1:
            raise serializers.ValidationError(
                {"customer_id": [_("Give either customer_id or card, exactly one of them.")]}
            )
        return attrs


class CartSerializer(CustomerRefSerializer):
    channel = serializers.ChoiceField(choices=Channel.choices, help_text=_("Where the customer is buying."))
    lines = CartLineSerializer(many=True, min_length=1, max_length=MAX_CART_LINES)


class QuoteInputSerializer(CartSerializer):
    pass


class QuoteSerializer(serializers.Serializer):
    order_total = serializers.DecimalField(max_digits=14, decimal_places=2)
    currency = serializers.CharField()
    available = serializers.IntegerField(help_text=_("Points the customer can spend now."))
    max_points = serializers.IntegerField(help_text=_("The most points that may pay for this cart."))
    max_value = serializers.DecimalField(max_digits=14, decimal_places=2, help_text=_("What max_points are worth."))
    point_value = serializers.DecimalField(max_digits=10, decimal_places=2)
    max_share_percent = serializers.DecimalField(max_digits=5, decimal_places=2)
    code_required = serializers.BooleanField(help_text=_("Spending needs a one-time code sent to the customer."))
    points_to_earn = serializers.IntegerField(help_text=_("What the cart earns when paid entirely in money."))
    tier = serializers.CharField(allow_null=True)


class RedemptionInputSerializer(CartSerializer):
    reference = serializers.CharField(
        max_length=64, help_text=_("The order's reference; the same reference spends once.")
    )
    points = WholeNumberField(min_value=1, max_value=MAX_POINTS)
    store = serializers.CharField(required=False, max_length=32, help_text=_("The store's location code."))
    code = serializers.CharField(
        required=False, allow_blank=True, max_length=16, help_text=_("The one-time code, when the quote asks for one.")
    )


class RedemptionSerializer(serializers.Serializer):
    reference = serializers.CharField()
    customer_id = serializers.IntegerField()
    points = serializers.IntegerField()
    value = serializers.DecimalField(max_digits=14, decimal_places=2, help_text=_("The money the points paid."))
    currency = serializers.CharField()
    available = serializers.IntegerField(help_text=_("Points available after the redemption."))
    entry_id = serializers.IntegerField()
    created_at = serializers.DateTimeField()


class AccountOpenSerializer(StrictInputSerializer):
    customer_id = serializers.IntegerField(min_value=1)
    channel = serializers.ChoiceField(choices=Channel.choices)
    store = serializers.CharField(required=False, max_length=32, help_text=_("The store's location code."))
    card_number = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=32,
        validators=[validate_identifier],
        help_text=_("A pre-printed card handed over in a store; omitted: a virtual card is issued."),
    )


class NextExpirySerializer(serializers.Serializer):
    points = serializers.IntegerField()
    date = serializers.DateField()


class CardSerializer(serializers.Serializer):
    number = serializers.CharField()
    kind = serializers.ChoiceField(choices=CardKind.choices)
    status = serializers.ChoiceField(choices=CardStatus.choices)
    issued_at = serializers.DateTimeField()


class TierSerializer(serializers.Serializer):
    name = serializers.CharField()
    earn_rate = serializers.DecimalField(max_digits=5, decimal_places=2)


class AccountSerializer(serializers.Serializer):
    customer_id = serializers.IntegerField()
    status = serializers.CharField()
    opened_at = serializers.DateTimeField()
    card = serializers.CharField(allow_null=True, help_text=_("The newest active card's number."))
    cards = CardSerializer(many=True)
    tier = TierSerializer(allow_null=True)
    available = serializers.IntegerField()
    pending = serializers.IntegerField(help_text=_("Earned points not spendable yet (the return window)."))
    next_expiry = NextExpirySerializer(allow_null=True, help_text=_("The next available points to expire."))
    point_value = serializers.DecimalField(max_digits=10, decimal_places=2)
    currency = serializers.CharField()


class CardChangeSerializer(ModelSerializer):
    """A card as incremental sync sends it: a blocked or replaced card no longer identifies anyone."""

    customer_id = serializers.IntegerField(source="account.customer_id", read_only=True)
    replaced_by = serializers.SlugRelatedField(slug_field="number", read_only=True, allow_null=True)

    class Meta:
        model = Card
        fields = [
            "id",
            "number",
            "customer_id",
            "kind",
            "status",
            "issued_at",
            "blocked_at",
            "block_reason",
            "replaced_by",
            "updated_at",
        ]
        read_only_fields = fields


class CardLookupSerializer(CardSerializer):
    account = AccountSerializer()


class EntrySerializer(ModelSerializer):
    store = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)

    class Meta:
        model = PointsEntry
        fields = [
            "id",
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
            "created_at",
            "recorded_at",
        ]
        read_only_fields = fields


class CodeRequestSerializer(CustomerRefSerializer):
    channel = serializers.ChoiceField(
        choices=[(Channel.STORE, Channel.STORE.label), (Channel.CALL_CENTRE, Channel.CALL_CENTRE.label)]
    )


class CodeSentSerializer(serializers.Serializer):
    expires_at = serializers.DateTimeField()
    attempts = serializers.IntegerField(help_text=_("Wrong attempts allowed."))


class PromoValidateInputSerializer(CartSerializer):
    code = serializers.CharField(max_length=32)

    def validate(self, attrs):
        # The customer is optional here: a code may be valid for anyone.
        data = attrs if isinstance(attrs, Mapping) else {}
        if data.get("customer_id") and data.get("card"):
            raise serializers.ValidationError({"customer_id": [_("Give customer_id or card, not both.")]})
        return attrs


class PromoQuoteSerializer(serializers.Serializer):
    code = serializers.CharField()
    kind = serializers.CharField(help_text=_("percent, amount or points."))
    discount = serializers.DecimalField(max_digits=14, decimal_places=2, help_text=_("Money off the order."))
    points = serializers.IntegerField(help_text=_("Extra points earned with the order."))
    order_total = serializers.DecimalField(max_digits=14, decimal_places=2)
    currency = serializers.CharField()


def currency() -> str:
    return settings.OMNI_CURRENCY
