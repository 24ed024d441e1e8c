"""The API's JSON parser: what it accepts is bounded before any view sees it."""

from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError

# No request of the API nests deeper than a few levels; a bound keeps every later walk over the
# data (validation, the idempotency fingerprint) far from Python's recursion limit.
MAX_DEPTH = 32


def _check(data) -> None:
    """Refuse data nested deeper than ``MAX_DEPTH`` or holding a NUL character (which no text column stores)."""
    pending = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str):
            if "\x00" in value:
                raise ParseError(_("JSON strings cannot contain the NUL character."))
        elif isinstance(value, dict | list):
            if depth > MAX_DEPTH:
                raise ParseError(_("JSON nested deeper than %(depth)d levels is not accepted.") % {"depth": MAX_DEPTH})
            items = value.items() if isinstance(value, dict) else ((None, item) for item in value)
            for key, item in items:
                pending.append((item, depth + 1))
                if key is not None:
                    pending.append((key, depth + 1))


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(
                _("JSON nested deeper than %(depth)d levels is not accepted.") % {"depth": MAX_DEPTH}
            ) from None
        _check(data)
        return data
