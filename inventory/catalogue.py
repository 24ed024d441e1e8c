"""The catalogue's one write: create or update a product (``product_upsert``), as the ERP, an
import file or the admin describes it. Re-exported by ``inventory.services``."""

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from inventory import hooks
from inventory.errors import BarcodeTaken, InvalidBarcode, SkuTaken, UnknownCategory
from inventory.models import Barcode, Category, Product, Unit, validate_sku
from omni.core.actors import SYSTEM, Actor
from omni.core.audit import audit_changes, audit_event, audit_snapshot
from omni.core.barcodes import is_valid_ean13
from omni.core.errors import DomainError, InvalidInput
from omni.core.models import AuditKind
from omni.core.validators import validate_identifier, validate_storable_text


@dataclass(frozen=True)
class ProductData:
    """A product as the ERP, an import file or the admin describes it."""

    sku: str
    name: str
    price: Decimal
    description: str = ""
    category_code: str | None = None
    unit: str = Unit.PIECE
    is_active: bool = True
    barcodes: tuple[str, ...] | None = None  # None: leave the product's barcodes as they are
    # The product's id in the ERP (1C's Ид). A product holding it is the one updated, its SKU
    # changed when the ERP's has (a corrected article). None: leave it as it is.
    external_id: str | None = None


def _check_field(field: str, value: str, validator) -> None:
    try:
        validator(value)
    except ValidationError as error:
        raise InvalidInput.for_field(field, error.messages[0])


def _product_price(value) -> Decimal:
    """The price as the column holds it; a number it cannot hold is refused, never sent to the database."""
    price = Decimal(value)
    column = Product._meta.get_field("price")
    whole_digits = column.max_digits - column.decimal_places
    if not price.is_finite() or price < 0:
        raise InvalidInput.for_field("price", _("The price must be zero or more, with at most two decimal places."))
    if price >= 10**whole_digits:
        raise InvalidInput.for_field(
            "price",
            _("The price is too large: at most %(digits)d digits before the decimal point.") % {"digits": whole_digits},
        )
    held = price.quantize(Decimal(1).scaleb(-column.decimal_places))
    if price != held:
        raise InvalidInput.for_field("price", _("The price must be zero or more, with at most two decimal places."))
    return held


def _product_before(sku: str, fields, *, with_barcodes: bool) -> dict:
    """The ``fields`` (and barcodes) of the product with this SKU, locked, as they are before
    ``product_upsert`` changes them; nothing when there is no such product yet."""
    product = Product.objects.select_for_update(of=("self",)).select_related("category").filter(sku=sku).first()
    if product is None:
        return {}
    before = audit_snapshot(product, fields)
    if with_barcodes:
        before["barcodes"] = sorted(product.barcodes.values_list("code", flat=True))
    return before


def external_id_clean(value: str | None) -> str | None:
    """An ERP id as stored (stripped, at most 100 characters of storable text); None stays None."""
    if value is None:
        return None
    value = value.strip()
    if len(value) > Product._meta.get_field("external_id").max_length:
        raise InvalidInput.for_field("external_id", _("The ERP id is at most 100 characters."))
    _check_field("external_id", value, validate_storable_text)
    return value


def key_follow_erp(model, key_field: str, key: str, external_id: str | None, taken: type[DomainError]) -> str | None:
    """Give the row (a product, a model) the ERP knows by ``external_id`` the key (SKU, code) the ERP
    now names; its old key, or None when nothing was renamed. ``taken``: another row has that key."""
    if not external_id:
        return None
    known = model.objects.select_for_update().filter(external_id=external_id).exclude(**{key_field: key}).first()
    if known is None:
        return None
    if model.objects.filter(**{key_field: key}).exists():
        raise taken(details={key_field: key, "external_id": external_id, "held_by": getattr(known, key_field)})
    old_key = getattr(known, key_field)
    model.objects.filter(pk=known.pk).update(**{key_field: key})
    return old_key


def product_upsert(*, data: ProductData, actor: Actor = SYSTEM) -> tuple[Product, bool]:
    """Create the product with this SKU (or this ERP id) or update it. Returns it and whether it was created."""
    sku, name = data.sku.strip(), data.name.strip()
    _check_field("sku", sku, validate_sku)
    external_id = external_id_clean(data.external_id)
    if not name:
        raise InvalidInput.for_field("name", _("A product needs a name."))
    _check_field("name", name, validate_storable_text)
    _check_field("description", data.description, validate_storable_text)
    price = _product_price(data.price)
    if data.unit not in Unit.values:
        raise InvalidInput.for_field("unit", _("Unknown unit %(unit)s.") % {"unit": data.unit})
    category = None
    if data.category_code:
        _check_field("category", data.category_code, validate_identifier)
        category = Category.objects.filter(code=data.category_code).first()
        if category is None:
            raise UnknownCategory(details={"category": data.category_code})
    barcodes = None if data.barcodes is None else sorted(set(data.barcodes))
    for code in barcodes or []:
        try:
            validate_identifier(code)
        except ValidationError as error:
            message = error.messages[0]
            raise InvalidBarcode(message, details={"field": "barcodes", "fields": {"barcodes": [message]}})
        if not is_valid_ean13(code):
            raise InvalidBarcode(details={"barcode": code})
    values = {
        "name": name,
        "description": data.description,
        "category": category,
        "unit": data.unit,
        "price": price,
        "is_active": data.is_active,
    }
    if external_id is not None:
        values["external_id"] = external_id
    with transaction.atomic():
        renamed_from = key_follow_erp(Product, "sku", sku, external_id, SkuTaken)
        before = _product_before(sku, values, with_barcodes=barcodes is not None)
        product, created = Product.objects.select_for_update().update_or_create(sku=sku, defaults=values)
        if created:
            audit_event(actor, product, AuditKind.CREATED)
        else:
            after = values if barcodes is None else {**values, "barcodes": barcodes}
            if renamed_from:
                before, after = {**before, "sku": renamed_from}, {**after, "sku": sku}
            audit_changes(actor, product, before, after)
        if barcodes is not None:
            taken = list(Barcode.objects.filter(code__in=barcodes).exclude(product=product).select_related("product"))
            if taken:
                raise BarcodeTaken(details={"barcodes": {b.code: b.product.sku for b in taken}})
            product.barcodes.exclude(code__in=barcodes).delete()
            new = [code for code in barcodes if code not in set(product.barcodes.values_list("code", flat=True))]
            try:
                with transaction.atomic():
                    Barcode.objects.bulk_create([Barcode(product=product, code=code) for code in new])
            except IntegrityError:
                # Another product claimed one of these barcodes since the check above.
                raise BarcodeTaken(details={"barcodes": new})
        hooks.product_changed(product)
    return product, created
