"""Characters that identifiers and stored text may not hold.

An identifier (a SKU, a barcode, a loyalty card number, a location or category code) is typed,
printed, scanned and compared character by character. A control or invisible character in it
(NUL, a right-to-left override, a zero-width space, a byte-order mark, a line separator) makes two
codes that look the same differ, or one that looks harmless read differently, so every entry path
refuses it: serializers, admin forms, imports and the services. Whether spaces are allowed is each
identifier's own rule (a SKU has none; a card number may be typed in groups of digits).

Free text may hold any visible character and line breaks, but not what the database cannot store:
NUL (PostgreSQL refuses it) and lone surrogates (not encodable in UTF-8).
"""

import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# Cc control (NUL, tab, escape...), Cf format (U+200B..U+200D, U+2060, U+202A..U+202E, U+FEFF...),
# Cs surrogate, Co private use, Zl line separator, Zp paragraph separator.
INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})


def describe_character(char: str) -> str:
    """``U+202E RIGHT-TO-LEFT OVERRIDE``; control characters have no name, only their code point."""
    name = unicodedata.name(char, "")
    code_point = f"U+{ord(char):04X}"
    return f"{code_point} {name}" if name else code_point


def first_invisible_character(text: str) -> str | None:
    return next((char for char in text if unicodedata.category(char) in INVISIBLE_CATEGORIES), None)


def is_identifier_text(text: str) -> bool:
    """Whether ``text`` could be an identifier at all (a lookup can skip it without a query)."""
    return first_invisible_character(text) is None


def validate_identifier(value: str) -> None:
    """Refuse a control or invisible character in a code, naming the character."""
    char = first_invisible_character(str(value))
    if char is not None:
        raise ValidationError(
            _(
                "The character %(character)s is not allowed here: a code may not contain invisible or "
                "control characters."
            ),
            code="invalid_character",
            params={"character": describe_character(char)},
        )


def validate_storable_text(value: str) -> None:
    """Refuse what no text column can store: NUL and lone surrogates."""
    char = next((char for char in str(value) if char == "\x00" or unicodedata.category(char) == "Cs"), None)
    if char is not None:
        raise ValidationError(
            _("The character %(character)s is not allowed here."),
            code="invalid_character",
            params={"character": describe_character(char)},
        )
