import sys

from django.conf import settings
from django.core.checks import Error, Warning, register
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


@register(deploy=True)
def tasks_share_a_cache(app_configs, **kwargs):
    """With a broker, the web and Celery processes must share the cache: a queued drain (of the
    service messages, of a webhook subscription) is marked there and unmarked by the worker, so
    with a cache of each process's own a process queues its next drain only once its mark expires."""
    backend = settings.CACHES["default"]["BACKEND"]
    if settings.CELERY_BROKER_URL and backend.endswith(("LocMemCache", "DummyCache")):
        return [
            Warning(
                "CELERY_BROKER_URL is set but the cache is each process's own: set REDIS_URL.",
                hint="Service messages and webhook deliveries would wait up to a minute to be queued.",
                id="omni.W001",
            )
        ]
    return []
