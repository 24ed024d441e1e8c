"""``Idempotency-Key`` for POSTs that create orders, returns and redemptions.

A retry with the same key and body returns the first response and changes nothing; the same key
with another body is refused with 422. The key row is inserted at the start of the request's
transaction (``ON CONFLICT DO NOTHING``, no savepoint): a second identical request racing the
first waits on the unique index until the first commits, then replays its response; if the first
fails, nothing was stored and the second runs on its own.

A view that must do something outside that transaction (checking a one-time code, whose failed
attempts must stay counted) asks ``idempotent_replay`` first, so that a retry replays instead
of doing it again.
"""

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.response import Response

from omni.core.db import all_or_nothing, prepared_cursor
from omni.core.errors import IdempotencyConflict, InvalidInput
from omni.core.models import ApiKey, IdempotencyKey

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


def _owner(request) -> str:
    if isinstance(request.auth, ApiKey):
        return f"api_key:{request.auth.pk}"
    return f"user:{request.user.pk}"


def _fingerprint(request) -> str:
    body = json.dumps(request.data, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def _key(request) -> str:
    key = request.headers.get(HEADER, "").strip()
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidInput.for_field(
            HEADER, _("An idempotency key has at most %(max)d characters.") % {"max": MAX_KEY_LENGTH}
        )
    return key


def idempotent_replay(request) -> Response | None:
    """The stored response when this request repeats an earlier one with its key, else None."""
    key = _key(request)
    record = IdempotencyKey.objects.filter(owner=_owner(request), key=key).first() if key else None
    return None if record is None else _replay(record, _fingerprint(request))


def idempotent(request, compute: Callable[[], Response]) -> Response:
    """Run ``compute`` once per (client, Idempotency-Key); without the header, just run it."""
    key = _key(request)
    if not key:
        return compute()
    owner, fingerprint = _owner(request), _fingerprint(request)
    with all_or_nothing():
        record_id = _claim(owner, key, fingerprint, request)
        if record_id is None:
            return _replay(IdempotencyKey.objects.get(owner=owner, key=key), fingerprint)
        response = compute()
        _store(record_id, response)
    return response


def _claim(owner: str, key: str, fingerprint: str, request) -> int | None:
    """Insert the key row; None when the key is already there. ``ON CONFLICT DO NOTHING`` waits
    for a concurrent request inserting the same key to commit or roll back, as a plain insert
    would, but needs no savepoint to survive the conflict."""
    table = IdempotencyKey._meta.db_table
    created_at = IdempotencyKey._meta.get_field("created_at").get_db_prep_value(timezone.now(), connection)
    with prepared_cursor() as cursor:
        cursor.execute(
            f'INSERT INTO "{table}" ("owner", "key", "fingerprint", "method", "path", "created_at") '
            'VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT ("owner", "key") DO NOTHING RETURNING "id"',
            [owner, key, fingerprint, request.method, request.path[:255], created_at],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def _store(record_id: int, response: Response) -> None:
    """Keep the response for a replay: its data encoded once (through the ORM it was encoded,
    decoded to JSON values and encoded again), in an UPDATE built without the ORM. It runs last in
    the request's transaction, while the rows it wrote are still locked (an order's stock)."""
    table = IdempotencyKey._meta.db_table
    body = "CAST(%s AS jsonb)" if connection.vendor == "postgresql" else "%s"
    with prepared_cursor() as cursor:
        cursor.execute(
            f'UPDATE "{table}" SET "response_status" = %s, "response_body" = {body} WHERE "id" = %s',
            [response.status_code, json.dumps(response.data, default=str), record_id],
        )


def _replay(record: IdempotencyKey, fingerprint: str) -> Response:
    if record.fingerprint != fingerprint:
        raise IdempotencyConflict(details={"idempotency_key": record.key})
    return Response(record.response_body, status=record.response_status, headers={"Idempotent-Replayed": "true"})


def idempotency_keys_forget(*, older_than: timedelta | None = None) -> int:
    """Delete keys past their retention (``IDEMPOTENCY_KEY_TTL_HOURS``, at least a day)."""
    older_than = older_than or timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)
    deleted, _by_model = IdempotencyKey.objects.filter(created_at__lt=timezone.now() - older_than).delete()
    return deleted
