"""The base of every domain error.

A service raises a subclass when a business rule is broken. The API renders it as
``{"error": {"code", "message", "details"}}`` with its ``status``; the admin shows its message.
"""

from typing import Any

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    code: str = "domain_error"
    message: str = _("The operation is not allowed.")
    # 409: the request is well formed but the current state forbids it.
    status: int = 409

    def __init__(self, message: str | None = None, *, details: dict[str, Any] | None = None):
        if message is not None:
            self.message = message
        self.details = details or {}
        super().__init__(str(self.message))


class NotFound(DomainError):
    code = "not_found"
    message = _("Not found.")
    status = 404


class InvalidInput(DomainError):
    """Input that passed the serializer but fails a rule only the service knows."""

    code = "invalid"
    message = _("Invalid input.")
    status = 400

    @classmethod
    def for_field(cls, field: str, message: str) -> "InvalidInput":
        """The error for one field, in the same ``details`` shape as a serializer's errors."""
        return cls(message, details={"field": field, "fields": {field: [str(message)]}})


class IdempotencyConflict(DomainError):
    code = "idempotency_conflict"
    message = _("This idempotency key was already used with a different request.")
    status = 422
