from django.utils.translation import gettext_lazy as _
from rest_framework import permissions

from omni.core.models import ApiKey


class HasScope(permissions.BasePermission):
    """Let an API key through when it holds the scope the view names for the HTTP method.

    A view declares ``required_scopes = {"GET": Scope.CATALOG_READ, "POST": Scope.CATALOG_WRITE}``.
    A signed-in staff member may call the same endpoints from their admin session; for methods
    listed in ``staff_permissions`` they also need that Django permission.
    A view without ``required_scopes`` is closed to everyone but superusers.
    """

    message = _("Your credentials do not grant access to this operation.")

    def has_permission(self, request, view) -> bool:
        if not hasattr(view, request.method.lower()):
            return True  # DRF answers 405 Method Not Allowed next
        scope = getattr(view, "required_scopes", {}).get(request.method)
        if request.method == "OPTIONS":
            scope = scope or next(iter(getattr(view, "required_scopes", {}).values()), None)
        if isinstance(request.auth, ApiKey):
            if scope is None or not request.auth.has_scope(scope):
                self.message = _("This API key lacks the scope %(scope)s.") % {"scope": scope or "-"}
                return False
            return True
        user = request.user
        if not (user and user.is_authenticated and user.is_staff):
            return False
        if user.is_superuser:
            return True
        if scope is None:
            return False
        perm = getattr(view, "staff_permissions", {}).get(request.method)
        return perm is None or user.has_perm(perm)
