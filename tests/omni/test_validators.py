"""The one rule for identifiers: no control or invisible character, named when refused."""

import pytest
from django.core.exceptions import ValidationError

from omni.core.barcodes import ean13_from_typed, is_valid_ean13, validate_ean13
from omni.core.validators import validate_identifier, validate_storable_text
from tests.inventory.factories import ean13

INVISIBLE = {
    "\x00": "U+0000",
    "\t": "U+0009",
    "\x1f": "U+001F",
    "\x85": "U+0085",
    "\u00ad": "U+00AD SOFT HYPHEN",
    "\u200b": "U+200B ZERO WIDTH SPACE",
    "\u200c": "U+200C ZERO WIDTH NON-JOINER",
    "\u200d": "U+200D ZERO WIDTH JOINER",
    "\u200e": "U+200E LEFT-TO-RIGHT MARK",
    "\u202e": "U+202E RIGHT-TO-LEFT OVERRIDE",
    "\u2028": "U+2028 LINE SEPARATOR",
    "\u2029": "U+2029 PARAGRAPH SEPARATOR",
    "\u2060": "U+2060 WORD JOINER",
    "\u2066": "U+2066 LEFT-TO-RIGHT ISOLATE",
    "\ufeff": "U+FEFF ZERO WIDTH NO-BREAK SPACE",
    "\ue000": "U+E000",
    "\ud800": "U+D800",
}

FULL_WIDTH = str.maketrans({digit: chr(0xFF10 + int(digit)) for digit in "0123456789"})


@pytest.mark.parametrize(("char", "described"), INVISIBLE.items())
@pytest.mark.parametrize("where", ["start", "middle", "end"])
def test_an_identifier_refuses_invisible_and_control_characters(char, described, where):
    code = {"start": char + "SHI-1", "middle": "SHI" + char + "-1", "end": "SHI-1" + char}[where]

    with pytest.raises(ValidationError) as error:
        validate_identifier(code)

    assert error.value.code == "invalid_character"
    assert error.value.messages == [
        f"The character {described} is not allowed here: a code may not contain invisible or control characters."
    ]


@pytest.mark.parametrize("code", ["SHI-0001-S", "ЧАЙНИК-1", "4600000000015", "a.b_c+d"])
def test_an_identifier_of_visible_characters_passes(code):
    validate_identifier(code)


def test_stored_text_refuses_only_what_cannot_be_stored():
    validate_storable_text("Чайник\n1,7 л\tбелый \u202e")
    for char in ("\x00", "\ud800"):
        with pytest.raises(ValidationError):
            validate_storable_text(f"Kettle{char}")


@pytest.mark.parametrize(
    "code",
    [
        ean13(20).translate(FULL_WIDTH),  # str.isdigit() and int() take full-width digits
        "\u0664\u0666\u0660" + ean13(20)[3:],  # Arabic-Indic digits
        "\u00b2" * 13,  # superscript digits: isdigit() but int() fails
        ean13(20)[:12] + "\u200b",
    ],
)
def test_an_ean13_is_thirteen_ascii_digits(code):
    assert not is_valid_ean13(code)
    with pytest.raises(ValidationError):
        validate_ean13(code)


def test_an_ean13_typed_in_groups_loses_spaces_and_hyphens_but_not_invisible_characters():
    code = ean13(20)

    assert ean13_from_typed(f" {code[:4]} {code[4:8]}-{code[8:]} ") == code
    for char in ("\u2028", "\x1c", "\u200b", "\t"):
        with pytest.raises(ValidationError) as error:
            ean13_from_typed(code[:4] + char + code[4:])
        assert error.value.code == "invalid_character"
