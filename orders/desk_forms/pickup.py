"""The pickup desk's handover form: units refused per line, and how what is due is paid.

The form only parses; ``orders.services.order_hand_over_preview`` computes what is due for the
refused units and ``order_hand_over`` records it, so both read the same figures.
"""

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from orders.models import OrderLine, PaymentMethod
from orders.services import PaymentInput

# The method offered first when something is due: most customers pay by card.
CARD_METHODS = (PaymentMethod.CARD_IN_STORE, PaymentMethod.COURIER_CARD)


def default_method(methods, due, chosen: str = "") -> str:
    """The payment method to show: none when nothing is due, else the one chosen if it is allowed,
    else the card."""
    if due <= 0:
        return ""
    if chosen in methods:
        return chosen
    return next((method for method in methods if method in CARD_METHODS), methods[0])


def method_choices(methods, due) -> list[tuple[str, str]]:
    """ "Nothing to pay" only when nothing is due; the allowed methods only when something is."""
    if due <= 0:
        return [("", gettext("Nothing to pay"))]
    return [(method, PaymentMethod(method).label) for method in methods]


class HandoverForm(forms.Form):
    """Units refused per line (``refused_<line id>``, none by default) and the payment."""

    payment_method = forms.ChoiceField(label=_("payment method"), required=False)
    terminal = forms.CharField(label=_("terminal"), max_length=64, required=False)
    transaction_id = forms.CharField(label=_("transaction id"), max_length=100, required=False)
    acquiring_bank = forms.CharField(label=_("acquiring bank"), max_length=100, required=False)

    def __init__(self, *args, lines: list[OrderLine], methods, **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = lines
        self.fields["payment_method"].choices = [("", gettext("Nothing to pay"))] + method_choices(methods, 1)
        for line in lines:
            left = line.quantity - line.refused_quantity
            names = {"name": line.name, "sku": line.sku, "quantity": left}
            # the bound messages are %-formatted again by their validators: keep a % in a name
            escaped = {**names, "name": line.name.replace("%", "%%")}
            self.fields[f"refused_{line.pk}"] = forms.IntegerField(
                label=gettext("%(name)s (%(sku)s): refused of %(quantity)d") % names,
                min_value=0,
                max_value=left,
                initial=0,
                required=False,
                error_messages={
                    "invalid": gettext("%(name)s: enter the units refused as a whole number.") % names,
                    "min_value": gettext("%(name)s: the units refused cannot be negative.") % escaped,
                    "max_value": gettext("%(name)s: at most %(quantity)d can be refused.") % escaped,
                },
            )

    def refused(self) -> dict[str, int]:
        return {
            line.sku: self.cleaned_data[f"refused_{line.pk}"]
            for line in self.lines
            if self.cleaned_data.get(f"refused_{line.pk}")
        }

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

    def error_texts(self) -> list[str]:
        return [error for errors in self.errors.values() for error in errors]
