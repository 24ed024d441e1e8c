"""The till's form: the whole sale in progress lives in the form itself.

Each action (a scan, a +/−, picking a customer, "Sell") posts the form with one hidden ``sku`` and
``qty`` input per line and gets the till back re-rendered: nothing is kept in the session, so two
tabs or a reload never see a stale sale. The form parses and edits that state; whether the sale
may be made (stock, promo code, points, code, payment) is the services' answer, shown next to the
field it concerns (``error_field``).
"""

from dataclasses import dataclass
from decimal import Decimal

from django import forms
from django.utils.formats import number_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from customers.models import Customer
from customers.selectors import customer_search
from inventory.forms import domain_error_messages
from inventory.models import Location, Product
from omni.core.channels import Channel
from omni.core.errors import DomainError
from omni.core.money import money
from orders.models import Fulfilment, PaymentMethod
from orders.selectors import desk_products, product_by_code
from orders.services import LineInput, PaymentInput

MAX_QUANTITY = 999
ZERO = Decimal("0.00")

PAY_CARD, PAY_CASH, PAY_SPLIT, PAY_SBP = "card", "cash", "split", "sbp"
PAYMENT_CHOICES = [
    (PAY_CARD, _("card")),
    (PAY_CASH, _("cash")),
    (PAY_SPLIT, _("cash + card")),
    (PAY_SBP, _("SBP")),
]

# Which field of the till a service's refusal belongs next to, by its code.
_ERROR_FIELDS = {
    "otp_code": {"code_required", "invalid_code", "code_expired", "too_many_codes"},
    "points": {"not_enough_points", "exceeds_order_share", "invalid_points", "no_account", "account_closed"},
    "lines": {"insufficient_stock", "unknown_sku", "invalid_quantity", "invalid_order"},
    "payment": {"payment_mismatch", "overpayment"},
    "location": {"invalid_location"},
    "customer_query": {"no_reachable_channel"},
}


def error_field(exc: DomainError) -> str:
    """The till field a refusal is shown next to; "" for the top of the till."""
    if exc.code.startswith("promo"):
        return "promo_code"
    for name, codes in _ERROR_FIELDS.items():
        if exc.code in codes:
            return name
    field = str((exc.details or {}).get("field", ""))
    if field.startswith("lines"):
        return "lines"
    if field.startswith("payments"):
        return "payment"
    return field if field in ("points", "location", "promo_code") else ""


@dataclass
class TillLine:
    product: Product
    quantity: int

    @property
    def amount(self) -> Decimal:
        return money(self.product.price * self.quantity)


def _quantity(text: str) -> int:
    try:
        return min(max(int(text), 1), MAX_QUANTITY)
    except (TypeError, ValueError):
        return 1


class TillForm(forms.Form):
    """A sale in progress: the store, the lines, the customer, promo code, points and payment."""

    location = forms.ModelChoiceField(
        label=_("store"), queryset=Location.objects.none(), empty_label=_("choose the store")
    )
    scan = forms.CharField(label=_("scan or search"), max_length=100, required=False)
    customer = forms.IntegerField(required=False, widget=forms.HiddenInput)
    customer_query = forms.CharField(label=_("find the customer"), max_length=100, required=False)
    promo_code = forms.CharField(label=_("promo code"), max_length=32, required=False)
    points = forms.IntegerField(label=_("points to spend"), min_value=0, max_value=10**9, required=False)
    otp_code = forms.CharField(label=_("one-time code"), max_length=12, required=False)
    payment = forms.ChoiceField(label=_("payment"), choices=PAYMENT_CHOICES, initial=PAY_CARD, widget=forms.RadioSelect)
    cash_amount = forms.DecimalField(
        label=_("in cash"), max_digits=12, decimal_places=2, min_value=Decimal("0.01"), required=False
    )
    tendered = forms.DecimalField(
        label=_("cash given"), max_digits=12, decimal_places=2, min_value=Decimal("0"), required=False
    )
    terminal = forms.CharField(label=_("terminal"), max_length=64, required=False)
    transaction_id = forms.CharField(label=_("transaction id"), max_length=100, required=False)

    def __init__(self, data=None, *, stores):
        self.stores = list(stores)
        initial = {"location": self.stores[0].pk} if len(self.stores) == 1 else {}
        super().__init__(data.copy() if data is not None else None, initial=initial)
        self.fields["location"].queryset = Location.objects.filter(pk__in=[s.pk for s in self.stores])
        if len(self.stores) == 1:
            self.fields["location"].widget = forms.HiddenInput()
        self.line_errors: list[str] = []
        self.lines = self._posted_lines()
        self.chosen_customer: Customer | None = None
        self.code_sent = False

    @property
    def single_store(self) -> Location | None:
        return self.stores[0] if len(self.stores) == 1 else None

    def _posted_lines(self) -> list[TillLine]:
        if not self.is_bound:
            return []
        wanted: dict[str, int] = {}
        for sku, quantity in zip(self.data.getlist("sku"), self.data.getlist("qty"), strict=False):
            wanted[sku] = min(wanted.get(sku, 0) + _quantity(quantity), MAX_QUANTITY)
        products = {p.sku: p for p in Product.objects.filter(sku__in=list(wanted)[:200], is_active=True)}
        for sku in wanted:
            if sku not in products:
                self.line_errors.append(gettext("%(sku)s is no longer sold; the line is removed.") % {"sku": sku})
        return [TillLine(products[sku], quantity) for sku, quantity in wanted.items() if sku in products]

    def clean_customer(self) -> Customer | None:
        pk = self.cleaned_data.get("customer")
        return Customer.objects.active().filter(pk=pk).first() if pk else None

    def clean(self):
        cleaned = super().clean()
        self.chosen_customer = cleaned.get("customer")
        return cleaned

    # --- The actions: each edits the posted state, then the till is computed again. ---

    def scan_code(self) -> None:
        """A scanned or typed code adds its product (a second scan adds one more), as does a
        name only one product has."""
        code = self.data.get("scan", "").strip()
        if not code:
            return
        product = product_by_code(code)
        if product is None:
            found = desk_products(code, None, limit=2)  # a name typed and Enter: the only product named so
            product = found[0] if len(found) == 1 else None
        if product is None:
            self.add_error(
                "scan",
                gettext("No product has the code %(code)s. Type at least two letters of the name to search.")
                % {"code": code[:100]},
            )
            return
        self.data["scan"] = ""
        for line in self.lines:
            if line.product.pk == product.pk:
                line.quantity = min(line.quantity + 1, MAX_QUANTITY)
                return
        self.lines.append(TillLine(product, 1))

    def change_line(self, index: int, delta: int) -> None:
        if 0 <= index < len(self.lines):
            line = self.lines[index]
            line.quantity = min(max(line.quantity + delta, 1), MAX_QUANTITY)

    def remove_line(self, index: int) -> None:
        if 0 <= index < len(self.lines):
            del self.lines[index]

    def find_customer(self) -> None:
        """The customer typed in the search box (without the live results: a plain form post)."""
        text = self.data.get("customer_query", "").strip()
        if self.chosen_customer is not None or not text:
            return
        found = list(Customer.objects.active().filter(customer_search(text))[:2])
        if not found:
            self.add_error("customer_query", gettext("No customer has this phone, card, e-mail or name."))
        elif len(found) > 1:
            self.add_error("customer_query", gettext("Several customers match: type more digits or pick one."))
        else:
            self.set_customer(found[0])

    def check_no_customer_pending(self) -> None:
        """On "Sell": a customer typed but not picked would change the sale; ask to pick or clear."""
        if self.data.get("customer_query", "").strip():
            self.add_error("customer_query", gettext("Pick the customer from the list, or empty the box."))

    def check_total(self, total: Decimal) -> bool:
        """On "Sell": the total is the one the cashier saw (prices or stock may have changed since)."""
        if self.data.get("shown_total", "") == str(total):
            return True
        shown = number_format(total, 2, force_grouping=True)
        text = gettext("The total is now %(total)s: check the receipt and sell again.")
        self.add_error(None, text % {"total": shown})
        return False

    def set_customer(self, customer: Customer | None) -> None:
        self.chosen_customer = customer
        self.data["customer"] = str(customer.pk) if customer else ""
        self.data["customer_query"] = ""
        if customer is None:
            self.data["points"] = ""
            self.data["otp_code"] = ""

    def forget(self, name: str) -> None:
        """Clear a field in the re-rendered till (a wrong one-time code is typed again, not resent)."""
        self.data[name] = ""

    def add_domain_error(self, exc: DomainError) -> str:
        """Show a service's refusal next to the field it concerns; returns that field's name."""
        name = error_field(exc)
        text = " ".join(domain_error_messages(exc))
        if name == "lines":
            self.line_errors.append(text)
        elif name in self.fields:
            self.add_error(name, text)
        else:
            self.add_error(None, text)
        return name

    def blocks_the_sale(self) -> bool:
        """Something marked stops the sale (a code that found nothing does not: the rest can be sold)."""
        return bool(self.line_errors) or any(name != "scan" for name in self.errors)

    # --- What the services get. ---

    def value(self, name: str, default=None):
        return self.cleaned_data.get(name, default) if hasattr(self, "cleaned_data") else default

    def order_input(self, payments: list[PaymentInput]) -> dict:
        return {
            "channel": Channel.STORE,
            "fulfilment": Fulfilment.IN_STORE,
            "location": self.value("location"),
            "customer": self.chosen_customer,
            "lines": [LineInput(line.product.sku, line.quantity) for line in self.lines],
            "promo_code": self.value("promo_code", "") or "",
            "points": (self.value("points") or 0) if self.chosen_customer else 0,
            "otp_code": self.value("otp_code", "") or "",
            "payments": payments,
        }

    def payments(self, total: Decimal) -> list[PaymentInput]:
        """How the total is paid; empty when nothing is due (all paid by points and discounts)."""
        if total <= 0:
            return []
        method = self.value("payment") or PAY_CARD
        card = PaymentInput(
            method=PaymentMethod.CARD_IN_STORE,
            terminal=self.value("terminal", "") or "",
            transaction_id=self.value("transaction_id", "") or "",
        )
        if method == PAY_CASH:
            return [PaymentInput(method=PaymentMethod.CASH)]
        if method == PAY_SBP:
            return [PaymentInput(method=PaymentMethod.SBP, transaction_id=self.value("transaction_id", "") or "")]
        if method == PAY_SPLIT:
            return [PaymentInput(method=PaymentMethod.CASH, amount=self.value("cash_amount")), card]
        return [card]

    def check_payment(self, total: Decimal) -> bool:
        """What the cashier typed for the payment fits the total due (else an error next to it)."""
        method = self.value("payment")
        if total <= 0 or method not in (PAY_SPLIT, PAY_CASH):
            return True
        if method == PAY_SPLIT:
            cash = self.value("cash_amount")
            if cash is None:
                self.add_error("cash_amount", gettext("Enter the part paid in cash."))
                return False
            if cash >= total:
                self.add_error("cash_amount", gettext("The cash part must be less than the total due; choose cash."))
                return False
        tendered = self.value("tendered")
        if method == PAY_CASH and tendered is not None and tendered < total:
            self.add_error("tendered", gettext("Less than the total due."))
            return False
        return True

    def change_due(self, total: Decimal) -> Decimal | None:
        tendered = self.value("tendered")
        if self.value("payment") == PAY_CASH and tendered is not None and tendered >= total:
            return money(tendered - total)
        return None

    def card_part(self, total: Decimal) -> Decimal | None:
        cash = self.value("cash_amount")
        if self.value("payment") == PAY_SPLIT and cash is not None and cash < total:
            return money(total - cash)
        return None
