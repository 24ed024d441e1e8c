from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OmniConfig(AppConfig):
    name = "omni"
    verbose_name = _("Omni")

    def ready(self):
        from django.db.models.signals import post_migrate

        from omni import checks  # noqa: F401  (registers the system checks)
        from omni.roles import sync_roles_after_migrate

        post_migrate.connect(sync_roles_after_migrate, sender=self)
