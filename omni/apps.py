from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OmniConfig(AppConfig):
    name = "omni"
    verbose_name = _("Omni")

    def ready(self):
        from django.db.models.signals import post_migrate, post_save

        from customers.merge import register_merge_step
        from omni import checks  # noqa: F401  (registers the system checks)
        from omni.reports import summaries
        from omni.roles import sync_roles_after_migrate

        post_migrate.connect(sync_roles_after_migrate, sender=self)
        # Every service that changes what the report summaries sum saves an order, a return or a
        # loyalty account: the summaries follow these signals rather than a call in each service.
        post_save.connect(summaries.order_saved, sender="orders.Order", dispatch_uid="omni.summaries.order")
        post_save.connect(summaries.return_saved, sender="orders.OrderReturn", dispatch_uid="omni.summaries.return")
        post_save.connect(summaries.account_saved, sender="loyalty.Account", dispatch_uid="omni.summaries.account")
        register_merge_step("omni.report_summaries", summaries.customers_merged)
