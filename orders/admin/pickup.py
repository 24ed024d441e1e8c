"""The click-and-collect desk: orders to prepare and to hand over, and the handover itself."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext

from inventory.forms import message_domain_error
from omni.core.admin_mixins import render_form_page
from omni.core.errors import DomainError
from orders import selectors, services, states
from orders.admin.common import actor_of
from orders.forms import HandoverForm
from orders.models import (
    Fulfilment,
)


class PickupDeskMixin:
    """The pickup desk's views, part of ``OrderAdmin``."""

    def pickup_urls(self):
        view = self.admin_site.admin_view
        return [
            path("desk/", view(self.desk_view), name="orders_order_desk"),
            path("<path:object_id>/handover/", view(self.handover_view), name="orders_order_handover"),
        ]

    def desk_view(self, request):
        """Click-and-collect orders of my stores: to prepare, awaiting a transfer, ready, expiring soon."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        sections = selectors.desk_orders(self.user_location_ids(request))
        titles = {
            "to_prepare": gettext("To prepare"),
            "awaiting_transfer": gettext("Awaiting a transfer"),
            "awaiting_decision": gettext("Goods missing: decide"),
            "ready": gettext("Ready for pickup"),
            "expiring": gettext("Expiring soon"),
        }
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Click-and-collect desk"),
            "opts": self.opts,
            "sections": [(key, titles[key], list(orders)) for key, orders in sections.items()],
            "can_ready": self.has_ready_permission(request),
            "can_hand_over": request.user.has_perm("orders.hand_over_order"),
            "can_cancel": self.has_cancel_permission(request),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/orders/desk.html", context)

    def handover_view(self, request, object_id):
        """Hand over at the counter (or record a courier's delivery): refused units and the payment."""
        if not request.user.has_perm("orders.hand_over_order"):
            raise PermissionDenied
        order, response = self._order_or_redirect(request, object_id)
        if response:
            return response
        if request.method != "POST" and not states.allowed(order, states.Action.HAND_OVER):
            self.message_user(
                request,
                gettext("Order %(number)s is %(status)s; it cannot be handed over now.")
                % {"number": order.number, "status": order.get_status_display()},
                messages.ERROR,
            )
            return redirect("admin:orders_order_change", order.pk)
        lines = list(order.lines.order_by("id"))
        form = HandoverForm(request.POST or None, lines=lines, courier=order.fulfilment == Fulfilment.DELIVERY)
        if request.method == "POST" and form.is_valid():
            try:
                order = services.order_hand_over(
                    order=order, refused=form.refused(), payments=form.payments(), actor=actor_of(request)
                )
            except DomainError as exc:
                message_domain_error(self, request, exc)
            else:
                self.message_user(
                    request,
                    gettext("Order %(number)s is handed over: %(total)s paid.")
                    % {"number": order.number, "total": order.paid},
                    messages.SUCCESS,
                )
                return redirect("admin:orders_order_change", order.pk)
        return render_form_page(
            self,
            request,
            form=form,
            original=order,
            title=gettext("Hand over order %(number)s") % {"number": order.number},
            submit_label=gettext("Hand over"),
            intro=gettext(
                "Due now: %(due)s. Enter what the customer refuses (it goes back to stock and comes off the "
                "total) and how the rest is paid."
            )
            % {"due": order.due},
        )
