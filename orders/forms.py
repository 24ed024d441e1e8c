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

from customers.models import Customer
from customers.selectors import customer_search
from inventory.forms import LINES_HELP_TEXT, parse_product_lines
from inventory.models import Product
from orders.models import OrderLine, PaymentMethod
from orders.services import (
    PREPAYMENT_METHODS,
    STORE_METHODS,
    LineInput,
    PaymentInput,
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


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("reason"), max_length=255, required=False)


class SaleForm(PaymentFields):
    """A sale at the till: the store, the customer (or none), lines by SKU or barcode, a promo
    code, points, and how it is paid."""

    location = forms.ModelChoiceField(label=_("store"), queryset=None)
    customer = forms.CharField(
        label=_("customer"),
        max_length=100,
        required=False,
        help_text=_("A phone, a loyalty card number or a customer number; leave empty for an anonymous sale."),
    )
    lines = forms.CharField(
        label=_("lines"), widget=forms.Textarea(attrs={"rows": 8, "cols": 60}), help_text=LINES_HELP_TEXT
    )
    promo_code = forms.CharField(label=_("promo code"), max_length=32, required=False)
    points = forms.IntegerField(label=_("points to spend"), min_value=0, required=False, initial=0)
    otp_code = forms.CharField(
        label=_("one-time code"),
        max_length=12,
        required=False,
        help_text=_("The code sent to the customer, when the programme asks for one to spend points."),
    )
    cash_amount = forms.DecimalField(
        label=_("of which in cash"),
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.01"),
        required=False,
        help_text=_("To split the payment: the cash part; the rest is paid by the method above."),
    )

    field_order = ["location", "customer", "lines", "promo_code", "points", "otp_code", "payment_method"]

    def __init__(self, *args, stores, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = stores
        self.set_methods(STORE_METHODS, required=True)

    def clean_customer(self) -> Customer | None:
        text = self.cleaned_data["customer"].strip()
        if not text:
            return None
        found = list(Customer.objects.active().filter(customer_search(text))[:2])
        if not found:
            raise ValidationError(_("No customer has this phone, card or number."))
        if len(found) > 1:
            raise ValidationError(_("Several customers match; give the phone or the card number."))
        return found[0]

    def clean_lines(self) -> list[LineInput]:
        quantities = parse_product_lines(self.cleaned_data["lines"], allow_zero=False)
        skus = dict(Product.objects.filter(pk__in=[q.product_id for q in quantities]).values_list("pk", "sku"))
        return [LineInput(skus[q.product_id], q.quantity) for q in quantities]

    def payments(self) -> list[PaymentInput]:
        payments = super().payments()
        cash = self.cleaned_data.get("cash_amount")
        if cash and payments and payments[0].method != PaymentMethod.CASH:
            return [PaymentInput(method=PaymentMethod.CASH, amount=cash), *payments]
        return payments

    def order_input(self, *, channel: str, fulfilment: str) -> dict:
        data = self.cleaned_data
        return {
            "channel": channel,
            "fulfilment": fulfilment,
            "location": data["location"],
            "customer": data["customer"],
            "lines": data["lines"],
            "promo_code": data["promo_code"],
            "points": data.get("points") or 0,
            "otp_code": data["otp_code"],
            "payments": self.payments(),
        }
