"""Middleware that guards every page, the admin's and the API's alike."""

from urllib.parse import unquote

from django.core.exceptions import SuspiciousOperation


class NulByteInRequest(SuspiciousOperation):
    """A NUL character in the path or the query string: no text column can store or compare it."""


class RefuseNulBytesMiddleware:
    """Answer 400 (through ``handler400``) before a NUL reaches a URL converter, a form or a query."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path_info or "\x00" in unquote(request.META.get("QUERY_STRING", "")):
            raise NulByteInRequest("A NUL character in the path or the query string.")
        return self.get_response(request)
