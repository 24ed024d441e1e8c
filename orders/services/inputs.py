"""What callers pass to the order services, and the checks of its shape every area shares."""

from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _

from omni.core.errors import InvalidInput
from orders.models import (
    ReturnCondition,
)

MAX_QUANTITY = 10_000
MAX_LINES = 200


@dataclass(frozen=True)
class LineInput:
    sku: str
    quantity: int


@dataclass(frozen=True)
class PaymentInput:
    """A payment as staff or the POS report it. Without ``amount`` it pays what is left due."""

    method: str
    amount: Decimal | None = None
    transaction_id: str = ""
    terminal: str = ""
    acquiring_bank: str = ""


@dataclass(frozen=True)
class ReturnLineInput:
    sku: str
    quantity: int
    condition: str = ReturnCondition.RESELLABLE


def check_quantity(quantity, field_name: str, *, allow_zero: bool = False) -> int:
    valid = isinstance(quantity, int) and not isinstance(quantity, bool)
    if not valid or quantity < 0 or quantity > MAX_QUANTITY or (quantity == 0 and not allow_zero):
        raise InvalidInput.for_field(
            field_name,
            _("A quantity is a whole number from %(min)d to %(max)d.")
            % {"min": 0 if allow_zero else 1, "max": MAX_QUANTITY},
        )
    return quantity


def check_choice(value, choices, field_name: str) -> str:
    """``value`` if it is one of a ``TextChoices``; else ``InvalidInput``."""
    return check_one_of(value, choices.values, field_name)


def check_one_of(value, values, field_name: str) -> str:
    """``value`` if it is one of ``values``; else ``InvalidInput``."""
    if value not in values:
        raise InvalidInput.for_field(field_name, _("%(value)s is not a valid choice.") % {"value": value})
    return value
