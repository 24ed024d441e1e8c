"""Forms of the return desk: find the purchase, choose what comes back, pay the refund back."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from orders.models import OrderLine, RefundMethod, RefundPayout, ReturnCondition
from orders.services import ReturnLineInput

# What customers say most often; the cashier may type anything else.
COMMON_REASONS = (
    _("Did not fit"),
    _("Did not like the colour"),
    _("Faulty"),
    _("Changed my mind"),
    _("Not as described"),
)


class ReturnSearchForm(forms.Form):
    q = forms.CharField(
        label=_("receipt, order, phone or card"),
        max_length=100,
        help_text=_(
            "A receipt or order number (S-000123 or its last digits), the customer's phone or card, "
            "or their last 4 digits or more."
        ),
    )


class ReturnForm(forms.Form):
    """What comes back of one order: quantity and condition per line, where, why, refunded how."""

    location = forms.ModelChoiceField(label=_("accepted at"), queryset=None, empty_label=None)
    reason = forms.CharField(
        label=_("reason"), max_length=255, widget=forms.TextInput(attrs={"list": "return-reasons", "size": 40})
    )
    refund_method = forms.ChoiceField(
        label=_("refund to"),
        choices=RefundMethod.choices,
        initial=RefundMethod.ORIGINAL,
        widget=forms.RadioSelect,
    )
    accept_late = forms.BooleanField(
        label=_("accept after the return window (faulty goods only)"),
        required=False,
        help_text=_("A store manager's decision; it is recorded on the return."),
    )

    def __init__(
        self, *args, lines: list[OrderLine], locations, can_accept_late: bool, refund_to_points: bool, **kwargs
    ):
        super().__init__(*args, **kwargs)
        self.lines = [line for line in lines if line.kept_quantity > 0]
        self.fields["location"].queryset = locations
        if not can_accept_late:
            del self.fields["accept_late"]
        if not refund_to_points:
            self.fields["refund_method"].choices = [(RefundMethod.ORIGINAL, RefundMethod.ORIGINAL.label)]
            self.fields["refund_method"].widget = forms.HiddenInput()
        for line in self.lines:
            self.fields[f"quantity_{line.pk}"] = forms.IntegerField(
                label=gettext("%(name)s: how many come back") % {"name": line.name},
                min_value=0,
                max_value=line.kept_quantity,
                initial=0,
                widget=forms.NumberInput(attrs={"min": 0, "max": line.kept_quantity, "class": "vSmallField"}),
            )
            self.fields[f"condition_{line.pk}"] = forms.ChoiceField(
                label=gettext("%(name)s: condition") % {"name": line.name},
                choices=ReturnCondition.choices,
                initial=ReturnCondition.RESELLABLE,
            )

        if self.lines:
            self.fields[f"quantity_{self.lines[0].pk}"].widget.attrs["data-desk-autofocus"] = ""

    @property
    def common_reasons(self):
        return COMMON_REASONS

    def line_rows(self) -> list[tuple[OrderLine, forms.BoundField, forms.BoundField]]:
        """Each returnable line with its quantity and condition fields, for the lines table."""
        return [(line, self[f"quantity_{line.pk}"], self[f"condition_{line.pk}"]) for line in self.lines]

    def other_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in ("location", "reason", "refund_method", "accept_late") if name in self.fields]

    def line_errors(self) -> list[str]:
        """The errors of the lines alone: what the live refund shows while the rest is typed."""
        return [str(e) for name, errors in self.errors.items() if name.startswith("quantity_") for e in errors]

    def clean(self):
        cleaned = super().clean()
        if self.lines and not any(cleaned.get(f"quantity_{line.pk}") for line in self.lines):
            raise ValidationError(_("Choose what comes back: a quantity on at least one line."))
        return cleaned

    def return_lines(self) -> list[ReturnLineInput]:
        return [
            ReturnLineInput(
                line.sku, self.cleaned_data[f"quantity_{line.pk}"], self.cleaned_data[f"condition_{line.pk}"]
            )
            for line in self.lines
            if self.cleaned_data.get(f"quantity_{line.pk}")
        ]


class RefundCompleteForm(forms.Form):
    """How a pending refund was paid back; at the desk, to the card at the terminal or in cash."""

    DESK_PAYOUTS = (RefundPayout.TERMINAL, RefundPayout.CASH)

    payout = forms.ChoiceField(label=_("paid back"), widget=forms.RadioSelect)
    transaction_id = forms.CharField(
        label=_("transaction id"),
        max_length=100,
        required=False,
        help_text=_("From the terminal's refund slip (or the bank's id of the refund)."),
    )
    terminal = forms.CharField(label=_("terminal"), max_length=64, required=False)

    def __init__(self, *args, payouts=DESK_PAYOUTS, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["payout"].choices = [(payout, RefundPayout(payout).label) for payout in payouts]
        self.fields["payout"].initial = payouts[0]

    def focus(self) -> "RefundCompleteForm":
        """The desk puts the cursor in the transaction id: the next thing the cashier types."""
        self.fields["transaction_id"].widget.attrs["data-desk-autofocus"] = ""
        return self

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("payout") == RefundPayout.TERMINAL and not cleaned.get("transaction_id", "").strip():
            self.add_error("transaction_id", _("Enter the transaction id from the terminal's refund slip."))
        return cleaned
