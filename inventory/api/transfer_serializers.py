"""Shapes of the transfers API. They validate form only; the rules live in ``inventory.services``."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from inventory.api.serializers import MAX_DOCUMENT_LINES, MAX_LINE_QUANTITY
from inventory.models import Transfer, TransferLine
from omni.core.api.serializers import ModelSerializer, StrictInputSerializer, WholeNumberField


class TransferLineInputSerializer(StrictInputSerializer):
    """A SKU and the units to move."""

    sku = serializers.CharField(max_length=64)
    quantity = WholeNumberField(min_value=1, max_value=MAX_LINE_QUANTITY)


class TransferPartialLineSerializer(StrictInputSerializer):
    """A SKU on the transfer and the units sent or received; zero for none."""

    sku = serializers.CharField(max_length=64)
    quantity = WholeNumberField(min_value=0, max_value=MAX_LINE_QUANTITY)


class TransferInputSerializer(StrictInputSerializer):
    """Goods to move from one location to another."""

    source = serializers.CharField(max_length=32, help_text=_("Code of the location the goods leave."))
    destination = serializers.CharField(max_length=32, help_text=_("Code of the location the goods go to."))
    ask = serializers.BooleanField(
        required=False,
        default=False,
        help_text=_(
            "false (default): the source sends the goods, reserved there at once. true: the destination asks "
            "for them; nothing is reserved until the source ships the request or declines it."
        ),
    )
    note = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    lines = TransferLineInputSerializer(
        many=True,
        allow_empty=False,
        max_length=MAX_DOCUMENT_LINES,
        help_text=_("At most 500 lines; lines naming the same SKU are added together."),
    )


class TransferShipInputSerializer(StrictInputSerializer):
    """What the source sends; only for a transfer that was asked for."""

    lines = TransferPartialLineSerializer(
        many=True,
        required=False,
        max_length=MAX_DOCUMENT_LINES,
        help_text=_(
            "Only for a transfer asked for: the units sent of each SKU asked for (fewer than asked, or 0 to "
            "refuse a line; a SKU not listed is refused). Omitted: everything asked for is sent."
        ),
    )


class TransferReceiveInputSerializer(StrictInputSerializer):
    """What arrived at the destination."""

    lines = TransferPartialLineSerializer(
        many=True,
        required=False,
        max_length=MAX_DOCUMENT_LINES,
        help_text=_(
            "The units that arrived of each SKU (a SKU not listed: none arrived). Omitted: everything shipped arrived."
        ),
    )


class TransferDeclineInputSerializer(StrictInputSerializer):
    reason = serializers.CharField(max_length=255, help_text=_("Why the source will not send the goods."))


class TransferLineSerializer(ModelSerializer):
    sku = serializers.CharField(source="product.sku", read_only=True)

    class Meta:
        model = TransferLine
        fields = ["sku", "asked_quantity", "quantity", "received_quantity"]
        read_only_fields = fields
        extra_kwargs = {
            "asked_quantity": {"help_text": _("What the destination asked for; null when the source sent it.")},
            "quantity": {"help_text": _("The units reserved or shipped at the source.")},
        }


class TransferSerializer(ModelSerializer):
    source = serializers.CharField(source="source.code", read_only=True, help_text=_("Location code."))
    destination = serializers.CharField(source="destination.code", read_only=True, help_text=_("Location code."))
    lines = TransferLineSerializer(many=True, read_only=True)

    class Meta:
        model = Transfer
        fields = [
            "number",
            "status",
            "source",
            "destination",
            "note",
            "decline_reason",
            "created_at",
            "shipped_at",
            "received_at",
            "cancelled_at",
            "declined_at",
            "updated_at",
            "lines",
        ]
        read_only_fields = fields
