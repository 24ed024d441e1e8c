"""The loyalty balance on the customer's page (``customers.admin.add_customer_page_inline``)."""

from django.contrib import admin
from django.urls import reverse
from django.utils import formats
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from customers.admin import DisplayOnlyFormSet, add_customer_page_inline
from loyalty import selectors
from loyalty.models import Account
from omni.core.admin_mixins import ReadOnlyInline


class CustomerLoyaltyInline(ReadOnlyInline):
    """The customer's account, card, tier and balances on their page; customers never imports
    loyalty."""

    model = Account
    fk_name = "customer"
    formset = DisplayOnlyFormSet
    verbose_name = _("loyalty account")
    verbose_name_plural = _("loyalty balance")
    fields = ["account_link", "status", "tier", "card", "available", "pending", "next_expiry"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("tier").filter(merged_into__isnull=True)

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("loyalty.view_account")

    @admin.display(description=_("account"))
    def account_link(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("admin:loyalty_account_change", args=[obj.pk]), obj)

    @admin.display(description=_("card"))
    def card(self, obj):
        card = selectors.primary_card(obj)
        return card.number if card else "—"

    @staticmethod
    def _balance(obj):
        """One balance query per account row, shared by the three columns."""
        if not hasattr(obj, "_balance"):
            obj._balance = selectors.balance(obj)
        return obj._balance

    @admin.display(description=_("available"))
    def available(self, obj):
        return self._balance(obj).available

    @admin.display(description=_("pending"))
    def pending(self, obj):
        return self._balance(obj).pending

    @admin.display(description=_("next to expire"))
    def next_expiry(self, obj):
        balance = self._balance(obj)
        if not balance.next_expiry_points:
            return "—"
        return gettext("%(points)d on %(date)s") % {
            "points": balance.next_expiry_points,
            "date": formats.date_format(balance.next_expiry_date, "SHORT_DATE_FORMAT"),
        }


add_customer_page_inline(CustomerLoyaltyInline, first=True)
