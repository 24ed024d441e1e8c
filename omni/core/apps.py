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
        from django.db.models.signals import post_migrate

        from omni.core import checks  # noqa: F401  (registers the system checks)
        from omni.core.roles import sync_roles_after_migrate

        post_migrate.connect(sync_roles_after_migrate, sender=self)
