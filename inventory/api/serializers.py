"""Shapes of the inventory API. They validate form only; the rules live in ``inventory.services``."""

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from inventory.models import Category, Location, Product, ProductImage, Stock, StockDocument, StockDocumentLine, Unit
from omni.core.api.serializers import ModelSerializer, StrictInputSerializer, WholeNumberField
from omni.core.validators import validate_identifier

MAX_DOCUMENT_LINES = 500
MAX_LINE_QUANTITY = 1_000_000
MAX_BARCODES = 100


# --- Catalogue --------------------------------------------------------------------------


class CategoryRefSerializer(ModelSerializer):
    class Meta:
        model = Category
        fields = ["code", "name"]


class ProductImageSerializer(ModelSerializer):
    class Meta:
        model = ProductImage
        fields = ["url", "alt", "position"]
        read_only_fields = fields


class ProductSerializer(ModelSerializer):
    category = CategoryRefSerializer(read_only=True, allow_null=True)
    currency = serializers.SerializerMethodField(help_text=_("ISO 4217 code of the price's currency."))
    barcodes = serializers.SlugRelatedField(
        slug_field="code", many=True, read_only=True, help_text=_("EAN-13 barcodes of the product.")
    )
    model = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True, help_text=_("Code of the product model; null: none.")
    )
    attributes = serializers.SerializerMethodField(help_text=_("Attribute values by attribute code."))
    images = ProductImageSerializer(
        many=True, read_only=True, help_text=_("The variant's own images; the model's are on the model.")
    )

    class Meta:
        model = Product
        fields = [
            "sku",
            "name",
            "description",
            "category",
            "unit",
            "price",
            "currency",
            "barcodes",
            "is_active",
            "updated_at",
            "model",
            "attributes",
            "images",
        ]
        read_only_fields = fields

    def get_attributes(self, product: Product) -> dict[str, str]:
        return {value.attribute.code: value.value for value in product.attribute_values.all()}

    def get_currency(self, product: Product) -> str:
        return settings.OMNI_CURRENCY


class ProductUpsertSerializer(StrictInputSerializer):
    """A product as the ERP sends it. Unknown fields, computed ones included, are refused."""

    sku = serializers.CharField(
        max_length=64, validators=[validate_identifier], help_text=_("The product's key; an existing SKU is updated.")
    )
    name = serializers.CharField(max_length=255)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    category = serializers.CharField(
        max_length=64,
        required=False,
        allow_null=True,
        allow_blank=True,
        default=None,
        validators=[validate_identifier],
        help_text=_("Category code; null or omitted: no category."),
    )
    unit = serializers.ChoiceField(choices=Unit.choices, required=False, default=Unit.PIECE)
    price = serializers.DecimalField(
        max_digits=12, decimal_places=2, help_text=_("Price per unit, zero or more, at most two decimal places.")
    )
    is_active = serializers.BooleanField(required=False, default=True)
    barcodes = serializers.ListField(
        child=serializers.CharField(max_length=32, validators=[validate_identifier]),
        required=False,
        max_length=MAX_BARCODES,
        help_text=_(
            "The product's EAN-13 barcodes, replacing those it had; an empty list removes them all; "
            "omitted: the barcodes are left as they are."
        ),
    )


# --- Locations --------------------------------------------------------------------------


class LocationSerializer(ModelSerializer):
    class Meta:
        model = Location
        fields = [
            "code",
            "name",
            "kind",
            "city",
            "address",
            "opening_hours",
            "is_pickup_point",
            "accepts_returns",
            "ships_orders",
            "latitude",
            "longitude",
            "is_active",
        ]
        read_only_fields = fields


# --- Availability -----------------------------------------------------------------------

MAX_AVAILABILITY_SKUS = 200
MAX_AVAILABILITY_LOCATIONS = 200


class AvailabilityQuerySerializer(serializers.Serializer):
    sku = serializers.ListField(
        child=serializers.CharField(max_length=64), min_length=1, max_length=MAX_AVAILABILITY_SKUS
    )
    location = serializers.ListField(
        child=serializers.CharField(max_length=32), required=False, default=list, max_length=MAX_AVAILABILITY_LOCATIONS
    )
    city = serializers.CharField(max_length=100, required=False, default="")


class LocationAvailabilitySerializer(serializers.Serializer):
    location = serializers.CharField(help_text=_("Location code."))
    available = serializers.IntegerField(help_text=_("Units on hand and not reserved."))


class SkuAvailabilitySerializer(serializers.Serializer):
    sku = serializers.CharField()
    total_available = serializers.IntegerField(help_text=_("Sum over the listed locations."))
    locations = LocationAvailabilitySerializer(
        many=True, help_text=_("Active locations that hold or held the product, by code.")
    )


class AvailabilitySerializer(serializers.Serializer):
    results = SkuAvailabilitySerializer(many=True, help_text=_("One entry per SKU, in the order asked."))


class StockChangeSerializer(ModelSerializer):
    """A stock row as incremental sync sends it: one SKU at one location."""

    sku = serializers.CharField(source="product.sku", read_only=True)
    location = serializers.CharField(source="location.code", read_only=True, help_text=_("Location code."))
    available = serializers.IntegerField(read_only=True, help_text=_("Units on hand and not reserved."))

    class Meta:
        model = Stock
        fields = ["id", "sku", "location", "on_hand", "reserved", "available", "updated_at"]
        read_only_fields = fields


# --- Stock documents --------------------------------------------------------------------


class StockDocumentLineInputSerializer(StrictInputSerializer):
    """A SKU and the units received."""

    sku = serializers.CharField(max_length=64)
    quantity = WholeNumberField(min_value=1, max_value=MAX_LINE_QUANTITY)


class StockCountLineInputSerializer(StockDocumentLineInputSerializer):
    """A SKU and the units counted."""

    quantity = WholeNumberField(
        min_value=0, max_value=MAX_LINE_QUANTITY, help_text=_("The units counted; zero when none were found.")
    )


class StockReceiptInputSerializer(StrictInputSerializer):
    """Goods received at a location under one document number."""

    location = serializers.CharField(max_length=32, help_text=_("Code of the location."))
    number = serializers.CharField(
        max_length=64, help_text=_("The document's number; a retry with the same number and contents is harmless.")
    )
    note = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    lines = StockDocumentLineInputSerializer(
        many=True,
        allow_empty=False,
        max_length=MAX_DOCUMENT_LINES,
        help_text=_("At most 500 lines; lines naming the same SKU are added together."),
    )


class StockCountInputSerializer(StockReceiptInputSerializer):
    """An inventory count at a location under one document number."""

    lines = StockCountLineInputSerializer(
        many=True,
        allow_empty=False,
        max_length=MAX_DOCUMENT_LINES,
        help_text=_("At most 500 lines; lines naming the same SKU are added together."),
    )


class StockDocumentLineSerializer(ModelSerializer):
    sku = serializers.CharField(source="product.sku", read_only=True)

    class Meta:
        model = StockDocumentLine
        fields = ["sku", "quantity", "on_hand_before", "on_hand_delta"]
        read_only_fields = fields


class StockDocumentSerializer(ModelSerializer):
    location = serializers.CharField(source="location.code", read_only=True, help_text=_("Location code."))
    lines = StockDocumentLineSerializer(many=True, read_only=True)

    class Meta:
        model = StockDocument
        fields = ["number", "kind", "location", "note", "created_at", "lines"]
        read_only_fields = fields
