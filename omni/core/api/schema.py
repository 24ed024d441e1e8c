"""OpenAPI pieces shared by every endpoint: the error envelope and its responses, scopes, replays."""

from drf_spectacular import openapi
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from omni.core.api.serializers import StrictInputSerializer


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable machine-readable code, for example `insufficient_stock`.")
    message = serializers.CharField(help_text="Human-readable message in the request's language.")
    details = serializers.DictField(
        help_text="Structured context. For `invalid`: `fields` maps each field to its errors."
    )


class ErrorEnvelopeSerializer(serializers.Serializer):
    error = ErrorSerializer()


_DESCRIPTIONS = {
    400: "Invalid input (`invalid`, `parse_error`, `bad_request`): nothing was changed.",
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


REPLAYED_HEADER = {
    "Idempotent-Replayed": {
        "schema": {"type": "string", "enum": ["true"]},
        "description": "Present when the answer is the stored one of an earlier request with the same Idempotency-Key.",
    }
}


class AutoSchema(openapi.AutoSchema):
    """Adds to each operation what Omni's views declare: the scope, replays, and paging errors.

    And says of fields what the serializers enforce: a strict input takes no other properties, a
    list that may not be empty has an item, a decimal string has a digit.
    """

    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        if direction == "request" and isinstance(serializer, StrictInputSerializer):
            schema["additionalProperties"] = False
        return schema

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if isinstance(field, serializers.ListSerializer):
            if field.min_length is not None:
                schema.setdefault("minItems", field.min_length)
            if field.max_length is not None:
                schema.setdefault("maxItems", field.max_length)
        if isinstance(field, serializers.ListSerializer | serializers.ListField) and not field.allow_empty:
            schema.setdefault("minItems", 1)
        if isinstance(field, serializers.DecimalField) and "pattern" in schema and field.max_whole_digits:
            whole, places = field.max_whole_digits, field.decimal_places
            sign = "" if field.min_value is not None and field.min_value >= 0 else "-?"
            schema["pattern"] = rf"^{sign}(?:\d{{1,{whole}}}(?:\.\d{{0,{places}}})?|\.\d{{1,{places}}})$"
        return schema

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        scope = getattr(self.view, "required_scopes", {}).get(method.upper())
        operation["x-scopes"] = [str(scope)] if scope else []
        if scope and f"`{scope}`" not in operation.get("description", ""):
            operation["description"] = f"{operation.get('description', '')}\n\nNeeds `{scope}`.".strip()
        responses = operation["responses"]
        if any(parameter.get("name") == IDEMPOTENCY_KEY_HEADER.name for parameter in operation.get("parameters", [])):
            for code, response in responses.items():
                if str(code).startswith("2"):
                    response.setdefault("headers", {}).update(REPLAYED_HEADER)
        if "401" in responses:  # an error envelope to reuse, present on all but the health check
            added = {**(_PAGING_ERRORS if self._is_list_view() and self._get_paginator() else {})}
            if "requestBody" in operation:
                added["413"] = "The body is larger than the server accepts (`too_large`)."
            for code, description in added.items():
                responses.setdefault(code, {**responses["401"], "description": description})
        return operation


_PAGING_ERRORS = {
    "400": "Invalid input (`invalid`): a malformed filter, or a page number below 1.",
    "404": "The page is past the last one (`not_found`).",
}


def every_response_field_required(result, generator, request, public):
    """A response carries every field of its serializer, even at zero or empty: the schema says so."""
    for name, component in result.get("components", {}).get("schemas", {}).items():
        if name.endswith("Request") or name.startswith("Patched") or "properties" not in component:
            continue
        component["required"] = list(component["properties"])
    return result
