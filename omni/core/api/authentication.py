import time
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from omni.core.models import ApiKey

KEYWORD = "Api-Key"
LAST_USED_PRECISION = timedelta(minutes=1)
MAX_REMEMBERED_KEYS = 1_000

# The keys this process checked lately: {hashed key: (checked at, ApiKey)}. Only active keys are
# kept, for API_KEY_CACHE_SECONDS, so a key revoked, rotated or given other scopes elsewhere works
# as before for at most that long in this process; a change saved here forgets them all at once
# (``forget_checked_api_keys``, connected to the model's signals in ``omni.core.apps``).
_checked: dict[str, tuple[float, ApiKey]] = {}


def forget_checked_api_keys(**kwargs) -> None:
    _checked.clear()


def active_api_key(raw_key: str) -> ApiKey | None:
    """The active key with this secret, looked up at most once per API_KEY_CACHE_SECONDS."""
    hashed = ApiKey.hash(raw_key)
    now = time.monotonic()
    remembered = _checked.get(hashed)
    if remembered is not None and now - remembered[0] < settings.API_KEY_CACHE_SECONDS:
        return remembered[1]
    api_key = ApiKey.objects.active().filter(hashed_key=hashed).first()
    if api_key is None:
        _checked.pop(hashed, None)
    elif settings.API_KEY_CACHE_SECONDS > 0:
        if len(_checked) >= MAX_REMEMBERED_KEYS:
            _checked.clear()
        _checked[hashed] = (now, api_key)
    return api_key


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """``Authorization: Api-Key <key>``. The request's ``auth`` is the ApiKey, its user is anonymous."""

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1").split()
        if not header or header[0].lower() != KEYWORD.lower():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Malformed Api-Key header: expected 'Api-Key <key>'."))
        api_key = active_api_key(header[1])
        if api_key is None:
            raise exceptions.AuthenticationFailed(_("Invalid or revoked API key."))
        self._touch(api_key)
        from django.contrib.auth.models import AnonymousUser

        return AnonymousUser(), api_key

    def authenticate_header(self, request):
        # Makes DRF answer 401 (not 403) when no credentials were sent.
        return KEYWORD

    @staticmethod
    def _touch(api_key: ApiKey) -> None:
        now = timezone.now()
        if api_key.last_used_at is None or now - api_key.last_used_at > LAST_USED_PRECISION:
            ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
            api_key.last_used_at = now  # the remembered key too: the next minute's requests write nothing


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = ApiKeyAuthentication
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Api-Key <key>`; keys are created with `manage.py create_api_key`.",
        }
