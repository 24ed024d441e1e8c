from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MarketingConfig(AppConfig):
    name = "omni.marketing"
    label = "marketing"
    verbose_name = _("Marketing")

    def ready(self):
        from omni.marketing import tasks  # noqa: F401  (services queue the tasks by name)
