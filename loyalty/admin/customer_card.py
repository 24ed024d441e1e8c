"""The loyalty box of the customer's card summary (``customers.admin.add_customer_card_panel``):
tier, points available and pending (and when they become spendable), the next points to expire."""

from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _

from customers.admin import add_customer_card_panel
from loyalty import selectors
from loyalty.models import Account


def loyalty_box(request, customer) -> str:
    if not request.user.has_perm("loyalty.view_account"):
        return ""
    account = (
        selectors.accounts_for_display(Account.objects.filter(customer=customer, merged_into__isnull=True))
        .order_by("-opened_at")
        .first()
    )
    context = {"account": account}
    if account is not None:
        context |= {
            "balance": selectors.balance(account),
            "card": selectors.primary_card(account),
            "pending_from": selectors.next_spendable_at(account),
        }
    return render_to_string("admin/loyalty/customer_card.html", context, request=request)


add_customer_card_panel("loyalty", _("Loyalty"), loyalty_box, order=10)
