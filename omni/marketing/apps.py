from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MarketingConfig(AppConfig):
    name = "omni.marketing"
    label = "marketing"
    verbose_name = _("Marketing")

    def ready(self):
        from omni.marketing import tasks  # noqa: F401  (services queue the tasks by name)

        self._ready_nps()

    def _ready_nps(self):
        from customers.merge import register_merge_step
        from omni.marketing import nps
        from orders.hooks import register_order_placed, register_order_status_changed

        register_order_placed(nps.order_placed)
        register_order_status_changed(nps.order_status_changed)
        register_merge_step("omni.marketing.nps_requests", nps.nps_requests_merged)
