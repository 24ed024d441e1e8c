"""EAN-13: product barcodes and loyalty card numbers."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from omni.core.validators import validate_identifier

_ASCII_DIGITS = frozenset("0123456789")


def ean13_check_digit(first12: str) -> int:
    total = sum(int(digit) * (3 if index % 2 else 1) for index, digit in enumerate(first12))
    return (10 - total % 10) % 10


def is_valid_ean13(code: str) -> bool:
    # ASCII digits only: str.isdigit() also accepts full-width, Arabic-Indic and superscript digits.
    return len(code) == 13 and set(code) <= _ASCII_DIGITS and ean13_check_digit(code[:12]) == int(code[12])


def validate_ean13(code: str) -> None:
    validate_identifier(code)
    if not is_valid_ean13(code):
        raise ValidationError(
            _("%(code)s is not a valid EAN-13: 13 digits with a correct check digit."),
            code="invalid_ean13",
            params={"code": code},
        )


def ean13_from_typed(text: str) -> str:
    """An EAN-13 as people type it, in groups: ``4600 0000 0123 1`` or ``4600-0000-01231``.

    Spaces and hyphens between the digits are dropped; an invisible or control character is
    refused (ValidationError), not dropped, as is anything that is not then a valid EAN-13.
    """
    text = str(text or "").strip()
    validate_identifier(text)
    code = "".join(char for char in text if not char.isspace() and char != "-")
    validate_ean13(code)
    return code
