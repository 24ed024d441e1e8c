import re

from django.db import IntegrityError, ProgrammingError, connection, transaction
from django.utils.translation import gettext as _

from omni.core.errors import InvalidInput
from omni.core.models import ApiKey, NumberSequence
from omni.core.scopes import Scope


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
    """The next value of a named counter (order, transfer and document numbers).

    Unique under any concurrency and never blocking: on PostgreSQL a native sequence, whose
    ``nextval`` neither waits for nor is undone by other transactions, so numbers are never
    repeated but a rolled-back caller leaves a gap. SQLite, which runs one writer at a time,
    counts in a table.
    """
    if connection.vendor == "postgresql":
        return _postgres_sequence_next(name)
    return _table_sequence_next(name)


def sequence_next_created(name: str) -> int:
    """``sequence_next`` for a counter whose PostgreSQL sequence a migration created (order
    numbers): one ``nextval``, with no savepoint to catch a missing sequence."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT nextval(%s)", [sequence_name(name)])
            return cursor.fetchone()[0]
    return _table_sequence_next(name)


def sequence_name(name: str) -> str:
    """The PostgreSQL sequence behind the counter ``name``."""
    return "omni_seq_" + re.sub(r"[^a-z0-9_]", "_", name.lower())[:50]


def _table_sequence_next(name: str) -> int:
    table = NumberSequence._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f'INSERT INTO "{table}" ("name", "last_value") VALUES (%s, 1) '
            f'ON CONFLICT ("name") DO UPDATE SET "last_value" = "{table}"."last_value" + 1 RETURNING "last_value"',
            [name],
        )
        return cursor.fetchone()[0]


def _postgres_sequence_next(name: str) -> int:
    sequence = sequence_name(name)
    for _attempt in range(2):
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT nextval(%s)", [sequence])
                return cursor.fetchone()[0]
        except ProgrammingError:  # the sequence does not exist yet
            try:
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.execute(f'CREATE SEQUENCE IF NOT EXISTS "{sequence}"')
            except (IntegrityError, ProgrammingError):
                pass  # created by a concurrent caller in the meantime
    raise RuntimeError(f"Could not create the sequence {sequence}")


def api_key_rotate(*, api_key: ApiKey) -> str:
    """Give an existing key a new secret (the old one is refused within API_KEY_CACHE_SECONDS); return it."""
    raw_key = ApiKey.generate()
    api_key.prefix = raw_key[: ApiKey.PREFIX_LENGTH]
    api_key.hashed_key = ApiKey.hash(raw_key)
    api_key.revoked_at = None
    api_key.save(update_fields=["prefix", "hashed_key", "revoked_at", "updated_at"])
    return raw_key
