from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    """The top floor: the managers' dashboard, reports, exports, demo and load data. It may import
    every app; no app imports it (the import contract in pyproject.toml says so)."""

    name = "omni.reports"
    label = "reports"
    verbose_name = _("Reports")

    def ready(self):
        from django.db.models.signals import post_save

        from customers.merge import register_merge_step
        from omni.reports import summaries, tasks  # noqa: F401  (the services queue its tasks by name)

        # Every service that changes what the report summaries sum saves an order, a return or a
        # loyalty account: the summaries follow these signals rather than a call in each service.
        post_save.connect(summaries.order_saved, sender="orders.Order", dispatch_uid="omni.summaries.order")
        post_save.connect(summaries.return_saved, sender="orders.OrderReturn", dispatch_uid="omni.summaries.return")
        post_save.connect(summaries.account_saved, sender="loyalty.Account", dispatch_uid="omni.summaries.account")
        register_merge_step("omni.report_summaries", summaries.customers_merged)
