"""Streaming reading of CommerceML 2 files into plain records.

The files may be large (a whole catalogue): each ``Товар`` and ``Предложение`` is read when it ends and
then dropped. ``defusedxml`` refuses any DTD, so neither external entities (XXE) nor entity expansion
(billion laughs) can happen. Every problem is named by its element, e.g. ``Товар 3 (Ид 42)``.
"""

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse
from django.utils.translation import gettext as _


class CommerceMLError(Exception):
    """The file cannot be imported; ``errors`` names each bad element."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__("; ".join(errors))


@dataclass
class Group:
    id: str
    name: str
    parent_id: str | None


@dataclass
class Property:
    id: str
    name: str
    is_number: bool
    choices: dict[str, str]  # ИдЗначения → Значение of a Справочник property


@dataclass
class Item:
    """A ``Товар``: a variant of the model ``model_id`` (its Ид before ``#``)."""

    label: str
    id: str
    article: str
    name: str
    description: str = ""
    group_id: str | None = None
    barcodes: list[str] = field(default_factory=list)
    characteristics: dict[str, str] = field(default_factory=dict)  # Наименование → Значение
    properties: dict[str, str] = field(default_factory=dict)  # property Ид → value as given
    images: list[str] = field(default_factory=list)

    @property
    def model_id(self) -> str:
        return self.id.split("#", 1)[0]


@dataclass
class Offer:
    label: str
    id: str
    article: str
    barcode: str
    prices: dict[str, Decimal]  # ИдТипаЦены → ЦенаЗаЕдиницу
    quantity: int | None
    stock: dict[str, int]  # Склад Ид → Количество
    characteristics: dict[str, str] = field(default_factory=dict)


@dataclass
class Catalogue:
    groups: list[Group] = field(default_factory=list)
    properties: dict[str, Property] = field(default_factory=dict)
    items: list[Item] = field(default_factory=list)


@dataclass
class OfferPackage:
    price_types: list[str] = field(default_factory=list)
    warehouses: dict[str, str] = field(default_factory=dict)  # Ид → Наименование
    offers: list[Offer] = field(default_factory=list)


IMPORT_ELEMENTS = {"Классификатор": "КоммерческаяИнформация", "Свойство": "Свойства", "Товар": "Товары"}
OFFER_ELEMENTS = {"ТипЦены": "ТипыЦен", "Склад": "Склады", "Предложение": "Предложения"}


def _local(tag: str) -> str:
    """The tag without its namespace: 1C writes ``urn:1C.ru:commerceml_2`` or none."""
    return tag.rsplit("}", 1)[-1]


def _child(element: Element, name: str) -> Element | None:
    return next((c for c in element if _local(c.tag) == name), None)


def _children(element: Element | None, name: str) -> list[Element]:
    return [] if element is None else [c for c in element if _local(c.tag) == name]


def _text(element: Element | None, name: str) -> str:
    child = None if element is None else _child(element, name)
    return (child.text or "").strip() if child is not None else ""


def _name_values(element: Element | None, container: str, item: str) -> dict[str, str]:
    """``ХарактеристикиТовара/ХарактеристикаТовара`` pairs of Наименование and Значение."""
    block = None if element is None else _child(element, container)
    return {_text(c, "Наименование"): _text(c, "Значение") for c in _children(block, item) if _text(c, "Наименование")}


def _stream(path, wanted: dict[str, str], errors: list[str]):
    """Each wanted element (tag → the tag of its parent) as it ends, with the tags of its ancestors;
    cleared after use, so memory holds one element at a time."""
    stack: list[str] = []
    try:
        for event, element in iterparse(path, events=("start", "end"), forbid_dtd=True):
            tag = _local(element.tag)
            if event == "start":
                stack.append(tag)
                continue
            stack.pop()
            if stack and wanted.get(tag) == stack[-1]:
                yield tag, stack, element
                element.clear()
    except DefusedXmlException:
        errors.append(_("%(file)s: a DTD or entity declaration is not accepted.") % {"file": _file(path)})
    except ParseError as error:
        errors.append(_("%(file)s is not well-formed XML: %(error)s.") % {"file": _file(path), "error": error})


def _file(path) -> str:
    return str(getattr(path, "name", path)).rsplit("/", 1)[-1]


def _groups(element: Element, parent_id: str | None, into: list[Group], errors: list[str]) -> None:
    for number, group in enumerate(_children(_child(element, "Группы"), "Группа"), 1):
        group_id, name = _text(group, "Ид"), _text(group, "Наименование")
        if not group_id or not name:
            errors.append(_("Группа %(n)d: Ид and Наименование are required.") % {"n": number})
            continue
        into.append(Group(group_id, name, parent_id))
        _groups(group, group_id, into, errors)


def _property(element: Element) -> Property:
    kind = _text(element, "ТипЗначений")
    choices = {}
    for container in ("ВариантыЗначений",):
        for choice in _children(_child(element, container), "Справочник"):
            choices[_text(choice, "ИдЗначения")] = _text(choice, "Значение")
    return Property(_text(element, "Ид"), _text(element, "Наименование"), kind == "Число", choices)


def _item(element: Element, number: int) -> Item:
    item_id = _text(element, "Ид")
    groups = _child(element, "Группы")
    return Item(
        label=_("Товар %(n)d (Ид %(id)s)") % {"n": number, "id": item_id or "—"},
        id=item_id,
        article=_text(element, "Артикул"),
        name=_text(element, "Наименование"),
        description=_text(element, "Описание"),
        group_id=_text(groups, "Ид") or None if groups is not None else None,
        barcodes=[(c.text or "").strip() for c in _children(element, "Штрихкод") if (c.text or "").strip()],
        characteristics=_name_values(element, "ХарактеристикиТовара", "ХарактеристикаТовара"),
        properties={
            _text(v, "Ид"): _text(v, "Значение")
            for v in _children(_child(element, "ЗначенияСвойств"), "ЗначенияСвойства")
            if _text(v, "Значение")
        },
        images=[(c.text or "").strip() for c in _children(element, "Картинка") if (c.text or "").strip()],
    )


def read_import(path) -> Catalogue:
    """Groups, properties and goods of an import.xml."""
    catalogue, errors = Catalogue(), []
    for tag, ancestors, element in _stream(path, IMPORT_ELEMENTS, errors):
        if tag == "Классификатор":
            _groups(element, None, catalogue.groups, errors)
        elif tag == "Свойство" and "Классификатор" in ancestors:
            prop = _property(element)
            catalogue.properties[prop.id] = prop
        elif tag == "Товар":
            item = _item(element, len(catalogue.items) + 1)
            if not item.id or not item.name or not (item.article or "#" not in item.id):
                errors.append(_("%(item)s: Ид, Наименование and Артикул are required.") % {"item": item.label})
            catalogue.items.append(item)
    if errors:
        raise CommerceMLError(errors)
    if not catalogue.items and not catalogue.groups:
        raise CommerceMLError([_("%(file)s holds no Классификатор and no Товар.") % {"file": _file(path)}])
    return catalogue


def _quantity(text: str, label: str, errors: list[str]) -> int | None:
    if not text:
        return None
    try:
        number = Decimal(text.replace(",", "."))
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite() or number < 0 or number != number.to_integral():
        errors.append(_("%(offer)s: the quantity %(value)s is not a whole number.") % {"offer": label, "value": text})
        return None
    return int(number)


def _stock(element: Element, label: str, errors: list[str]) -> dict[str, int]:
    """Per warehouse: ``Остатки/Остаток/Склад`` (2.08) or ``<Склад ИдСклада КоличествоНаСкладе>`` (2.04)."""
    stock = {}
    for rest in _children(_child(element, "Остатки"), "Остаток"):
        for warehouse in _children(rest, "Склад"):
            stock[_text(warehouse, "Ид")] = _quantity(_text(warehouse, "Количество"), label, errors) or 0
    for warehouse in _children(element, "Склад"):
        if warehouse.get("ИдСклада"):
            stock[warehouse.get("ИдСклада")] = _quantity(warehouse.get("КоличествоНаСкладе", ""), label, errors) or 0
    return stock


def _offer(element: Element, number: int, errors: list[str]) -> Offer:
    offer_id = _text(element, "Ид")
    label = _("Предложение %(n)d (Ид %(id)s)") % {"n": number, "id": offer_id or "—"}
    prices = {}
    for price in _children(_child(element, "Цены"), "Цена"):
        text = _text(price, "ЦенаЗаЕдиницу").replace(",", ".").replace(" ", "")
        try:
            prices[_text(price, "ИдТипаЦены")] = Decimal(text)
        except InvalidOperation:
            errors.append(_("%(offer)s: the price %(value)s is not a number.") % {"offer": label, "value": text})
    return Offer(
        label=label,
        id=offer_id,
        article=_text(element, "Артикул"),
        barcode=_text(element, "Штрихкод"),
        prices=prices,
        quantity=_quantity(_text(element, "Количество"), label, errors),
        stock=_stock(element, label, errors),
        characteristics=_name_values(element, "ХарактеристикиТовара", "ХарактеристикаТовара"),
    )


def read_offers(path) -> OfferPackage:
    """Price types, warehouses and offers (prices and stock) of an offers.xml."""
    package, errors = OfferPackage(), []
    for tag, _ancestors, element in _stream(path, OFFER_ELEMENTS, errors):
        if tag == "ТипЦены":
            package.price_types.append(_text(element, "Ид"))
        elif tag == "Склад":
            package.warehouses[_text(element, "Ид")] = _text(element, "Наименование")
        elif tag == "Предложение":
            offer = _offer(element, len(package.offers) + 1, errors)
            if not offer.id:
                errors.append(_("%(offer)s: Ид is required.") % {"offer": offer.label})
            package.offers.append(offer)
    if errors:
        raise CommerceMLError(errors)
    if not package.offers:
        raise CommerceMLError([_("%(file)s holds no Предложение.") % {"file": _file(path)}])
    return package
