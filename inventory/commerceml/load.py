"""Writing a CommerceML exchange through the inventory services, all or nothing.

``Группа`` → ``Category`` (code from its Ид), ``Свойство`` and ``ХарактеристикаТовара`` → ``Attribute``,
the goods sharing an Ид before ``#`` → one ``ProductModel`` (code: their Артикул) whose variants are
the ``Товар`` elements with characteristics (or the one ``Товар`` when it has none). A variant's SKU is
its Артикул, followed by its characteristic values when it has some (``TEE-001-M-Белый``). Offers
set each variant's price (the first price type, or the one asked for) and its stock per ``Склад``,
counted (``stock_count``) at the location whose code or name is the warehouse's Ид or name.

Each model and variant keeps its Ид (``external_id``): a later exchange finds it by that first, so an
Артикул corrected in 1C renames the SKU (stock and history stay with it) rather than adding a product,
and an offers.xml sent alone prices and counts goods it does not describe.
"""

import hashlib
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils.text import slugify
from django.utils.translation import gettext as _

from inventory import services
from inventory.commerceml.parse import Catalogue, CommerceMLError, Item, Offer, OfferPackage
from inventory.models import Attribute, AttributeType, Barcode, Category, Location, Product
from omni.core.actors import SYSTEM, Actor
from omni.core.errors import DomainError


@dataclass
class ImportSummary:
    categories: int = 0
    models: int = 0
    variants: int = 0
    stock_documents: int = 0


_TRANSLITERATION = (
    "а:a б:b в:v г:g д:d е:e ё:e ж:zh з:z и:i й:i к:k л:l м:m н:n о:o п:p р:r с:s т:t у:u ф:f х:kh ц:ts ч:ch "
    "ш:sh щ:shch ъ: ы:y ь: э:e ю:iu я:ia"
)
CYRILLIC = dict(pair.split(":") for pair in _TRANSLITERATION.split())


def _code(text: str, prefix: str) -> str:
    """A slug for a 1C Ид or name, Russian transliterated (``Размер`` → ``razmer``); else a hash."""
    code = slugify("".join(CYRILLIC.get(char, char) for char in text.lower()))[:64]
    return code or f"{prefix}-{hashlib.sha1(text.encode()).hexdigest()[:10]}"


def _sku(item: Item | Offer) -> str:
    """The Артикул (else the model's Ид), then the characteristic values without spaces."""
    values = ["".join(value.split()) for value in item.characteristics.values() if value.strip()]
    return "-".join([item.article or item.id.split("#", 1)[0], *values])


def _variants(catalogue: Catalogue) -> dict[str, list[Item]]:
    """The variants of each model Ид: its items with characteristics, else the item itself."""
    by_model: dict[str, list[Item]] = {}
    for item in catalogue.items:
        by_model.setdefault(item.model_id, []).append(item)
    return {
        model_id: [i for i in items if "#" in i.id] or [i for i in items if "#" not in i.id]
        for model_id, items in by_model.items()
    }


def _categories(catalogue: Catalogue) -> dict[str, str]:
    """Create or rename the groups as categories; returns group Ид → category code."""
    codes = {}
    for group in catalogue.groups:
        code = _code(group.id, "group")
        parent = Category.objects.get(code=codes[group.parent_id]) if group.parent_id else None
        Category.objects.update_or_create(code=code, defaults={"name": group.name[:200], "parent": parent})
        codes[group.id] = code
    return codes


def _attribute(name: str, code: str, is_number: bool) -> Attribute:
    existing = Attribute.objects.filter(code=code).first() or Attribute.objects.filter(name__iexact=name).first()
    if existing:
        return existing
    kind = AttributeType.NUMBER if is_number else AttributeType.TEXT
    return services.attribute_upsert(code=code, name=name[:200], type=kind)[0]


def _attribute_values(item: Item, base: Item | None, catalogue: Catalogue) -> dict[str, str]:
    values = {}
    for prop_id, raw in {**(base.properties if base else {}), **item.properties}.items():
        prop = catalogue.properties.get(prop_id)
        if prop is None:
            raise CommerceMLError([_("%(item)s: unknown Свойство %(id)s.") % {"item": item.label, "id": prop_id}])
        attribute = _attribute(prop.name, _code(prop.id, "property"), prop.is_number)
        values[attribute.code] = prop.choices.get(raw, raw)
    for name, value in item.characteristics.items():
        values[_attribute(name, _code(name, "characteristic"), False).code] = value
    return values


def _images(item: Item) -> tuple[services.ImageData, ...]:
    return tuple(services.ImageData(url) for url in item.images if url.startswith(("http://", "https://")))


@dataclass
class OfferLookup:
    """Offers by the SKU they price and stock."""

    by_sku: dict[str, Offer]
    price_type: str | None


def _offer_sku(offer: Offer, skus_by_id: dict[str, str]) -> str | None:
    if offer.id in skus_by_id:
        return skus_by_id[offer.id]
    known = Product.objects.filter(external_id=offer.id).values_list("sku", flat=True).first()
    if known:  # an offers-only exchange: the goods came in an earlier one
        return known
    if offer.barcode:
        barcode = Barcode.objects.filter(code=offer.barcode).select_related("product").first()
        if barcode:
            return barcode.product.sku
    sku = _sku(offer)
    return sku if Product.objects.filter(sku=sku).exists() else None


def match_offers(package: OfferPackage | None, skus_by_id: dict[str, str], price_type: str | None) -> OfferLookup:
    if package is None:
        return OfferLookup({}, None)
    price_type = price_type or (package.price_types[0] if package.price_types else None)
    if price_type and package.price_types and price_type not in package.price_types:
        raise CommerceMLError([_("ТипЦены %(id)s is not in the file.") % {"id": price_type}])
    by_sku, errors = {}, []
    for offer in package.offers:
        sku = _offer_sku(offer, skus_by_id)
        if sku is None:
            errors.append(_("%(offer)s: no product has this Ид, Штрихкод or Артикул.") % {"offer": offer.label})
        else:
            by_sku[sku] = offer
    if errors:
        raise CommerceMLError(errors)
    return OfferLookup(by_sku, price_type)


def _price(sku: str, item: Item, offers: OfferLookup) -> Decimal:
    offer = offers.by_sku.get(sku)
    if offer and offers.price_type in offer.prices:
        return offer.prices[offers.price_type]
    existing = Product.objects.filter(Q(sku=sku) | Q(external_id=item.id)).values_list("price", flat=True).first()
    if existing is None:
        raise CommerceMLError([_("%(item)s: a new product needs its price in offers.xml.") % {"item": item.label}])
    return existing


def _model_data(items: list[Item], base: Item | None, catalogue, categories, offers) -> services.ProductModelData:
    head = base or items[0]
    category = categories.get(head.group_id) if head.group_id else None
    if head.group_id and category is None:
        raise CommerceMLError([_("%(item)s: unknown Группа %(id)s.") % {"item": head.label, "id": head.group_id}])
    variants = []
    for item in items:
        sku = _sku(item)
        variants.append(
            services.VariantData(
                product=services.ProductData(
                    sku=sku,
                    name=item.name,
                    price=_price(sku, item, offers),
                    description=item.description or head.description,
                    category_code=category,
                    barcodes=tuple(item.barcodes) if item.barcodes else None,
                    external_id=item.id,
                ),
                attributes=_attribute_values(item, base if base is not item else None, catalogue),
                images=_images(item) if item is not head else None,
            )
        )
    return services.ProductModelData(
        code=head.article or head.model_id,
        name=head.name,
        description=head.description,
        category_code=category,
        images=_images(head),
        variants=tuple(variants),
        external_id=head.model_id,
    )


def _write_models(catalogue: Catalogue, categories, offers: OfferLookup, actor: Actor) -> tuple[int, int]:
    bases = {item.id: item for item in catalogue.items if "#" not in item.id}
    models = variants = 0
    for model_id, items in _variants(catalogue).items():
        data = _model_data(items, bases.get(model_id), catalogue, categories, offers)
        try:
            services.product_model_upsert(data=data, actor=actor)
        except DomainError as error:
            raise CommerceMLError([f"{items[0].label}: {error.message}"])
        models, variants = models + 1, variants + len(items)
    return models, variants


def _locations(package: OfferPackage) -> dict[str, Location]:
    locations, errors = {}, []
    for warehouse_id, name in package.warehouses.items():
        location = Location.objects.filter(code=warehouse_id).first() or Location.objects.filter(name=name).first()
        if location is None:
            errors.append(
                _("Склад %(id)s (%(name)s): no location has this code or name.") % {"id": warehouse_id, "name": name}
            )
        locations[warehouse_id] = location
    if errors:
        raise CommerceMLError(errors)
    return locations


def _stock_counts(package: OfferPackage, offers: OfferLookup, default: Location | None) -> dict[Location, dict]:
    locations, counted, errors = _locations(package), {}, []
    for sku, offer in offers.by_sku.items():
        stock = dict(offer.stock)
        if not stock and offer.quantity is not None:
            if default is None:
                errors.append(_("%(offer)s: Количество without a Склад; name the location.") % {"offer": offer.label})
                continue
            counted.setdefault(default, {})[sku] = offer.quantity
        for warehouse_id, quantity in stock.items():
            location = locations.get(warehouse_id) or (Location.objects.filter(code=warehouse_id).first())
            if location is None:
                errors.append(_("%(offer)s: unknown Склад %(id)s.") % {"offer": offer.label, "id": warehouse_id})
                continue
            counted.setdefault(location, {})[sku] = quantity
    if errors:
        raise CommerceMLError(errors)
    return counted


def _write_stock(counted: dict[Location, dict], actor: Actor) -> int:
    ids = dict(
        Product.objects.filter(sku__in={s for lines in counted.values() for s in lines}).values_list("sku", "pk")
    )
    for location, lines in counted.items():
        try:
            services.stock_count(
                location=location,
                lines=[services.ProductQuantity(ids[sku], quantity) for sku, quantity in lines.items()],
                actor=actor,
                note=_("CommerceML import"),
            )
        except DomainError as error:
            raise CommerceMLError(
                [_("Stock at %(location)s: %(error)s") % {"location": location.code, "error": error.message}]
            )
    return len(counted)


def _update_prices(offers: OfferLookup, skip: set[str], actor: Actor) -> None:
    """Offers of products that import.xml did not describe: only their price changes."""
    for sku, offer in offers.by_sku.items():
        if sku in skip or offers.price_type not in offer.prices:
            continue
        product = Product.objects.get(sku=sku)
        data = services.ProductData(
            sku=sku,
            name=product.name,
            price=offer.prices[offers.price_type],
            description=product.description,
            category_code=product.category.code if product.category else None,
            unit=product.unit,
            is_active=product.is_active,
        )
        try:
            services.product_upsert(data=data, actor=actor)
        except DomainError as error:
            raise CommerceMLError([f"{offer.label}: {error.message}"])


def import_commerceml(
    *,
    catalogue: Catalogue | None,
    package: OfferPackage | None,
    price_type: str | None = None,
    location: Location | None = None,
    actor: Actor = SYSTEM,
) -> ImportSummary:
    """Write one exchange, all or nothing; ``CommerceMLError`` names the element at fault."""
    catalogue = catalogue or Catalogue()
    variants = _variants(catalogue)
    skus_by_id = {item.id: _sku(item) for items in variants.values() for item in items}
    summary = ImportSummary()
    with transaction.atomic():
        categories = _categories(catalogue)
        offers = match_offers(package, skus_by_id, price_type)
        summary.categories = len(categories)
        summary.models, summary.variants = _write_models(catalogue, categories, offers, actor)
        if package is not None:
            _update_prices(offers, set(skus_by_id.values()), actor)
            summary.stock_documents = _write_stock(_stock_counts(package, offers, location), actor)
    return summary
