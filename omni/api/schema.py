"""OpenAPI pieces shared by every endpoint: the error envelope and its responses."""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable machine-readable code, for example `insufficient_stock`.")
    message = serializers.CharField(help_text="Human-readable message in the request's language.")
    details = serializers.DictField(
        help_text="Structured context. For `invalid`: `fields` maps each field to its errors."
    )


class ErrorEnvelopeSerializer(serializers.Serializer):
    error = ErrorSerializer()


_DESCRIPTIONS = {
    400: "Invalid input (`invalid`, `parse_error`): nothing was changed.",
    401: "No or unknown API key (`not_authenticated`, `authentication_failed`).",
    403: "The key lacks the scope this operation needs (`permission_denied`).",
    404: "Not found (`not_found`).",
    409: "The current state forbids the operation; `code` says which rule.",
    422: "The idempotency key was already used with another request (`idempotency_conflict`).",
}


def error_responses(*statuses: int, **descriptions: str) -> dict[int, OpenApiResponse]:
    """``responses=`` entries for the given error statuses; auth errors are always included."""
    wanted = sorted({401, 403, *statuses})
    return {
        code: OpenApiResponse(ErrorEnvelopeSerializer, description=descriptions.get(f"e{code}", _DESCRIPTIONS[code]))
        for code in wanted
    }


IDEMPOTENCY_KEY_HEADER = OpenApiParameter(
    name="Idempotency-Key",
    location=OpenApiParameter.HEADER,
    required=False,
    description="A retry with the same key and body returns the first result and changes nothing.",
)
