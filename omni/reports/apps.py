from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    """The top floor: the managers' dashboard, reports, exports, demo and load data. It may import
    every app; no app imports it (the import contract in pyproject.toml says so)."""

    name = "omni.reports"
    label = "reports"
    verbose_name = _("Reports")

    def ready(self):
        from customers.merge import register_merge_step
        from customers.personal_data import register_export_section
        from loyalty.hooks import register_account_opened

        # The tasks are queued by name; the RFM box on the customer's card registers when imported.
        from omni.reports import customer_card, rfm, segments, summaries, tasks  # noqa: F401
        from orders.hooks import register_order_changed, register_return_accepted

        # The report summaries hear from the services that change what they sum: orders, returns,
        # loyalty accounts opened (members' orders) and customers merged.
        register_order_changed(summaries.summaries_note_order)
        register_return_accepted(summaries.summaries_note_return)
        register_account_opened(summaries.account_opened)
        register_merge_step("omni.report_summaries", summaries.customers_merged)
        # Segments and campaigns can pick customers by their RFM segment and scores, a profile
        # that the customer's personal data export includes.
        segments.register_conditions()
        register_export_section("rfm", rfm.export_rfm)
