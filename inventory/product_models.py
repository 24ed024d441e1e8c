"""Product models (styles) with their variants, typed attributes and images. Re-exported by
``inventory.services``; a variant is written by ``inventory.catalogue.product_upsert``."""

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_slug
from django.db import transaction
from django.utils.translation import gettext as _

from inventory.catalogue import ProductData, external_id_clean, key_follow_erp, product_upsert
from inventory.errors import InvalidAttributeValue, ModelCodeTaken, UnknownAttribute, UnknownCategory
from inventory.models import (
    Attribute,
    AttributeType,
    AttributeValue,
    Category,
    Product,
    ProductImage,
    ProductModel,
    validate_sku,
)
from omni.core.actors import SYSTEM, Actor
from omni.core.audit import audit_changes, audit_event, audit_snapshot
from omni.core.errors import InvalidInput
from omni.core.models import AuditKind
from omni.core.validators import validate_identifier, validate_storable_text

HEX_COLOUR = re.compile(r"^#[0-9A-Fa-f]{6}$")
MAX_VALUE_LENGTH = AttributeValue._meta.get_field("value").max_length


@dataclass(frozen=True)
class ImageData:
    url: str
    alt: str = ""


@dataclass(frozen=True)
class VariantData:
    """A variant: the product as ``product_upsert`` takes it, its attribute values by code and its own images
    (None: leave them as they are)."""

    product: ProductData
    attributes: dict[str, str] | None = None
    images: tuple[ImageData, ...] | None = None


@dataclass(frozen=True)
class ProductModelData:
    code: str
    name: str
    description: str = ""
    category_code: str | None = None
    is_active: bool = True
    images: tuple[ImageData, ...] | None = None
    variants: tuple[VariantData, ...] = field(default_factory=tuple)
    external_id: str | None = None  # the model's id in the ERP, as ``ProductData.external_id``


def _check(field_name: str, value: str, validator) -> None:
    try:
        validator(value)
    except ValidationError as error:
        raise InvalidInput.for_field(field_name, error.messages[0])


def attribute_value_clean(attribute: Attribute, raw) -> str:
    """The value as stored for this attribute, or ``InvalidAttributeValue`` naming the attribute."""
    value = str(raw).strip()

    def refuse(message: str):
        return InvalidAttributeValue(
            message, details={"attribute": attribute.code, "fields": {attribute.code: [message]}}
        )

    if not value:
        raise refuse(_("Attribute %(code)s needs a value.") % {"code": attribute.code})
    if len(value) > MAX_VALUE_LENGTH or not _is_storable(value):
        raise refuse(
            _("The value of attribute %(code)s is too long or holds invisible characters.") % {"code": attribute.code}
        )
    if attribute.type == AttributeType.NUMBER:
        try:
            number = Decimal(value.replace(",", "."))
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite():
            raise refuse(
                _("Attribute %(code)s takes a number, not %(value)s.") % {"code": attribute.code, "value": value}
            )
        return format(number.normalize(), "f")
    if attribute.type == AttributeType.CHOICE and value not in attribute.choices:
        raise refuse(
            _("Attribute %(code)s takes one of %(choices)s, not %(value)s.")
            % {"code": attribute.code, "choices": ", ".join(attribute.choices), "value": value}
        )
    if attribute.type == AttributeType.COLOUR and value.startswith("#") and not HEX_COLOUR.match(value):
        raise refuse(_("A colour is a name or #RRGGBB, not %(value)s.") % {"value": value})
    return value


def _is_storable(value: str) -> bool:
    try:
        validate_storable_text(value)
    except ValidationError:
        return False
    return True


def attribute_upsert(
    *, code: str, name: str, type: str = AttributeType.TEXT, choices=(), actor: Actor = SYSTEM
) -> tuple[Attribute, bool]:
    """Create the attribute with this code or update its name, type and choices."""
    code, name = code.strip(), name.strip()
    if not code or not name:
        raise InvalidInput.for_field("name" if code else "code", _("An attribute needs a code and a name."))
    _check("code", code, validate_slug)
    _check("name", name, validate_storable_text)
    if type not in AttributeType.values:
        raise InvalidInput.for_field("type", _("Unknown attribute type %(type)s.") % {"type": type})
    choices = [str(choice).strip() for choice in choices if str(choice).strip()]
    for choice in choices:
        _check("choices", choice, validate_storable_text)
    if type == AttributeType.CHOICE and not choices:
        raise InvalidInput.for_field("choices", _("A choice attribute needs its choices."))
    with transaction.atomic():
        attribute, created = Attribute.objects.update_or_create(
            code=code, defaults={"name": name, "type": type, "choices": choices}
        )
        if created:
            audit_event(actor, attribute, AuditKind.CREATED)
    return attribute, created


def _attributes_by_code(codes) -> dict[str, Attribute]:
    found = {a.code: a for a in Attribute.objects.filter(code__in=set(codes))}
    unknown = sorted(set(codes) - set(found))
    if unknown:
        raise UnknownAttribute(
            _("Unknown attribute codes: %(codes)s.") % {"codes": ", ".join(unknown)}, details={"attributes": unknown}
        )
    return found


def variant_attributes_set(*, product: Product, values: dict[str, str]) -> None:
    """Replace the variant's attribute values; every value is checked before anything is written."""
    attributes = _attributes_by_code(values)
    cleaned = {attributes[code]: attribute_value_clean(attributes[code], raw) for code, raw in values.items()}
    with transaction.atomic():
        product.attribute_values.exclude(attribute__in=list(cleaned)).delete()
        for attribute, value in cleaned.items():
            AttributeValue.objects.update_or_create(product=product, attribute=attribute, defaults={"value": value})


def _check_images(images) -> None:
    for image in images:
        _check("images", image.url, URLValidator(schemes=["http", "https"]))
        if len(image.url) > 1000 or len(image.alt) > 255:
            raise InvalidInput.for_field("images", _("An image URL or its alternative text is too long."))
        _check("images", image.alt, validate_storable_text)


def images_set(*, owner: ProductModel | Product, images) -> None:
    """Replace the images of a model or a variant, in the order given."""
    _check_images(images)
    key = "model" if isinstance(owner, ProductModel) else "product"
    with transaction.atomic():
        ProductImage.objects.filter(**{key: owner}).delete()
        ProductImage.objects.bulk_create(
            [ProductImage(**{key: owner}, url=i.url, alt=i.alt, position=n) for n, i in enumerate(images)]
        )


def _model_values(data: ProductModelData) -> dict:
    name = data.name.strip()
    if not name:
        raise InvalidInput.for_field("name", _("A product model needs a name."))
    _check("name", name, validate_storable_text)
    _check("description", data.description, validate_storable_text)
    category = None
    if data.category_code:
        _check("category", data.category_code, validate_identifier)
        category = Category.objects.filter(code=data.category_code).first()
        if category is None:
            raise UnknownCategory(details={"category": data.category_code})
    return {"name": name, "description": data.description, "category": category, "is_active": data.is_active}


def product_model_upsert(*, data: ProductModelData, actor: Actor = SYSTEM) -> tuple[ProductModel, bool]:
    """Create or update a model and upsert the variants given, all or nothing. Variants not given are
    left as they are; a variant named here moves to this model."""
    code = data.code.strip()
    _check("code", code, validate_identifier)
    _check("code", code, validate_sku)
    values = _model_values(data)
    external_id = external_id_clean(data.external_id)
    if external_id is not None:
        values["external_id"] = external_id
    with transaction.atomic():
        renamed_from = key_follow_erp(ProductModel, "code", code, external_id, ModelCodeTaken)
        existing = ProductModel.objects.select_for_update().filter(code=code).first()
        before = audit_snapshot(existing, values) if existing else {}
        model, created = ProductModel.objects.update_or_create(code=code, defaults=values)
        if created:
            audit_event(actor, model, AuditKind.CREATED)
        else:
            if renamed_from:
                before, values = {**before, "code": renamed_from}, {**values, "code": code}
            audit_changes(actor, model, before, values)
        if data.images is not None:
            images_set(owner=model, images=data.images)
        for variant in data.variants:
            _variant_upsert(model, variant, actor)
    return model, created


def _variant_upsert(model: ProductModel, variant: VariantData, actor: Actor) -> Product:
    product, _created = product_upsert(data=variant.product, actor=actor)
    if product.model_id != model.pk:
        product.model = model
        product.save(update_fields=["model", "updated_at"])
    if variant.attributes is not None:
        variant_attributes_set(product=product, values=variant.attributes)
    if variant.images is not None:
        images_set(owner=product, images=variant.images)
    return product
