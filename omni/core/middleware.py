"""Middleware that guards every page, the admin's and the API's alike."""

import logging
from urllib.parse import unquote

from django.core.exceptions import SuspiciousOperation
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string

from omni.core.api.exceptions import unavailable_body
from omni.core.availability import RETRY_AFTER_SECONDS, unavailable_component

logger = logging.getLogger(__name__)


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


class ServiceUnavailableMiddleware:
    """A view outside the API's own handling (the admin, a page) that fails because the database
    or broker cannot be reached answers 503 with ``Retry-After``: a page for people, the error
    shape under ``/api/``. Any other exception is left to Django's 500 handling."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        component = unavailable_component(exception)
        if component is None:
            return None
        logger.error("The %s cannot be reached: %s", component, exception)
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
        if request.path.startswith("/api/"):
            return JsonResponse(unavailable_body(), status=503, headers=headers)
        # Rendered without the request: its context processors would need the database.
        return HttpResponse(render_to_string("503.html"), status=503, headers=headers)
