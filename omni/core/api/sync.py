"""Incremental sync: a cursor over (a change time, the primary key) for the API's lists.

A list whose view uses ``omni.core.api.pagination.SyncPagination`` answers page by page as before,
unless the request names ``updated_since`` or ``cursor``: then it answers the rows changed since,
oldest change first, and a cursor to resume from. Why the rows stop at ``until`` (the safety
window) is in docs/design.md, "Incremental sync".
"""

import base64
import binascii
import datetime
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ValidationError

from omni.core import dates

UPDATED_SINCE = "updated_since"
CURSOR = "cursor"
_MAX_ID = 2**63 - 1


@dataclass(frozen=True)
class SyncPosition:
    """The last row a client has seen: the next page starts right after it."""

    changed_at: datetime.datetime
    pk: int

    def encode(self) -> str:
        raw = f"{self.changed_at.astimezone(datetime.UTC).isoformat()}|{self.pk}"
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> "SyncPosition":
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
            moment, pk = raw.split("|")
            changed_at = datetime.datetime.fromisoformat(moment)
            position = cls(changed_at=changed_at, pk=int(pk))
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise _invalid(CURSOR, _("This cursor was not given by Omni; start again from updated_since.")) from None
        if changed_at.tzinfo is None or not 0 <= position.pk <= _MAX_ID or not _in_calendar(changed_at):
            raise _invalid(CURSOR, _("This cursor was not given by Omni; start again from updated_since."))
        return position


def _in_calendar(moment: datetime.datetime) -> bool:
    try:
        dates.validate_in_calendar(moment)
    except DjangoValidationError:
        return False
    return True


def _invalid(field: str, message) -> ValidationError:
    return ValidationError({field: [message]})


def is_sync_request(request) -> bool:
    """Whether the client asked for changes (cursor mode) rather than pages."""
    params = request.query_params
    return UPDATED_SINCE in params or CURSOR in params


def safety_window() -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.SYNC_SAFETY_WINDOW_SECONDS)


def start_position(request) -> SyncPosition:
    """Where the request starts: after its cursor, or at its ``updated_since`` (included)."""
    params = request.query_params
    if UPDATED_SINCE in params and CURSOR in params:
        raise _invalid(CURSOR, _("Give either updated_since or cursor, not both."))
    if CURSOR in params:
        return SyncPosition.decode(params[CURSOR])
    field = dates.IsoDateTimeFormField()
    try:
        since = field.clean(params[UPDATED_SINCE])
    except DjangoValidationError as error:
        raise _invalid(UPDATED_SINCE, error.messages[0]) from None
    if since is None:
        raise _invalid(UPDATED_SINCE, _("Enter a date and time (ISO 8601), for example 2026-05-01T10:00:00Z."))
    # Position "just before every row changed at ``since``": primary keys start at 1.
    return SyncPosition(changed_at=since, pk=0)


def rows_after(queryset: QuerySet, position: SyncPosition, *, field: str, until: datetime.datetime) -> QuerySet:
    """Rows changed after ``position`` and at or before ``until``, in (change time, id) order."""
    after = Q(**{f"{field}__gt": position.changed_at}) | Q(pk__gt=position.pk)
    # The range on the field alone lets the (field, id) index start at the position.
    bounds = {f"{field}__gte": position.changed_at, f"{field}__lte": until}
    return queryset.filter(after, **bounds).order_by(field, "pk")


def sync_until() -> datetime.datetime:
    """The newest change a sync answer may include: now less the safety window."""
    return timezone.now() - safety_window()
