"""The deployment checks ``manage.py check --deploy`` runs."""

from omni.core.checks import tasks_share_a_cache

LOCAL = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
SHARED = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:6379/1"}}


def test_a_broker_with_a_cache_of_each_process_s_own_is_warned_about(settings):
    settings.CELERY_BROKER_URL, settings.CACHES = "redis://127.0.0.1:6379/0", LOCAL
    assert [warning.id for warning in tasks_share_a_cache(None)] == ["omni.W001"]


def test_a_shared_cache_or_no_broker_is_fine(settings):
    settings.CELERY_BROKER_URL, settings.CACHES = "redis://127.0.0.1:6379/0", SHARED
    assert tasks_share_a_cache(None) == []
    settings.CELERY_BROKER_URL, settings.CACHES = "", LOCAL  # tasks run in the process that queues them
    assert tasks_share_a_cache(None) == []
