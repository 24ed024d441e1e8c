"""Forms of the inventory admin: they parse what staff type or upload; the services decide.

A form here checks the shape of the input (a known SKU, a whole quantity, a location the user
works at) and names the line that is wrong. Whether the operation is allowed (enough stock, the
right transfer status) is the service's answer, shown with ``domain_error_messages``.
"""

import re
from decimal import Decimal, InvalidOperation

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from import_export.forms import ConfirmImportForm, ImportForm

from inventory.models import Location, StockDocumentKind, TransferLine
from inventory.selectors import products_by_code
from inventory.services import ProductQuantity
from omni.core.errors import DomainError

# A quantity beyond this is a typo, and beyond 2**31 the database would refuse it anyway.
MAX_QUANTITY = 1_000_000_000

_LINE = re.compile(r"(?P<code>.+?)[\s,;]+(?P<quantity>\S+)")
_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]+")

LINES_HELP_TEXT = _(
    "One product per line: its SKU or barcode, then the quantity, separated by a space, a tab, "
    "a comma or a semicolon. For example: SKU-001 5"
)


# --- Parsing ------------------------------------------------------------------------------


def normalize_cell(value) -> str:
    """A typed or spreadsheet value as text. Spreadsheets return numbers typed as 5 as 5.0."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        return str(int(value))
    return str(value).strip()


def parse_quantity(value, *, allow_zero: bool) -> int:
    """A whole quantity, zero or more (more than zero unless ``allow_zero``); else a ValidationError."""
    text = normalize_cell(value)
    if not text:
        raise ValidationError(_("The quantity is missing."), code="required")
    if not _WHOLE_NUMBER.fullmatch(text):
        raise ValidationError(_("%(quantity)s is not a whole number."), code="invalid", params={"quantity": text})
    quantity = int(text)
    if quantity < 0:
        raise ValidationError(_("The quantity %(quantity)s is negative."), code="negative", params={"quantity": text})
    if quantity == 0 and not allow_zero:
        raise ValidationError(_("The quantity must be greater than zero."), code="zero")
    if quantity > MAX_QUANTITY:
        raise ValidationError(_("The quantity %(quantity)s is too large."), code="too_large", params={"quantity": text})
    return quantity


def parse_product_lines(text: str, *, allow_zero: bool) -> list[ProductQuantity]:
    """Lines of "SKU-or-barcode quantity" as document lines; every bad line is named in the error."""
    errors: list[ValidationError] = []
    entries: list[tuple[int, str, int]] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        match = _LINE.fullmatch(line)
        if match is None:
            errors.append(
                ValidationError(_("Line %(line)d: give a SKU or barcode, then a quantity."), params={"line": number})
            )
            continue
        try:
            quantity = parse_quantity(match["quantity"], allow_zero=allow_zero)
        except ValidationError as exc:
            errors.append(
                ValidationError(_("Line %(line)d: %(reason)s"), params={"line": number, "reason": exc.messages[0]})
            )
            continue
        entries.append((number, match["code"].strip(), quantity))
    products = products_by_code(code for _number, code, _quantity in entries)
    for number, code, _quantity in entries:
        if code not in products:
            errors.append(
                ValidationError(
                    _("Line %(line)d: no product has the SKU or barcode %(code)s."),
                    params={"line": number, "code": code},
                )
            )
    if errors:
        raise ValidationError(errors)
    if not entries:
        raise ValidationError(_("Enter at least one line."), code="required")
    return [ProductQuantity(products[code].pk, quantity) for _number, code, quantity in entries]


def stock_line_message(line: dict) -> str:
    """One short line of a stock error's details (``InsufficientStock``, ``CountBelowReserved``,
    ``StockChangedSinceCount``)."""
    if "shown" in line:
        return gettext("%(sku)s at %(location)s: the preview showed %(shown)s on hand, now %(on_hand)s.") % line
    if "counted" in line:
        return gettext("%(sku)s at %(location)s: counted %(counted)s, but %(reserved)s are reserved for orders.") % line
    return gettext("%(sku)s at %(location)s: %(requested)s requested, %(available)s available.") % line


def domain_error_messages(exc: DomainError) -> list[str]:
    """A service's refusal as sentences: its message, then what its details name."""
    sentences = [str(exc.message)]
    details = exc.details or {}
    sentences += [stock_line_message(line) for line in details.get("lines", [])]
    taken = details.get("barcodes")
    if isinstance(taken, dict):
        sentences += [
            gettext("The barcode %(barcode)s already belongs to %(sku)s.") % {"barcode": code, "sku": sku}
            for code, sku in taken.items()
        ]
    elif isinstance(taken, list):
        sentences += [
            gettext("The barcode %(barcode)s already belongs to another product.") % {"barcode": code} for code in taken
        ]
    if "barcode" in details:
        sentences.append(gettext("The barcode given was %(barcode)s.") % {"barcode": details["barcode"]})
    if "category" in details:
        sentences.append(gettext("The category code given was %(category)s.") % {"category": details["category"]})
    return sentences


def message_domain_error(model_admin, request, exc: DomainError) -> None:
    """Show a service's refusal: its message, then a line for each item its details name."""
    for text in domain_error_messages(exc):
        model_admin.message_user(request, text, messages.ERROR)


# --- Stock documents and transfers ------------------------------------------------------


def preselect_only_choice(field: forms.ModelChoiceField) -> None:
    """A store worker with one location has it chosen already (their first submit must not fail)."""
    choices = list(field.queryset[:2])
    if len(choices) == 1:
        field.initial = choices[0].pk


class StockDocumentForm(forms.Form):
    """A receipt, a count or a write-off typed in the admin."""

    location = forms.ModelChoiceField(label=_("location"), queryset=Location.objects.none())
    number = forms.CharField(
        label=_("document number"),
        max_length=64,
        required=False,
        help_text=_(
            "The supplier's or the count sheet's number. Leave it empty to number the document "
            "automatically. Recording the same number again with the same lines changes nothing."
        ),
    )
    note = forms.CharField(label=_("note"), max_length=255, required=False)
    lines = forms.CharField(
        label=_("lines"), widget=forms.Textarea(attrs={"rows": 10, "cols": 60}), help_text=LINES_HELP_TEXT
    )

    def __init__(self, *args, locations, allow_zero: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.allow_zero = allow_zero
        self.fields["location"].queryset = locations
        preselect_only_choice(self.fields["location"])

    def clean_lines(self) -> list[ProductQuantity]:
        return parse_product_lines(self.cleaned_data["lines"], allow_zero=self.allow_zero)


def merged_quantities(lines: list[ProductQuantity]) -> dict[int, int]:
    """Product id → units, a product typed on several lines summed (as the services sum them)."""
    merged: dict[int, int] = {}
    for line in lines:
        merged[line.product_id] = merged.get(line.product_id, 0) + line.quantity
    return merged


def format_count_snapshot(location_id: int, on_hand: dict[int, int]) -> str:
    """What a count preview showed, carried by the page to the posting: ``location|product:on hand,…``."""
    return f"{location_id}|" + ",".join(f"{pid}:{qty}" for pid, qty in sorted(on_hand.items()))


def parse_count_snapshot(text: str) -> tuple[int, dict[int, int]] | None:
    """The location id and on-hand figures of ``format_count_snapshot``; None if it is not one."""
    location, _bar, pairs = text.partition("|")
    try:
        on_hand = {int(pid): int(qty) for pid, qty in (pair.split(":") for pair in pairs.split(",") if pair)}
        return int(location), on_hand
    except ValueError:
        return None


class TransferCreateForm(forms.Form):
    source = forms.ModelChoiceField(label=_("source"), queryset=Location.objects.none())
    destination = forms.ModelChoiceField(label=_("destination"), queryset=Location.objects.none())
    note = forms.CharField(label=_("note"), max_length=255, required=False)
    lines = forms.CharField(
        label=_("lines"), widget=forms.Textarea(attrs={"rows": 10, "cols": 60}), help_text=LINES_HELP_TEXT
    )

    def __init__(self, *args, sources, destinations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source"].queryset = sources
        self.fields["destination"].queryset = destinations

    def clean_lines(self) -> list[ProductQuantity]:
        return parse_product_lines(self.cleaned_data["lines"], allow_zero=False)

    def clean(self):
        cleaned = super().clean()
        source, destination = cleaned.get("source"), cleaned.get("destination")
        if source is not None and source == destination:
            self.add_error("destination", _("Choose a destination other than the source."))
        return cleaned


class TransferAskForm(TransferCreateForm):
    """A destination's request: where from, where to (one of the user's locations), what."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source"].label = pgettext_lazy("transfer", "from")
        self.fields["source"].help_text = _("The warehouse or store that has the goods.")
        self.fields["destination"].label = pgettext_lazy("transfer", "to")
        preselect_only_choice(self.fields["destination"])


class TransferShipForm(forms.Form):
    """The source's answer to a request: the units it sends per line (0 refuses the line), or a
    reason to decline the whole request."""

    reason = forms.CharField(
        label=_("reason for declining"),
        max_length=255,
        required=False,
        help_text=_("Only when declining the whole request: the store sees it."),
    )

    def __init__(self, *args, lines: list[TransferLine], available: dict[int, int], **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = lines
        fields = {}
        for line in lines:
            fields[f"line_{line.pk}"] = forms.IntegerField(
                label=gettext("%(sku)s — %(name)s (asked for %(asked)d, %(available)d available)")
                % {
                    "sku": line.product.sku,
                    "name": line.product.name,
                    "asked": line.asked_quantity,
                    "available": available.get(line.product_id, 0),
                },
                min_value=0,
                max_value=line.asked_quantity,
                initial=max(0, min(line.asked_quantity, available.get(line.product_id, 0))),
            )
        self.fields = {**fields, "reason": self.fields["reason"]}

    def sending(self) -> dict[int, int]:
        return {line.product_id: self.cleaned_data[f"line_{line.pk}"] for line in self.lines}


class TransferReceiveForm(forms.Form):
    """The units that arrived, per line; what was shipped and did not arrive is the discrepancy."""

    def __init__(self, *args, lines: list[TransferLine], **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = lines
        for line in lines:
            self.fields[f"line_{line.pk}"] = forms.IntegerField(
                label=gettext("%(sku)s — %(name)s (%(quantity)d shipped)")
                % {"sku": line.product.sku, "name": line.product.name, "quantity": line.quantity},
                min_value=0,
                max_value=line.quantity,
                initial=line.quantity,
            )

    def received(self) -> dict[int, int]:
        return {line.product_id: self.cleaned_data[f"line_{line.pk}"] for line in self.lines}


# --- Stock import (django-import-export) ------------------------------------------------


class StockImportForm(ImportForm):
    """The upload step of a stock import: the file, and whether it is a receipt or a count."""

    mode = forms.ChoiceField(label=_("the file is"), choices=())
    number = forms.CharField(
        label=_("document number"),
        max_length=64,
        required=False,
        help_text=_(
            "Leave it empty to number the documents automatically. A file with several locations "
            "gives one document per location, numbered “number-location code”."
        ),
    )
    note = forms.CharField(label=_("note"), max_length=255, required=False)

    def __init__(self, formats, resources, *, modes, **kwargs):
        super().__init__(formats, resources, **kwargs)
        self.fields["mode"].choices = modes


class StockConfirmImportForm(ConfirmImportForm):
    """The confirm step carries the choices of the upload step; they are checked again."""

    mode = forms.ChoiceField(widget=forms.HiddenInput, choices=())
    number = forms.CharField(widget=forms.HiddenInput, max_length=64, required=False)
    note = forms.CharField(widget=forms.HiddenInput, max_length=255, required=False)

    def __init__(self, *args, modes, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["mode"].choices = modes


STOCK_IMPORT_MODES = {
    StockDocumentKind.RECEIPT: ("inventory.receive_stock", _("a receipt: add its quantities to stock")),
    StockDocumentKind.COUNT: ("inventory.count_stock", _("a count: set stock to its quantities")),
}


def stock_import_modes(user) -> list[tuple[str, str]]:
    """The kinds of stock import the user may run."""
    return [(kind.value, label) for kind, (perm, label) in STOCK_IMPORT_MODES.items() if user.has_perm(perm)]


def parse_decimal(value) -> Decimal:
    """A price as typed: 1234.5, 1234,5 or 1 234,50; a ValidationError otherwise."""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return Decimal(str(value))
    text = normalize_cell(value).replace("\u00a0", "").replace(" ", "")
    if "," in text and "." not in text:
        text = text.replace(",", ".")
    try:
        number = Decimal(text)
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        raise ValidationError(_("%(value)s is not a number."), code="invalid", params={"value": normalize_cell(value)})
    return number


_TRUE = {"1", "true", "yes", "y", "да"}
_FALSE = {"0", "false", "no", "n", "нет"}


def parse_bool(value) -> bool:
    if isinstance(value, bool):
        return value
    text = normalize_cell(value).lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValidationError(
        _("%(value)s is not yes or no: write 1 or 0, true or false."), code="invalid", params={"value": text}
    )
