"""The pickup desk: one screen for click-and-collect orders and deliveries the courier brings back.

The list of today's work (to prepare, awaiting goods, ready, expiring, out with the courier) with
a search box that narrows it as the cashier types (htmx swaps ``#desk-sections``); a scanned order
number and Enter opens that order's handover on the same screen. The handover takes the units the
customer refuses per line; each change asks ``order_hand_over_preview`` for what is due (htmx
swaps ``#handover-totals``), and the payment method follows what is due. ``order_hand_over``
records it; the desk then shows what was handed over, refused, paid and refunded.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from inventory.forms import domain_error_messages, message_domain_error
from omni.core.errors import DomainError
from orders import selectors, services, states
from orders.admin.common import actor_of
from orders.desk_forms.pickup import HandoverForm, default_method, method_choices
from orders.models import COMPLETED_STATUSES, Fulfilment
from orders.services.handover import handover_methods

# The sections in the order the counter needs them: who may be at the counter now first.
SECTION_TITLES = {
    "ready": _("Ready for pickup"),
    "expiring": _("Expiring soon"),
    "to_prepare": _("To prepare"),
    "awaiting_decision": _("Goods missing: decide"),
    "awaiting_transfer": _("Awaiting a transfer"),
    "with_courier": _("Out with the courier"),
}


class PickupDeskMixin:
    """The pickup desk's views, part of ``OrderAdmin``."""

    def pickup_urls(self):
        view = self.admin_site.admin_view
        return [
            path("desk/", view(self.desk_view), name="orders_order_desk"),
            path(
                "<path:object_id>/handover/preview/",
                view(self.handover_preview_view),
                name="orders_order_handover_preview",
            ),
            path("<path:object_id>/handover/", view(self.handover_view), name="orders_order_handover"),
        ]

    def can_hand_over(self, request) -> bool:
        return request.user.has_perm("orders.hand_over_order")

    # --- The list

    def desk_view(self, request):
        """The desk; ``?q=`` narrows the list (an htmx request gets the list only), and an exact
        order number (a scanner types it and Enter) opens that order's handover."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        query = request.GET.get("q", "").strip()[:100]
        if request.htmx:
            return TemplateResponse(
                request, "admin/orders/pickup/sections.html", self._sections_context(request, query)
            )
        if query:
            scanned = self._scanned(request, query)
            if scanned is not None:
                return redirect("admin:orders_order_handover", scanned.pk)
        context = self._desk_context(request, query=query, done=self._handed_over(request))
        return TemplateResponse(request, "admin/orders/pickup/desk.html", context)

    def _scanned(self, request, query):
        """The order whose number was typed in full, when it can be handed over here and now."""
        order = self.get_queryset(request).filter(number__iexact=query).first()
        if order is not None and self.can_hand_over(request) and states.allowed(order, states.Action.HAND_OVER):
            return order
        return None

    def _handed_over(self, request):
        """The order just handed over (``?done=``), with what the result panel shows."""
        pk = request.GET.get("done", "")
        if not pk.isdigit():
            return None
        orders = selectors.orders_for_display(self.get_queryset(request)).prefetch_related("refunds")
        return orders.filter(pk=int(pk), status__in=COMPLETED_STATUSES).first()

    def _sections_context(self, request, query):
        sections = selectors.desk_orders(self.user_location_ids(request), query=query)
        return {
            "q": query,
            "sections": [(key, title, sections[key]) for key, title in SECTION_TITLES.items()],
            "empty_sections": [title for key, title in SECTION_TITLES.items() if not sections[key]],
            "found": sum(len(orders) for orders in sections.values()),
            "can_ready": self.has_ready_permission(request),
            "can_hand_over": self.can_hand_over(request),
            "can_cancel": self.has_cancel_permission(request),
            "desk_url": reverse("admin:orders_order_desk") + (f"?{urlencode({'q': query})}" if query else ""),
        }

    def _desk_context(self, request, *, query="", done=None, handover=None):
        request.current_app = self.admin_site.name
        return {
            **self.admin_site.each_context(request),
            **self._sections_context(request, query),
            "title": gettext("Pickup desk"),
            "opts": self.opts,
            "done": done,
            "handover": handover,
        }

    # --- The handover

    def handover_view(self, request, object_id):
        """Hand over at the counter (or record a courier's delivery): refused units and the payment."""
        if not self.can_hand_over(request):
            raise PermissionDenied
        order, response = self._order_or_redirect(request, object_id)
        if response:
            return response
        if order.status in COMPLETED_STATUSES:
            # pressed twice, or opened again from an old page: show what was recorded
            return redirect(reverse("admin:orders_order_desk") + f"?done={order.pk}")
        if not states.allowed(order, states.Action.HAND_OVER):
            self.message_user(
                request,
                gettext("Order %(number)s is %(status)s; it cannot be handed over now.")
                % {"number": order.number, "status": order.get_status_display()},
                messages.ERROR,
            )
            return redirect("admin:orders_order_desk")
        form = self._handover_form(request.POST if request.method == "POST" else None, order)
        if request.method == "POST":
            handed = self._hand_over(request, order, form)
            if handed is not None:
                return redirect(reverse("admin:orders_order_desk") + f"?done={handed.pk}")
        handover = self._handover(order, form, chosen=request.POST.get("payment_method", ""))
        handover["panel"] = selectors.customer_panel(order.customer)
        context = self._desk_context(request, handover=handover)
        return TemplateResponse(request, "admin/orders/pickup/desk.html", context)

    def _hand_over(self, request, order, form):
        """Record the handover; on a refusal say why (nothing changed) and return None."""
        if not form.is_valid():
            return None
        try:
            preview = services.order_hand_over_preview(order=order, refused=form.refused())
            order = services.order_hand_over(
                order=order,
                refused=form.refused(),
                payments=form.payments() if preview.due > 0 else [],
                actor=actor_of(request),
            )
        except DomainError as exc:
            message_domain_error(self, request, exc)
            return None
        return order  # the desk shows what was handed over (``?done=``)

    def handover_preview_view(self, request, object_id):
        """What is due for the refused units typed so far (an htmx fragment; writes nothing)."""
        if not self.can_hand_over(request):
            raise PermissionDenied
        order, response = self._order_or_redirect(request, object_id)
        if response:
            return response
        form = self._handover_form(request.GET, order)
        handover = self._handover(order, form, chosen=request.GET.get("payment_method", ""))
        return TemplateResponse(request, "admin/orders/pickup/totals.html", {**handover, "oob": True})

    def _handover_form(self, data, order):
        lines = list(order.lines.order_by("id"))
        return HandoverForm(data, lines=lines, methods=handover_methods(order))

    def _handover(self, order, form, *, chosen=""):
        """What the handover panel shows: the order, the form, the preview of what is due (or why
        there is none), the payment methods offered and the one selected."""
        errors, preview = [], None
        if form.is_bound and not form.is_valid():
            errors = form.error_texts()
        else:
            try:
                preview = services.order_hand_over_preview(order=order, refused=form.refused() if form.is_bound else {})
            except DomainError as exc:
                errors = domain_error_messages(exc)
        due = preview.due if preview else order.due
        methods = handover_methods(order)
        by_line = {p.line.pk: p for p in preview.lines} if preview else {}
        rows = [
            {
                "line": line,
                "left": line.quantity - line.refused_quantity,
                "field": form[f"refused_{line.pk}"],
                "preview": by_line.get(line.pk),
            }
            for line in form.lines
        ]
        return {
            "order": order,
            "form": form,
            "rows": rows,
            "preview": preview,
            "errors": errors,
            "courier": order.fulfilment == Fulfilment.DELIVERY,
            "method_choices": method_choices(methods, due),
            "method": default_method(methods, due, chosen),
        }
