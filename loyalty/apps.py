from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LoyaltyConfig(AppConfig):
    name = "loyalty"
    verbose_name = _("Loyalty")

    def ready(self):
        # A merge of two customers moves their points; segments can name a loyalty tier.
        from customers.merge import register_merge_step
        from loyalty import segments
        from loyalty.merge import move_loyalty

        register_merge_step("loyalty.accounts", move_loyalty)
        segments.register_conditions()
