"""One shape for every API error: ``{"error": {"code", "message", "details"}}``."""

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from omni.core.availability import RETRY_AFTER_SECONDS, unavailable_component
from omni.core.errors import DomainError

logger = logging.getLogger(__name__)


def error_body(code: str, message: str, details: dict | None = None) -> dict:
    return {"error": {"code": code, "message": str(message), "details": details or {}}}


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"
    default_detail = gettext_lazy("The request body is too large.")


def exception_handler(exc, context):
    if (component := unavailable_component(exc)) is not None:
        return api_unavailable(exc, component)
    if isinstance(exc, DomainError):
        set_rollback()
        return Response(error_body(exc.code, exc.message, exc.details), status=exc.status)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        exc = RequestTooLarge()
    if not isinstance(exc, exceptions.APIException):
        return None  # a bug: Django's 500 handler logs it

    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))

    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        body = error_body("invalid", _("Invalid input."), {"fields": detail})
    else:
        details = {"retry_after": int(exc.wait)} if isinstance(exc, exceptions.Throttled) and exc.wait else {}
        codes = exc.get_codes()
        body = error_body(codes if isinstance(codes, str) else exc.default_code, exc.detail, details)
    set_rollback()
    return Response(body, status=exc.status_code, headers=headers)


def unavailable_body() -> dict:
    return error_body(
        "unavailable",
        _("The service is briefly unavailable. Try again in a few seconds."),
        {"retry_after": RETRY_AFTER_SECONDS},
    )


def api_unavailable(exc: Exception, component: str) -> Response:
    """503 for a database or broker that cannot be reached (``omni.core.availability``); the client
    retries after ``Retry-After``, safely with the same ``Idempotency-Key``."""
    logger.error("The %s cannot be reached: %s", component, exc)
    set_rollback()
    return Response(
        unavailable_body(),
        status=status.HTTP_503_SERVICE_UNAVAILABLE,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def api_bad_request(request, exception=None):
    """What Django refuses before a view runs (a NUL in the address, a body over the limit)."""
    if isinstance(exception, RequestDataTooBig):
        return JsonResponse(error_body(RequestTooLarge.default_code, RequestTooLarge.default_detail), status=413)
    return JsonResponse(error_body("bad_request", _("The request is malformed.")), status=status.HTTP_400_BAD_REQUEST)


def api_not_found(request, exception=None):
    return JsonResponse(error_body("not_found", _("Not found.")), status=status.HTTP_404_NOT_FOUND)


def api_server_error(request):
    return JsonResponse(
        error_body("server_error", _("The server failed to process the request.")),
        status=status.HTTP_500_INTERNAL_SERVER_ERROR,
    )
