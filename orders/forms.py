"""Forms of the orders admin: they parse what store staff type; the services decide.

A form checks the shape of the input (a known SKU or barcode, a whole quantity, a location the
user works at); whether the action is allowed (stock, status, window, payment) is the service's
answer, shown with ``inventory.forms.domain_error_messages``.
"""

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from orders.models import OrderLine, PaymentMethod, RefundMethod, ReturnCondition
from orders.services import (
    COURIER_METHODS,
    PREPAYMENT_METHODS,
    STORE_METHODS,
    PaymentInput,
    ReturnLineInput,
)


def _method_choices(methods) -> list[tuple[str, str]]:
    return [(method, PaymentMethod(method).label) for method in methods]


class PaymentFields(forms.Form):
    """How the customer pays what is due, in one method."""

    payment_method = forms.ChoiceField(label=_("payment method"), required=False)
    terminal = forms.CharField(label=_("terminal"), max_length=64, required=False)
    transaction_id = forms.CharField(label=_("transaction id"), max_length=100, required=False)
    acquiring_bank = forms.CharField(label=_("acquiring bank"), max_length=100, required=False)

    def set_methods(self, methods, *, required: bool) -> None:
        field = self.fields["payment_method"]
        field.choices = ([] if required else [("", gettext("Nothing to pay"))]) + _method_choices(methods)
        field.required = required

    def payments(self) -> list[PaymentInput]:
        data = self.cleaned_data
        if not data.get("payment_method"):
            return []
        return [
            PaymentInput(
                method=data["payment_method"],
                terminal=data["terminal"],
                transaction_id=data["transaction_id"],
                acquiring_bank=data["acquiring_bank"],
            )
        ]


class PaymentRecordForm(forms.Form):
    """A payment received after the order was placed (online by card, an SBP link)."""

    method = forms.ChoiceField(label=_("payment method"), choices=_method_choices(PREPAYMENT_METHODS))
    amount = forms.DecimalField(label=_("amount"), max_digits=12, decimal_places=2, min_value=Decimal("0.01"))
    transaction_id = forms.CharField(label=_("transaction id"), max_length=100, required=False)
    terminal = forms.CharField(label=_("terminal"), max_length=64, required=False)
    acquiring_bank = forms.CharField(label=_("acquiring bank"), max_length=100, required=False)

    def payment(self) -> PaymentInput:
        data = self.cleaned_data
        return PaymentInput(
            method=data["method"],
            amount=data["amount"],
            transaction_id=data["transaction_id"],
            terminal=data["terminal"],
            acquiring_bank=data["acquiring_bank"],
        )


class HandoverForm(PaymentFields):
    """Units refused per line, and the payment of what is left due."""

    def __init__(self, *args, lines: list[OrderLine], courier: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = lines
        refused_fields = {}
        for line in lines:
            refused_fields[f"refused_{line.pk}"] = forms.IntegerField(
                label=gettext("%(sku)s — %(name)s: refused of %(quantity)d")
                % {"sku": line.sku, "name": line.name, "quantity": line.quantity},
                min_value=0,
                max_value=line.quantity,
                initial=0,
            )
        self.fields = {**refused_fields, **self.fields}
        self.set_methods(COURIER_METHODS if courier else STORE_METHODS, required=False)

    def refused(self) -> dict[str, int]:
        return {
            line.sku: self.cleaned_data[f"refused_{line.pk}"]
            for line in self.lines
            if self.cleaned_data.get(f"refused_{line.pk}")
        }


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("reason"), max_length=255, required=False)


class ReturnSearchForm(forms.Form):
    query = forms.CharField(
        label=_("order number or customer's phone"),
        max_length=100,
        help_text=_("An order number (W-000123), or the customer's phone or card number."),
    )


class ReturnForm(forms.Form):
    """What comes back of one order: quantity and condition per line, where, why, refunded how."""

    location = forms.ModelChoiceField(label=_("accepted at"), queryset=None)
    reason = forms.CharField(label=_("reason"), max_length=255)
    refund_method = forms.ChoiceField(label=_("refund to"), choices=RefundMethod.choices, initial=RefundMethod.ORIGINAL)
    accept_late = forms.BooleanField(
        label=_("accept after the return window (faulty goods only)"),
        required=False,
        help_text=_("A store manager's decision; it is recorded on the return."),
    )

    def __init__(self, *args, lines: list[OrderLine], locations, can_accept_late: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = [line for line in lines if line.kept_quantity > 0]
        self.fields["location"].queryset = locations
        if not can_accept_late:
            del self.fields["accept_late"]
        for line in self.lines:
            self.fields[f"quantity_{line.pk}"] = forms.IntegerField(
                label=gettext("%(sku)s — %(name)s: returned of %(quantity)d")
                % {"sku": line.sku, "name": line.name, "quantity": line.kept_quantity},
                min_value=0,
                max_value=line.kept_quantity,
                initial=0,
            )
            self.fields[f"condition_{line.pk}"] = forms.ChoiceField(
                label=gettext("%(sku)s: condition") % {"sku": line.sku},
                choices=ReturnCondition.choices,
                initial=ReturnCondition.RESELLABLE,
            )

    def clean(self):
        cleaned = super().clean()
        if not any(cleaned.get(f"quantity_{line.pk}") for line in self.lines):
            raise ValidationError(_("Enter the quantity of at least one line."))
        return cleaned

    def return_lines(self) -> list[ReturnLineInput]:
        return [
            ReturnLineInput(
                line.sku, self.cleaned_data[f"quantity_{line.pk}"], self.cleaned_data[f"condition_{line.pk}"]
            )
            for line in self.lines
            if self.cleaned_data.get(f"quantity_{line.pk}")
        ]
