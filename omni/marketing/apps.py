from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MarketingConfig(AppConfig):
    name = "omni.marketing"
    label = "marketing"
    verbose_name = _("Marketing")

    def ready(self):
        from customers.merge import register_merge_step
        from omni.marketing import tasks  # noqa: F401  (services queue the tasks by name)
        from omni.marketing.merge import move_marketing

        register_merge_step("omni.marketing", move_marketing)  # campaign members and carts follow a merge
