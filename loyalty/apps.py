from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LoyaltyConfig(AppConfig):
    name = "loyalty"
    verbose_name = _("Loyalty")

    def ready(self):
        # A merge of two customers moves their points; anonymisation leaves no card leading to the
        # customer; the personal data export holds the account; segments can name a loyalty tier.
        from customers.merge import register_merge_step
        from customers.personal_data import register_anonymise_step, register_export_section
        from loyalty import segments, timeline_events  # noqa: F401 (timeline_events registers its events)
        from loyalty.merge import move_loyalty
        from loyalty.personal_data import anonymise_loyalty, export_loyalty

        register_merge_step("loyalty.accounts", move_loyalty)
        register_anonymise_step("loyalty.accounts", anonymise_loyalty)
        register_export_section("loyalty", export_loyalty)
        segments.register_conditions()
