"""The header row of an export: column names for people (in the user's language) or for
integrations (stable machine names, ``order_total``), and how a CSV file is written for each
spreadsheet.

A column's machine name is its Resource field's ``column_name`` when that is an identifier
(``line_total``), else the field's own name; a report table's is its column key. Its name for
people is, in order: ``LABELS`` (the names the lists share), the model field's verbose name, the
machine name with spaces; a Resource may name its own (``people_names``, as a report table's
columns do). Machine names never change with the language: integrations ask for ``names``.
"""

import re
from dataclasses import dataclass

from django.core.exceptions import FieldDoesNotExist
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from omni.reports.models import ExportHeaders

IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")

#: Names for people of the machine names the exported lists share.
LABELS = {
    "order": _("order"),
    "created_at": _("created at"),
    "completed_at": _("completed at"),
    "channel": _("channel"),
    "fulfilment": _("fulfilment"),
    "status": _("status"),
    "store": _("store"),
    "customer_id": _("customer ID"),
    "order_total": _("order total"),
    "order_paid": _("order paid"),
    "order_refunded": _("order refunded"),
    "sku": _("SKU"),
    "name": pgettext_lazy("goods", "name"),
    "unit_price": _("unit price"),
    "quantity": _("quantity"),
    "refused": _("units refused"),
    "refused_total": _("refused, amount"),
    "returned": _("units returned"),
    "discount": _("discount"),
    "points_value": _("paid with points"),
    "line_total": _("line total"),
    "return": _("return"),
    "at": _("date and time"),
    "order_channel": _("order's channel"),
    "order_store": _("order's store"),
    "received_at": _("received at store"),
    "reason": _("reason"),
    "refund_method": _("refund method"),
    "condition": _("condition"),
    "amount": _("amount"),
    "paid_amount": _("paid in money"),
    "location": _("location"),
    "on_hand": _("on hand"),
    "reserved": _("reserved"),
    "available": _("available"),
    "min_quantity": _("minimum"),
    "on_hand_delta": _("on hand, change"),
    "reserved_delta": _("reserved, change"),
    "cause_type": _("cause"),
    "cause_id": _("cause ID"),
    "note": _("note"),
    "by": _("by"),
    "kind": _("kind"),
    "bonus_type": _("bonus type"),
    "points": _("points"),
    "remaining": _("points left"),
    "spendable_from": _("spendable from"),
    "expires_at": _("expires at"),
    "id": _("ID"),
}


def machine_name(field, name: str) -> str:
    column = str(field.column_name or "")
    return column if IDENTIFIER.match(column) else name


def _verbose_name(model, attribute: str | None) -> str | None:
    """The verbose name of the model field at the end of ``attribute`` (``order__number``)."""
    if model is None or not attribute:
        return None
    for part in attribute.split("__"):
        try:
            field = model._meta.get_field(part)
        except FieldDoesNotExist:
            return None
        model = field.related_model or model
    return str(field.verbose_name)


def people_name(resource, field, name: str) -> str:
    machine = machine_name(field, name)
    own = getattr(resource, "people_names", {})  # a Resource may name its own columns
    if machine in own:
        return capfirst(str(own[machine]))
    if machine in LABELS:
        return capfirst(str(LABELS[machine]))
    if not IDENTIFIER.match(str(field.column_name or "")):
        return capfirst(str(field.column_name))  # the Resource already names it for people
    model = getattr(getattr(resource, "_meta", None), "model", None)
    return capfirst(_verbose_name(model, field.attribute) or machine.replace("_", " "))


def header_row(resource, fields, headers: str) -> list[str]:
    """The header of ``fields`` of ``resource``: for people (``labels``) or machine names."""
    names = {id(field): name for name, field in resource.fields.items()}
    if headers == ExportHeaders.NAMES:
        return [machine_name(field, names.get(id(field), "")) for field in fields]
    return [people_name(resource, field, names.get(id(field), "")) for field in fields]


@dataclass(frozen=True)
class CsvStyle:
    """How a CSV file is written: its separator, whether it starts with a byte order mark (Excel
    reads UTF-8 without mojibake only with it), and the decimal separator of its numbers."""

    delimiter: str = ","
    bom: bool = True
    decimal_comma: bool = False
