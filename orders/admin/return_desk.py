"""The return desk, on one screen: find the purchase of any channel, choose what comes back and
see the refund live (``return_preview``), accept it (``return_accept``), then pay the pending
refunds back there, to the card at the terminal or in cash (``refund_complete``).

The live parts are htmx fragments (django-htmx): the search results as the cashier types, and
the refund as she changes a quantity or a condition. Without JavaScript the same forms post
whole pages.
"""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext, ngettext

from inventory.forms import domain_error_messages
from inventory.models import LocationKind
from inventory.selectors import locations_for_user
from omni.core.errors import DomainError
from orders import selectors, services
from orders.admin.common import actor_of
from orders.desk_forms.returns import RefundCompleteForm, ReturnForm, ReturnSearchForm
from orders.errors import ReturnExceedsPurchase
from orders.models import (
    COMPLETED_STATUSES,
    Order,
    OrderReturn,
    PaymentMethod,
    Refund,
    RefundStatus,
)

DESK = "admin/orders/returns/desk.html"
RESULTS = "admin/orders/returns/results.html"
PREVIEW = "admin/orders/returns/preview.html"
EMPTY = "admin/orders/returns/empty.html"
MAX_RESULTS = 20


def money_text(amount) -> str:
    """An amount as the cashier reads it: 9 290,00 in Russian, 9,290.00 in English."""
    return number_format(amount, 2, force_grouping=True)


def refusal_texts(exc: DomainError) -> list[str]:
    """A service's refusal as sentences for the desk."""
    if isinstance(exc, ReturnExceedsPurchase):
        return [str(exc.message)] + [
            gettext("%(sku)s: %(requested)s asked, %(returnable)s can come back.") % line
            for line in (exc.details or {}).get("lines", [])
        ]
    return domain_error_messages(exc)


def accepted_text(order_return: OrderReturn, refunds: list[Refund]) -> str:
    """What the cashier is told once a return is accepted: the money still to pay out says so."""
    pending = sum((r.amount for r in refunds if r.status == RefundStatus.PENDING), 0)
    names = {"number": order_return.number, "amount": money_text(pending or order_return.refund_amount)}
    if pending:
        return gettext("Return %(number)s is accepted; %(amount)s to refund — awaiting payout.") % names
    if order_return.refund_points:
        points = order_return.refund_points
        return ngettext(
            "Return %(number)s is accepted; %(points)s point is credited to the customer.",
            "Return %(number)s is accepted; %(points)s points are credited to the customer.",
            points,
        ) % {**names, "points": number_format(points, 0, force_grouping=True)}
    if order_return.refund_amount:
        return gettext("Return %(number)s is accepted; %(amount)s is refunded.") % names
    return gettext("Return %(number)s is accepted; nothing is left to refund.") % names


class ReturnDeskMixin:
    """The return desk's views, part of ``OrderReturnAdmin``."""

    def get_urls(self):
        view = self.admin_site.admin_view
        urls = [
            path("desk/", view(self.desk_view), name="orders_orderreturn_desk"),
            path("desk/return/<int:pk>/", view(self.accepted_view), name="orders_orderreturn_accepted"),
            path("desk/refund/<int:pk>/", view(self.refund_view), name="orders_orderreturn_refund"),
            path("desk/<str:number>/preview/", view(self.preview_view), name="orders_orderreturn_preview"),
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

    def _desk(self, request, **context):
        context.setdefault("search", ReturnSearchForm())
        context.setdefault("title", gettext("Return desk"))
        return self._render(request, DESK, **context)

    # --- Find the purchase

    def desk_view(self, request):
        """Find the order: by its number, the customer's phone or card, or their last digits."""
        self._check(request)
        search = ReturnSearchForm(request.GET or None)
        orders = None
        if search.is_valid():
            query = search.cleaned_data["q"].strip()
            orders = list(selectors.returnable_orders(query)[:MAX_RESULTS])
            if not request.htmx and len(orders) == 1 and orders[0].number.lower() == query.lower():
                return redirect("admin:orders_orderreturn_take", orders[0].number)
        if request.htmx:
            return self._render(request, RESULTS if orders is not None else EMPTY, orders=orders)
        return self._desk(request, search=search, orders=orders)

    # --- Choose what comes back, see the refund, accept

    def _order(self, number: str) -> Order | None:
        return (
            selectors.orders_for_display(Order.objects.filter(number=number, status__in=COMPLETED_STATUSES))
            .prefetch_related("returns")
            .first()
        )

    def _return_form(self, request, order: Order) -> ReturnForm:
        locations = locations_for_user(request.user).filter(accepts_returns=True, is_active=True)
        stores_first = sorted(locations, key=lambda location: location.kind != LocationKind.STORE)
        return ReturnForm(
            request.POST or None,
            lines=list(order.lines.all()),
            locations=locations,
            can_accept_late=request.user.has_perm("orders.accept_late_return"),
            refund_to_points=settings.ORDERS_REFUND_TO_POINTS and order.customer_id is not None,
            initial={"location": stores_first[0].pk} if stores_first else {},
        )

    def _return_input(self, request, order: Order, form: ReturnForm) -> dict:
        data = form.cleaned_data
        return {
            "order": order,
            "location": data["location"],
            "lines": form.return_lines(),
            "reason": data.get("reason") or gettext("Reason to be given"),
            "refund_method": data["refund_method"],
            "accept_late": data.get("accept_late", False),
            "actor": actor_of(request),
        }

    def _no_order(self, request, number: str):
        self.message_user(
            request,
            gettext("No completed order has the number %(number)s.") % {"number": number},
            messages.ERROR,
        )
        return redirect("admin:orders_orderreturn_desk")

    def return_view(self, request, number: str):
        """The order with its lines to choose from; "Accept the return" records it."""
        self._check(request)
        order = self._order(number)
        if order is None:
            return self._no_order(request, number)
        form = self._return_form(request, order)
        preview, refusals = None, []
        if request.method == "POST" and form.is_valid():
            kwargs = self._return_input(request, order, form)
            try:
                if "_confirm" in request.POST:
                    return self._accept(request, kwargs)
                preview = services.return_preview(**kwargs)
            except DomainError as exc:
                refusals = refusal_texts(exc)
        return self._order_page(request, order, form, preview, refusals)

    def _accept(self, request, kwargs):
        order_return = services.return_accept(**kwargs)
        refunds = list(order_return.refunds.order_by("pk"))
        self.message_user(request, accepted_text(order_return, refunds), messages.SUCCESS)
        return redirect("admin:orders_orderreturn_accepted", order_return.pk)

    def preview_view(self, request, number: str):
        """The refund of what is chosen so far, as a fragment the form refreshes as it changes."""
        self._check(request)
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        order = self._order(number)
        if order is None:
            return self._render(request, PREVIEW, refusals=[gettext("No completed order has this number.")])
        form = self._return_form(request, order)
        preview, refusals = None, []
        # The reason is typed last: the refund shows as soon as the lines are chosen.
        if form.is_valid() or set(form.errors) == {"reason"}:
            try:
                preview = services.return_preview(**self._return_input(request, order, form))
            except DomainError as exc:
                refusals = refusal_texts(exc)
        return self._render(request, PREVIEW, **self._preview_context(order, form, preview, refusals))

    def _preview_context(self, order, form, preview, refusals) -> dict:
        deadline = services.return_deadline(order)
        return {
            "order": order,
            "form": form,
            "preview": preview,
            "refunds": _refund_rows(preview),
            "refusals": refusals,
            "deadline": deadline,
            "window_days": services.return_window_days(order),
            "window_closed": deadline is not None and timezone.now() > deadline,
        }

    def _order_page(self, request, order, form, preview, refusals):
        return self._desk(
            request,
            title=gettext("Return of order %(number)s") % {"number": order.number},
            panel=selectors.customer_panel(order.customer),
            **self._preview_context(order, form, preview, refusals),
        )

    # --- The accepted return and its refunds

    def accepted_view(self, request, pk: int):
        """The return just accepted: what came back, and its refunds to pay out here."""
        self._check(request)
        order_return = self._visible_return(request, pk)
        if order_return is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, str(pk))
        return self._accepted_page(request, order_return)

    def _visible_return(self, request, pk: int) -> OrderReturn | None:
        return (
            selectors.returns_for_user(request.user, OrderReturn.objects.filter(pk=pk))
            .select_related("order__customer", "order__location", "location")
            .prefetch_related("lines__order_line")
            .first()
        )

    def _accepted_page(self, request, order_return, forms=None):
        can_complete = request.user.has_perm("orders.change_order")
        refunds = list(order_return.refunds.select_related("payment").order_by("pk"))
        forms = forms or {}
        rows = [(refund, forms.get(refund.pk) or RefundCompleteForm(prefix=f"refund{refund.pk}")) for refund in refunds]
        pending_forms = [form for refund, form in rows if refund.status == RefundStatus.PENDING]
        if pending_forms:
            pending_forms[0].focus()
        return self._desk(
            request,
            title=gettext("Return %(number)s") % {"number": order_return.number},
            order_return=order_return,
            order=order_return.order,
            panel=selectors.customer_panel(order_return.order.customer),
            refund_rows=rows,
            can_complete=can_complete,
            pending=sum((r.amount for r in refunds if r.status == RefundStatus.PENDING), 0),
        )

    def refund_view(self, request, pk: int):
        """Pay a pending refund back at the desk: to the card at the terminal, or in cash."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not (request.user.has_perm("orders.add_orderreturn") and request.user.has_perm("orders.change_order")):
            raise PermissionDenied
        refund = selectors.refunds_for_user(request.user, Refund.objects.filter(pk=pk)).first()
        if refund is None or refund.order_return_id is None:
            return self._get_obj_does_not_exist_redirect(request, Refund._meta, str(pk))
        form = RefundCompleteForm(request.POST, prefix=f"refund{refund.pk}")
        if form.is_valid():
            try:
                refund = services.refund_complete(refund=refund, actor=actor_of(request), **form.cleaned_data)
            except DomainError as exc:
                for text in refusal_texts(exc):
                    self.message_user(request, text, messages.ERROR)
            else:
                self.message_user(request, _refund_done_text(refund), messages.SUCCESS)
            return redirect("admin:orders_orderreturn_accepted", refund.order_return_id)
        order_return = self._visible_return(request, refund.order_return_id)
        return self._accepted_page(request, order_return, forms={refund.pk: form})


def _refund_rows(preview) -> list[tuple[str, object, int]]:
    """Each refund of a preview with its method's label, never its code."""
    if preview is None:
        return []
    return [(PaymentMethod(method).label, amount, points) for method, amount, points in preview.refunds]


def _refund_done_text(refund: Refund) -> str:
    names = {"amount": money_text(refund.amount)}
    if refund.method == PaymentMethod.CASH:
        return gettext("%(amount)s is paid back in cash; the refund is completed.") % names
    return gettext("%(amount)s is refunded to the card (transaction %(transaction)s); the refund is completed.") % {
        **names,
        "transaction": refund.transaction_id,
    }
