from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    name = "omni.webhooks"
    label = "webhooks"
    verbose_name = _("Webhooks")

    def ready(self):
        from omni.webhooks import tasks  # noqa: F401  (the outbox queues its task by name)
        from omni.webhooks.sources import customers, inventory, loyalty, orders

        orders.connect()
        inventory.connect()
        customers.connect()
        loyalty.connect()
