from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    """The kernel every app builds on: errors, actors and audit, API keys, number sequences,
    idempotency, the API and admin plumbing. It imports no app of Omni.

    Its label stays ``omni``, the label its tables, migrations and permissions were made under."""

    name = "omni.core"
    label = "omni"
    verbose_name = _("Omni")

    def ready(self):
        from django.db.models.signals import post_delete, post_migrate, post_save

        from omni.core import checks  # noqa: F401  (registers the system checks)
        from omni.core.api.authentication import forget_checked_api_keys
        from omni.core.models import ApiKey
        from omni.core.roles import sync_roles_after_migrate

        post_migrate.connect(sync_roles_after_migrate, sender=self)
        # A key revoked, rotated or edited in this process stops working here at once (elsewhere
        # within API_KEY_CACHE_SECONDS).
        post_save.connect(forget_checked_api_keys, sender=ApiKey)
        post_delete.connect(forget_checked_api_keys, sender=ApiKey)
