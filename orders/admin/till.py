"""The till: a sale in the store, computed and then recorded through ``orders.services.order_place``."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext

from inventory.forms import message_domain_error
from inventory.models import LocationKind
from inventory.selectors import locations_for_user
from omni.core.channels import Channel
from omni.core.errors import DomainError
from orders import services
from orders.admin.common import actor_of
from orders.forms import SaleForm
from orders.models import (
    Fulfilment,
)


class TillMixin:
    """The till's views, part of ``OrderAdmin``."""

    def till_urls(self):
        return [path("sale/", self.admin_site.admin_view(self.sale_view), name="orders_order_sale")]

    def sale_view(self, request):
        """A sale at the till; "Compute" shows the receipt the services compute, "Sell" records it."""
        if not request.user.has_perm("orders.sell_in_store"):
            raise PermissionDenied
        stores = locations_for_user(request.user).filter(kind=LocationKind.STORE, is_active=True)
        form = SaleForm(request.POST or None, stores=stores)
        receipt = None
        if request.method == "POST" and form.is_valid():
            order_input = form.order_input(channel=Channel.STORE, fulfilment=Fulfilment.IN_STORE)
            try:
                if "_sell" in request.POST:
                    order = services.order_place(**order_input, actor=actor_of(request))
                    self.message_user(
                        request,
                        gettext("Sale %(number)s is recorded: %(total)s.")
                        % {"number": order.number, "total": order.total},
                        messages.SUCCESS,
                    )
                    return redirect("admin:orders_order_change", order.pk)
                receipt = services.order_preview(**order_input, actor=actor_of(request))
            except DomainError as exc:
                message_domain_error(self, request, exc)
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Sale in the store"),
            "opts": self.opts,
            "form": form,
            "receipt": receipt,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/orders/sale.html", context)
