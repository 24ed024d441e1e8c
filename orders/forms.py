"""Forms of the orders admin: they parse what store staff type; the services decide.

A form checks the shape of the input (a known SKU or barcode, a whole quantity, a location the
user works at); whether the action is allowed (stock, status, window, payment) is the service's
answer, shown with ``inventory.forms.domain_error_messages``.
"""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from orders.models import PaymentMethod
from orders.services import (
    PREPAYMENT_METHODS,
    PaymentInput,
)


def _method_choices(methods) -> list[tuple[str, str]]:
    return [(method, PaymentMethod(method).label) for method in methods]


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


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("reason"), max_length=255, required=False)
