import sys

from django.conf import settings
from django.core.checks import Error, register
from django.core.exceptions import ImproperlyConfigured

# Commands that only read the code: they may run without a deployment's secrets.
CODE_ONLY_COMMANDS = {"makemigrations", "makemessages", "compilemessages"}


@register()
def secret_key_is_set(app_configs, **kwargs):
    """Refuse to serve, migrate or run tasks without a SECRET_KEY when DEBUG is off."""
    if sys.argv[1:2] and sys.argv[1] in CODE_ONLY_COMMANDS:
        return []
    try:
        settings.SECRET_KEY  # noqa: B018  (Django refuses to read an empty key)
    except ImproperlyConfigured:
        return [Error("SECRET_KEY must be set when DEBUG is off.", id="omni.E001")]
    return []
