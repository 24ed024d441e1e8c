import pytest
from django.test import override_settings

from customers.errors import InvalidCard, InvalidEmail, InvalidExternalId, InvalidPhone
from customers.identities import (
    IdentityKey,
    identity_key,
    match_key,
    normalize_card,
    normalize_email,
    normalize_phone,
)


@pytest.mark.parametrize(
    "raw",
    ["8 (916) 123-45-67", "+7 916 123 45 67", "9161234567", "89161234567", "+7(916)1234567", " 7 916 123-45-67 "],
)
def test_phone_variants_are_one_phone(raw):
    assert normalize_phone(raw) == "+79161234567"


@pytest.mark.parametrize("raw", ["", "   ", "123", "abc", "+7916123456789", "8 (000) 000-00-00", None])
def test_invalid_phone_names_the_field(raw):
    with pytest.raises(InvalidPhone) as error:
        normalize_phone(raw, field="phone")
    assert error.value.code == "invalid_phone"
    assert error.value.status == 400
    assert error.value.details["field"] == "phone"
    assert "phone" in error.value.details["fields"]


def test_foreign_phone_with_country_code_is_kept():
    assert normalize_phone("+44 20 7946 0958") == "+442079460958"


@override_settings(CUSTOMERS_PHONE_REGION="GB")
def test_default_region_is_configurable():
    assert normalize_phone("020 7946 0958") == "+442079460958"


@pytest.mark.parametrize("raw", ["  Ivan.Petrov@Example.COM ", "ivan.petrov@example.com"])
def test_email_is_trimmed_and_lower_cased(raw):
    assert normalize_email(raw) == "ivan.petrov@example.com"


@pytest.mark.parametrize("raw", ["", "ivan", "ivan@", "@example.com", "ivan petrov@example.com", "a@b"])
def test_invalid_email_names_the_field(raw):
    with pytest.raises(InvalidEmail) as error:
        normalize_email(raw)
    assert error.value.code == "invalid_email"
    assert error.value.details["field"] == "email"


def test_card_loses_spaces_and_dashes():
    assert normalize_card(" 4600 0000-0001 ") == "460000000001"
    with pytest.raises(InvalidCard):
        normalize_card("12")
    with pytest.raises(InvalidCard):
        normalize_card("card #1!")


@pytest.mark.parametrize("char", ["\u2028", "\x1c", "\u200b", "\u202e", "\t"])
def test_card_refuses_invisible_characters_instead_of_dropping_them(char):
    with pytest.raises(InvalidCard) as error:
        normalize_card(f"4600{char}00000001")
    assert error.value.details["fields"]["card"][0].startswith("The character U+")


def test_external_id_needs_a_system():
    assert identity_key("external_id", " 12345 ", system="Telegram") == IdentityKey("external_id", "12345", "telegram")
    with pytest.raises(InvalidExternalId) as error:
        identity_key("external_id", "12345", system="", field="external_id")
    assert error.value.details["field"] == "external_id.system"
    with pytest.raises(InvalidExternalId):
        identity_key("external_id", "  ", system="shop")


def test_match_key_ignores_email_aliases_and_country_codes():
    assert match_key("email", "i.van+shop@googlemail.com") == match_key("email", "ivan@gmail.com")
    assert match_key("email", "ivan.petrov@ya.ru") == match_key("email", "ivan-petrov@yandex.ru")
    assert match_key("email", "i.van@example.com") != match_key("email", "ivan@example.com")
    assert match_key("phone", "+79161234567") == "9161234567"
