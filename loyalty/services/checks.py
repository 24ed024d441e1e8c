"""The plain values the loyalty services take, the checks of those inputs, and the row locks that
come with a check (an account that must be active).

The services the orders app calls take plain values (``CartLine``, an order reference such as
``W-000123``, a channel and a store) and never import orders.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _

from customers.models import Customer
from loyalty import selectors
from loyalty.errors import AccountClosed, InvalidCart, InvalidPoints, InvalidReference, NoAccount
from loyalty.lock_objects import account_for_update
from loyalty.models import Account, AccountStatus
from omni.core.channels import Channel
from omni.core.errors import InvalidInput
from omni.core.money import money

MAX_POINTS = 10**12
MAX_AMOUNT = Decimal("999999999999.99")


@dataclass(frozen=True)
class Cause:
    """What caused an entry, by reference: ``Cause("order", "W-000123")``."""

    type: str
    id: str


@dataclass(frozen=True)
class CartLine:
    """A line of a cart or an order: ``amount`` is the line's total after discounts, before points."""

    product_id: int | None
    category_id: int | None
    quantity: int
    amount: Decimal


@dataclass(frozen=True)
class ReturnLine:
    """Goods returned or cancelled: ``amount`` is what they cost on the order (before points)."""

    product_id: int | None
    quantity: int
    amount: Decimal


def check_points(points, *, field: str = "points", allow_negative: bool = False) -> int:
    """Whole points: a positive int (or a non-zero one with ``allow_negative``); else ``InvalidPoints``."""
    valid = isinstance(points, int) and not isinstance(points, bool)
    if valid and allow_negative:
        valid = points != 0 and abs(points) <= MAX_POINTS
    elif valid:
        valid = 0 < points <= MAX_POINTS
    if not valid:
        raise InvalidPoints(
            details={"field": field, "fields": {field: [str(InvalidPoints.message)]}, "points": repr(points)}
        )
    return points


def check_reference(reference, field: str = "reference") -> str:
    """An order or return reference: 1 to 64 characters once stripped; else ``InvalidReference``."""
    text = str(reference or "").strip()
    if not text or len(text) > 64:
        raise InvalidReference(details={"field": field, "fields": {field: [str(InvalidReference.message)]}})
    return text


def check_channel(channel: str) -> str:
    """One of ``omni.core.channels.Channel``; else ``InvalidInput``."""
    if channel not in Channel.values:
        raise InvalidInput.for_field("channel", _("%(value)s is not a valid channel.") % {"value": channel})
    return channel


def _check_amount(amount, field: str) -> Decimal:
    if isinstance(amount, bool) or not isinstance(amount, (Decimal, int, str)):
        raise InvalidCart.for_field(field, _("An amount is a number with at most two decimal places."))
    try:
        value = Decimal(amount)
    except ArithmeticError:
        raise InvalidCart.for_field(field, _("An amount is a number with at most two decimal places."))
    if not value.is_finite() or value < 0 or value > MAX_AMOUNT or value != money(value):
        raise InvalidCart.for_field(field, _("An amount is zero or more, with at most two decimal places."))
    return value


def cart_total(lines: Sequence[CartLine | ReturnLine]) -> Decimal:
    """Check the lines' shape and return their total."""
    if not lines:
        raise InvalidCart(details={"field": "lines", "fields": {"lines": [str(InvalidCart.message)]}})
    total = Decimal("0.00")
    for index, line in enumerate(lines):
        quantity = line.quantity
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
            raise InvalidCart.for_field(f"lines.{index}.quantity", _("A quantity is a whole number greater than zero."))
        total += _check_amount(line.amount, f"lines.{index}.amount")
    return money(total)


def active_account_for_update(account_id: int) -> Account:
    """Lock the account (inside the caller's transaction); refuse with ``AccountClosed`` unless it is active."""
    return check_account_active(account_for_update(account_id))


def check_account_active(account: Account) -> Account:
    if account.status != AccountStatus.ACTIVE:
        raise AccountClosed(details={"account_id": account.pk, "merged_into": account.merged_into_id})
    return account


def account_required(customer: Customer) -> Account:
    """The customer's account; ``NoAccount`` if they have none."""
    account = selectors.account_of(customer)
    if account is None:
        raise NoAccount(details={"customer_id": customer.pk})
    return account
