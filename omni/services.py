from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from omni.errors import InvalidInput
from omni.models import ApiKey, NumberSequence
from omni.scopes import Scope


def api_key_create(*, name: str, scopes: list[str]) -> tuple[ApiKey, str]:
    """Create a key for an integration; return it with the raw key, which is never stored."""
    name = name.strip()
    unknown = sorted(set(scopes) - set(Scope.values))
    if unknown:
        raise InvalidInput(
            _("Unknown scopes: %(scopes)s.") % {"scopes": ", ".join(unknown)},
            details={"unknown_scopes": unknown, "known_scopes": list(Scope.values)},
        )
    if not name:
        raise InvalidInput(_("An API key needs a name."))
    if ApiKey.objects.filter(name=name).exists():
        raise InvalidInput(_("An API key named %(name)s already exists.") % {"name": name})
    raw_key = ApiKey.generate()
    with transaction.atomic():
        api_key = ApiKey.objects.create(
            name=name,
            prefix=raw_key[: ApiKey.PREFIX_LENGTH],
            hashed_key=ApiKey.hash(raw_key),
            scopes=sorted(set(scopes)),
        )
    return api_key, raw_key


def sequence_next(name: str) -> int:
    """The next value of a named counter, unique under any concurrency.

    The row stays locked until the caller's transaction ends, so numbers are handed out in
    commit order and a rolled-back caller gives its number back.
    """
    with transaction.atomic():
        NumberSequence.objects.bulk_create([NumberSequence(name=name)], ignore_conflicts=True)
        NumberSequence.objects.filter(name=name).update(last_value=F("last_value") + 1)
        return NumberSequence.objects.values_list("last_value", flat=True).get(name=name)


def api_key_rotate(*, api_key: ApiKey) -> str:
    """Give an existing key a new secret (the old one stops working at once); return it."""
    raw_key = ApiKey.generate()
    api_key.prefix = raw_key[: ApiKey.PREFIX_LENGTH]
    api_key.hashed_key = ApiKey.hash(raw_key)
    api_key.revoked_at = None
    api_key.save(update_fields=["prefix", "hashed_key", "revoked_at", "updated_at"])
    return raw_key
