from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MarketingConfig(AppConfig):
    name = "omni.marketing"
    label = "marketing"
    verbose_name = _("Marketing")

    def ready(self):
        from customers.merge import register_merge_step
        from omni.marketing import nps, tasks  # noqa: F401  (tasks: services queue them by name)
        from omni.marketing.merge import move_marketing
        from orders.hooks import register_order_placed, register_order_status_changed

        register_merge_step("omni.marketing", move_marketing)  # campaign members and carts follow a merge
        register_merge_step("omni.marketing.nps_requests", nps.nps_requests_merged)
        register_order_placed(nps.order_placed)  # a sale in a store brings an NPS request,
        register_order_status_changed(nps.order_status_changed)  # and so does an order handed over
