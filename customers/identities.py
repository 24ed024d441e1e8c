"""Normalisation of identities: the one form each is stored, looked up and compared in.

Phones become E.164 (``+79161234567``) with ``CUSTOMERS_PHONE_REGION`` (default RU) for numbers
written without a country code, so "8 (916) 123-45-67", "+7 916 123 45 67" and "9161234567" are
one phone. E-mails are trimmed and lower-cased. Card numbers lose spaces and dashes. External ids
keep their value as given, under a lower-case system name (``shop``, ``telegram``).

``match_key`` is a looser form used only to list probable duplicates for staff: the national
number of a phone, an e-mail without ``+tags`` and, for providers that ignore them, without dots.
"""

import re
from dataclasses import dataclass

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator

from customers.errors import InvalidCard, InvalidEmail, InvalidExternalId, InvalidPhone
from customers.models import IdentityKind
from omni.core.validators import validate_identifier

_CARD_SEPARATORS = re.compile(r"[\s\-]+")
_CARD = re.compile(r"^[A-Z0-9]{4,32}$")
_SYSTEM = re.compile(r"^[a-z0-9][a-z0-9_.\-]{0,31}$")
_email_validator = EmailValidator()

# Providers that deliver "i.van+shop@gmail.com" to "ivan@gmail.com".
_DOTLESS_DOMAINS = {"gmail.com": "gmail.com", "googlemail.com": "gmail.com"}
_YANDEX_DOMAINS = {"yandex.ru", "ya.ru", "yandex.com", "yandex.by", "yandex.kz", "yandex.ua"}


@dataclass(frozen=True)
class IdentityKey:
    """A normalised identity: what is unique across customers."""

    kind: str
    value: str
    system: str = ""

    @property
    def match_key(self) -> str:
        return match_key(self.kind, self.value)

    def as_dict(self) -> dict:
        data = {"kind": self.kind, "value": self.value}
        if self.system:
            data["system"] = self.system
        return data


def normalize_phone(raw: str, *, field: str = "phone", region: str | None = None) -> str:
    text = str(raw or "").strip()
    if not text:
        raise InvalidPhone(field=field)
    try:
        number = phonenumbers.parse(text, region or settings.CUSTOMERS_PHONE_REGION)
    except phonenumbers.NumberParseException:
        raise InvalidPhone(field=field, details={"value": text})
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone(field=field, details={"value": text})
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_email(raw: str, *, field: str = "email") -> str:
    text = str(raw or "").strip().lower()
    try:
        _email_validator(text)
    except ValidationError:
        raise InvalidEmail(field=field, details={"value": str(raw or "")[:254]})
    if len(text) > 254:
        raise InvalidEmail(field=field)
    return text


def normalize_card(raw: str, *, field: str = "card") -> str:
    text = str(raw or "").strip()
    try:
        # Spaces and dashes between groups are dropped; an invisible character is refused, not dropped.
        validate_identifier(text)
    except ValidationError as error:
        raise InvalidCard(error.messages[0], field=field)
    text = _CARD_SEPARATORS.sub("", text).upper()
    if not _CARD.match(text):
        raise InvalidCard(field=field, details={"value": str(raw or "")[:64]})
    return text


def normalize_system(raw: str, *, field: str = "system") -> str:
    text = str(raw or "").strip().lower()
    if not _SYSTEM.match(text):
        raise InvalidExternalId(field=field, details={"value": str(raw or "")[:64]})
    return text


def normalize_external_id(raw: str, *, field: str = "external_id") -> str:
    text = str(raw or "").strip()
    if not text or len(text) > 200:
        raise InvalidExternalId(field=field, details={"value": text[:64]})
    return text


def identity_key(kind: str, value: str, *, system: str = "", field: str | None = None) -> IdentityKey:
    """Normalise one identity; raise the ``InvalidIdentity`` naming ``field`` when it is not valid."""
    field = field or kind
    if kind == IdentityKind.PHONE:
        return IdentityKey(kind, normalize_phone(value, field=field))
    if kind == IdentityKind.EMAIL:
        return IdentityKey(kind, normalize_email(value, field=field))
    if kind == IdentityKind.CARD:
        return IdentityKey(kind, normalize_card(value, field=field))
    if kind == IdentityKind.EXTERNAL_ID:
        return IdentityKey(
            kind, normalize_external_id(value, field=field), normalize_system(system, field=f"{field}.system")
        )
    raise InvalidExternalId(field="kind", details={"value": str(kind)[:32]})


def match_key(kind: str, value: str) -> str:
    if kind == IdentityKind.PHONE:
        try:
            return str(phonenumbers.parse(value, None).national_number)
        except phonenumbers.NumberParseException:
            return value
    if kind == IdentityKind.EMAIL:
        local, _at, domain = value.rpartition("@")
        local = local.split("+", 1)[0]
        if domain in _DOTLESS_DOMAINS:
            local, domain = local.replace(".", ""), _DOTLESS_DOMAINS[domain]
        elif domain in _YANDEX_DOMAINS:
            local, domain = local.replace(".", "-"), "yandex.ru"
        return f"{local}@{domain}"
    return ""


def identity_label(kind: str, value: str) -> str:
    """A phone as people read it (+7 916 100-00-02); other identities as stored."""
    if kind == IdentityKind.PHONE:
        try:
            return phonenumbers.format_number(
                phonenumbers.parse(value, None), phonenumbers.PhoneNumberFormat.INTERNATIONAL
            )
        except phonenumbers.NumberParseException:
            return value
    return value
