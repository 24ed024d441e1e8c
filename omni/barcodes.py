"""EAN-13: product barcodes and loyalty card numbers."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


def ean13_check_digit(first12: str) -> int:
    total = sum(int(digit) * (3 if index % 2 else 1) for index, digit in enumerate(first12))
    return (10 - total % 10) % 10


def is_valid_ean13(code: str) -> bool:
    return len(code) == 13 and code.isdigit() and ean13_check_digit(code[:12]) == int(code[12])


def validate_ean13(code: str) -> None:
    if not is_valid_ean13(code):
        raise ValidationError(
            _("%(code)s is not a valid EAN-13: 13 digits with a correct check digit."),
            code="invalid_ean13",
            params={"code": code},
        )
