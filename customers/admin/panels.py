"""The panels other apps add to the customer's page (orders, the loyalty balance); customers never
imports them."""

from django.contrib import admin
from django.forms.models import BaseInlineFormSet

from customers.models import Customer


class DisplayOnlyFormSet(BaseInlineFormSet):
    """A list another app shows on the customer's page: never bound to what is posted and never
    saved, so the customer's form is saved exactly as it would be without it."""

    def __init__(self, data=None, files=None, *args, **kwargs):
        super().__init__(None, None, *args, **kwargs)

    def is_valid(self):
        return True

    def save(self, commit=True):
        return []


def add_customer_page_inline(inline, *, first: bool = False, site=admin.site) -> None:
    """Show ``inline`` (built on ``DisplayOnlyFormSet``) on the customer's page. Orders and
    loyalty call this from their admin modules; customers never imports them."""
    customer_admin = site._registry.get(Customer)
    if customer_admin is not None and inline not in customer_admin.inlines:
        customer_admin.inlines = [inline, *customer_admin.inlines] if first else [*customer_admin.inlines, inline]
