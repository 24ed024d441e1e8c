"""The RFM box of the customer's card summary (``customers.admin.add_customer_card_panel``): the
segment, what it means, the three scores and when they were computed; imported by
``omni.reports.apps`` to register the box."""

from django.conf import settings
from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _

from customers.admin import add_customer_card_panel
from omni.reports.models import CustomerRfm
from omni.reports.rfm import SEGMENT_DESCRIPTIONS


def rfm_box(request, customer) -> str:
    # A summary of the customer's purchases: shown to whoever may see their orders.
    if not request.user.has_perm("orders.view_order"):
        return ""
    rfm = CustomerRfm.objects.filter(customer_id=customer.pk).first()
    context = {"rfm": rfm, "months": settings.REPORTS_RFM_MONTHS}
    if rfm is not None:
        context["description"] = SEGMENT_DESCRIPTIONS[rfm.segment]
    return render_to_string("admin/reports/customer_rfm.html", context, request=request)


add_customer_card_panel("rfm", _("RFM segment"), rfm_box, order=15, wide=True)
