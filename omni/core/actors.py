"""Who performs an operation: a staff member, an integration's API key, or the system."""

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    from omni.core.models import ApiKey


@dataclass(frozen=True)
class Actor:
    user: "AbstractBaseUser | None" = None
    api_key: "ApiKey | None" = None

    @classmethod
    def system(cls) -> "Actor":
        return cls()

    @classmethod
    def from_request(cls, request) -> "Actor":
        from omni.core.models import ApiKey

        auth = getattr(request, "auth", None)
        if isinstance(auth, ApiKey):
            return cls(api_key=auth)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return cls(user=user)
        return cls()

    @property
    def audit_fields(self) -> dict:
        """Keyword arguments for the ``created_by``/``api_key`` columns of audit rows."""
        return {"created_by": self.user, "api_key": self.api_key}

    def __str__(self) -> str:
        if self.user is not None:
            return self.user.get_username()
        if self.api_key is not None:
            return f"api:{self.api_key.name}"
        return "system"


SYSTEM = Actor.system()
