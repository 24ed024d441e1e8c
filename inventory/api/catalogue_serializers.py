"""Shapes of the catalogue API: product models with their variants, attributes and images."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from inventory.api.serializers import MAX_BARCODES, CategoryRefSerializer, ProductImageSerializer, ProductSerializer
from inventory.models import Attribute, AttributeType, ProductModel, Unit
from omni.core.api.serializers import ModelSerializer, StrictInputSerializer
from omni.core.validators import validate_identifier

MAX_VARIANTS = 200
MAX_IMAGES = 50
MAX_ATTRIBUTES = 50


class AttributeSerializer(ModelSerializer):
    class Meta:
        model = Attribute
        fields = ["code", "name", "type", "choices"]
        read_only_fields = fields


class ProductModelSerializer(ModelSerializer):
    category = CategoryRefSerializer(read_only=True, allow_null=True)
    images = ProductImageSerializer(many=True, read_only=True, help_text=_("Images of the model, in display order."))
    variants = ProductSerializer(many=True, read_only=True, help_text=_("The model's variants (SKUs), by SKU."))

    class Meta:
        model = ProductModel
        fields = ["code", "name", "description", "category", "is_active", "images", "variants", "updated_at"]
        read_only_fields = fields


class ImageInputSerializer(StrictInputSerializer):
    url = serializers.URLField(max_length=1000)
    alt = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


def _images_field(help_text):
    return ImageInputSerializer(many=True, required=False, max_length=MAX_IMAGES, help_text=help_text)


class VariantInputSerializer(StrictInputSerializer):
    sku = serializers.CharField(max_length=64, validators=[validate_identifier])
    name = serializers.CharField(
        max_length=255, required=False, allow_blank=True, default="", help_text=_("Omitted: the model's name.")
    )
    description = serializers.CharField(required=False, allow_blank=True, default="")
    unit = serializers.ChoiceField(choices=Unit.choices, required=False, default=Unit.PIECE)
    price = serializers.DecimalField(max_digits=12, decimal_places=2)
    is_active = serializers.BooleanField(required=False, default=True)
    barcodes = serializers.ListField(
        child=serializers.CharField(max_length=32, validators=[validate_identifier]),
        required=False,
        max_length=MAX_BARCODES,
        help_text=_("EAN-13 barcodes, replacing those the variant had; omitted: left as they are."),
    )
    attributes = serializers.DictField(
        child=serializers.CharField(max_length=255),
        required=False,
        help_text=_("Attribute values by attribute code, replacing the variant's; omitted: left as they are."),
    )
    images = _images_field(_("The variant's own images, replacing those it had; omitted: left as they are."))

    def validate_attributes(self, value):
        if len(value) > MAX_ATTRIBUTES:
            raise serializers.ValidationError(_("At most 50 attributes."))
        return value


class ProductModelUpsertSerializer(StrictInputSerializer):
    """A model and the variants to create or update with it."""

    code = serializers.CharField(max_length=64, validators=[validate_identifier])
    name = serializers.CharField(max_length=255)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    category = serializers.CharField(
        max_length=64, required=False, allow_null=True, allow_blank=True, default=None, validators=[validate_identifier]
    )
    is_active = serializers.BooleanField(required=False, default=True)
    images = _images_field(_("The model's images, replacing those it had; omitted: left as they are."))
    variants = VariantInputSerializer(many=True, required=False, default=list, max_length=MAX_VARIANTS)

    def validate_variants(self, value):
        skus = [variant["sku"] for variant in value]
        if len(skus) != len(set(skus)):
            raise serializers.ValidationError(_("Each SKU may appear only once."))
        return value


class AttributeUpsertSerializer(StrictInputSerializer):
    code = serializers.CharField(max_length=64, validators=[validate_identifier])
    name = serializers.CharField(max_length=200)
    type = serializers.ChoiceField(choices=AttributeType.choices, required=False, default=AttributeType.TEXT)
    choices = serializers.ListField(
        child=serializers.CharField(max_length=255),
        required=False,
        default=list,
        max_length=500,
        help_text=_("The allowed values of a choice attribute."),
    )
