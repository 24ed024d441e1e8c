"""Exports of customers (segment members) to CSV and XLSX with django-import-export."""

from django.utils.translation import gettext_lazy as _
from import_export import fields, resources

from customers.models import Customer, IdentityKind


class CustomerResource(resources.ModelResource):
    """One row per customer. Export only: customers are created through ``customers.services``."""

    preferred_store = fields.Field(attribute="preferred_store__code", column_name=_("preferred store"))
    phone = fields.Field(column_name=_("phone"))
    email = fields.Field(column_name=_("e-mail"))
    card = fields.Field(column_name=_("loyalty card"))

    class Meta:
        model = Customer
        fields = [
            "id",
            "last_name",
            "first_name",
            "middle_name",
            "birthday",
            "gender",
            "city",
            "preferred_store",
            "preferred_channel",
            "phone",
            "email",
            "card",
            "created_channel",
            "created_at",
        ]
        export_order = fields

    @staticmethod
    def _first(customer: Customer, kind: str) -> str:
        # Identities are prefetched for the whole queryset (``selectors.customers_with_identities``).
        return next((i.value for i in customer.identities.all() if i.kind == kind), "")

    def dehydrate_phone(self, customer):
        return self._first(customer, IdentityKind.PHONE)

    def dehydrate_email(self, customer):
        return self._first(customer, IdentityKind.EMAIL)

    def dehydrate_card(self, customer):
        return self._first(customer, IdentityKind.CARD)
