from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "customers"
    verbose_name = _("Customers")

    def ready(self):
        # The customers app moves its own rows in a merge and lists its own segment conditions
        # through the same registries that loyalty and orders use from their ready().
        from customers import segments
        from customers.merge import BUILTIN_STEPS, register_merge_step

        for name, step in BUILTIN_STEPS.items():
            register_merge_step(name, step)
        segments.register_builtin_conditions()
