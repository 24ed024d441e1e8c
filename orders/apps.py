from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = _("Orders")

    def ready(self):
        # Orders move with a merge of two customers, keep no personal data after anonymisation,
        # are part of a personal data export, answer segment conditions about purchases, and
        # hear of transfers arriving for click-and-collect orders. Lower apps never import orders.
        from customers.merge import register_merge_step
        from customers.personal_data import register_anonymise_step, register_export_section
        from inventory.hooks import register_transfer_received

        # Its box on the customer's card and its events on the timeline register when imported.
        from orders import customer_card, segments, timeline_events  # noqa: F401
        from orders.services import anonymise_orders, export_orders, move_orders, order_transfer_received

        register_merge_step("orders.orders", move_orders)
        register_anonymise_step("orders.orders", anonymise_orders)
        register_export_section("orders", export_orders)
        register_transfer_received(order_transfer_received)
        segments.register_conditions()
