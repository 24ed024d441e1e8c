"""The return desk: find a completed order of any channel, choose what comes back, refund it."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext

from inventory.forms import message_domain_error
from inventory.selectors import locations_for_user, user_sees_all_locations
from omni.core.errors import DomainError
from orders import selectors, services
from orders.admin.common import actor_of
from orders.forms import ReturnForm, ReturnSearchForm
from orders.models import (
    Order,
    OrderStatus,
)


class ReturnDeskMixin:
    """The return desk's views, part of ``OrderReturnAdmin``."""

    def get_urls(self):
        view = self.admin_site.admin_view
        urls = [
            path("desk/", view(self.desk_view), name="orders_orderreturn_desk"),
            path("desk/<str:number>/", view(self.return_view), name="orders_orderreturn_take"),
        ]
        return urls + super().get_urls()

    def _check(self, request) -> None:
        if not request.user.has_perm("orders.add_orderreturn"):
            raise PermissionDenied

    def _render(self, request, template: str, **context):
        request.current_app = self.admin_site.name
        return TemplateResponse(
            request, template, {**self.admin_site.each_context(request), "opts": self.opts, **context}
        )

    def desk_view(self, request):
        """Find the order: by its number or by the customer's phone or card, whatever the channel."""
        self._check(request)
        form = ReturnSearchForm(request.GET or None)
        orders = None
        if form.is_valid():
            orders = list(selectors.returnable_orders(form.cleaned_data["query"])[:50])
            if len(orders) == 1 and orders[0].number.lower() == form.cleaned_data["query"].strip().lower():
                return redirect("admin:orders_orderreturn_take", orders[0].number)
        return self._render(
            request, "admin/orders/return_desk.html", title=gettext("Return desk"), form=form, orders=orders
        )

    def return_view(self, request, number: str):
        """Choose lines, conditions and the refund method; preview the refund, then confirm."""
        self._check(request)
        order = selectors.orders_for_display(Order.objects.filter(number=number)).first()
        if order is None or order.status not in (OrderStatus.COLLECTED, OrderStatus.DELIVERED, OrderStatus.SOLD):
            self.message_user(
                request, gettext("No completed order has the number %(number)s.") % {"number": number}, messages.ERROR
            )
            return redirect("admin:orders_orderreturn_desk")
        locations = locations_for_user(request.user).filter(accepts_returns=True, is_active=True)
        form = ReturnForm(
            request.POST or None,
            lines=list(order.lines.all()),
            locations=locations,
            can_accept_late=request.user.has_perm("orders.accept_late_return"),
        )
        preview = None
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            kwargs = {
                "order": order,
                "location": data["location"],
                "lines": form.return_lines(),
                "reason": data["reason"],
                "refund_method": data["refund_method"],
                "accept_late": data.get("accept_late", False),
                "actor": actor_of(request),
            }
            try:
                if "_confirm" in request.POST:
                    order_return = services.return_accept(**kwargs)
                    self.message_user(
                        request,
                        gettext("Return %(number)s is accepted: %(refund)s refunded.")
                        % {"number": order_return.number, "refund": order_return.refund_amount},
                        messages.SUCCESS,
                    )
                    return redirect("admin:orders_orderreturn_change", order_return.pk)
                preview = services.return_preview(**kwargs)
            except DomainError as exc:
                message_domain_error(self, request, exc)
        return self._render(
            request,
            "admin/orders/return_form.html",
            title=gettext("Return of order %(number)s") % {"number": order.number},
            order=order,
            form=form,
            preview=preview,
            deadline=services.return_deadline(order),
            sees_all=user_sees_all_locations(request.user),
        )
