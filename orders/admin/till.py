"""The till: a sale in the store on one screen.

The whole sale in progress is the form (``orders.desk_forms.till.TillForm``): every action posts
it and gets the till back, computed by ``orders.services.order_preview`` — as an htmx fragment
when the page has JavaScript, as the whole page when it has not. "Sell" records it through
``orders.services.order_place`` and leads to the result screen, which is the till again, empty
and ready for the next customer, with the sale, its points and its receipt on top.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext

from customers.models import MessageChannel
from inventory.models import LocationKind
from inventory.selectors import locations_for_user
from loyalty import services as loyalty
from omni.core.channels import Channel
from omni.core.errors import DomainError
from orders import services
from orders.admin.common import actor_of
from orders.admin.till_result import sale_result, sold_order
from orders.desk_forms.till import TillForm
from orders.models import Order, PaymentMethod
from orders.selectors import customer_panel
from orders.services.receipts import receipt_send

LINE_ACTIONS = {"plus": 1, "minus": -1}


def till_stores(user):
    return locations_for_user(user).filter(kind=LocationKind.STORE, is_active=True).order_by("name")


class TillMixin:
    """The till's views, part of ``OrderAdmin``."""

    def till_urls(self):
        view = self.admin_site.admin_view
        return [
            path("sale/", view(self.sale_view), name="orders_order_sale"),
            path("sale/<int:pk>/receipt/", view(self.sale_receipt_view), name="orders_order_sale_receipt"),
            path(
                "sale/<int:pk>/send-receipt/", view(self.sale_send_receipt_view), name="orders_order_sale_send_receipt"
            ),
        ]

    def _till_check(self, request) -> None:
        if not request.user.has_perm("orders.sell_in_store"):
            raise PermissionDenied

    def sale_view(self, request):
        """The till; after a sale (``?done=<id>``) the same till, empty, under the sale's result."""
        self._till_check(request)
        stores = till_stores(request.user)
        if request.method == "POST":
            return self._till_post(request, TillForm(request.POST, stores=stores))
        done = sold_order(request.user, request.GET.get("done", ""))
        return self._till_render(request, TillForm(stores=stores), result=sale_result(done) if done else None)

    def _till_post(self, request, form: TillForm):
        action, _sep, index = request.POST.get("_action", "scan").partition(":")
        if action == "new":
            return self._till_redirect(request, reverse("admin:orders_order_sale"))
        form.is_valid()  # a field's own error is shown next to it; the rest of the till still works
        self._till_apply(request, form, action, index)
        receipt = self._till_preview(request, form)
        if action == "sell" and receipt is not None:
            order = self._till_sell(request, form, receipt)
            if order is not None:
                return self._till_redirect(request, f"{reverse('admin:orders_order_sale')}?done={order.pk}")
        return self._till_render(request, form, receipt=receipt)

    def _till_apply(self, request, form: TillForm, action: str, index: str) -> None:
        """Edit the sale in progress as the button pressed says (Enter in any box is "scan")."""
        position = int(index) if index.isdigit() else -1
        if action in LINE_ACTIONS:
            form.change_line(position, LINE_ACTIONS[action])
        elif action == "remove":
            form.remove_line(position)
        elif action == "customer_clear":
            form.set_customer(None)
        elif action != "sell":  # "Sell" sells what the receipt showed, nothing typed since
            form.scan_code()
        if form.chosen_customer is not None:
            form.set_customer(form.chosen_customer)
        elif action == "sell":
            form.check_no_customer_pending()
        else:
            form.find_customer()
        if action == "send_code":
            self._till_send_code(request, form)

    def _till_send_code(self, request, form: TillForm) -> None:
        if form.chosen_customer is None:
            form.add_error("otp_code", gettext("Choose the customer first."))
            return
        try:
            loyalty.otp_send(customer=form.chosen_customer, channel=Channel.STORE, actor=actor_of(request))
        except DomainError as exc:
            form.add_error("otp_code", str(exc.message))
        else:
            form.code_sent = True

    def _till_preview(self, request, form: TillForm) -> Order | None:
        """The receipt the services compute. A refused promo code or points are shown next to
        their field and the receipt is computed without them, so the rest stays visible."""
        if not form.lines:
            return None
        if form.value("location") is None:
            if "location" not in form.errors:
                form.add_error("location", gettext("Choose the store."))
            return None
        inputs = form.order_input(payments=[services.PaymentInput(method=PaymentMethod.CARD_IN_STORE)])
        while True:
            try:
                return services.order_preview(**inputs, actor=actor_of(request))
            except DomainError as exc:
                if exc.code == "payment_mismatch" and inputs["payments"]:
                    inputs["payments"] = []  # the promo code and the points leave nothing to pay
                    continue
                field = form.add_domain_error(exc)
                if field == "otp_code":
                    form.forget("otp_code")  # a wrong code is typed again, not counted again
                if field in ("points", "otp_code") and inputs["points"]:
                    inputs["points"] = 0
                elif field == "promo_code" and inputs["promo_code"]:
                    inputs["promo_code"] = ""
                else:
                    return None

    def _till_sell(self, request, form: TillForm, receipt: Order) -> Order | None:
        if form.blocks_the_sale() or not form.check_payment(receipt.total) or not form.check_total(receipt.total):
            form.add_error(None, gettext("Nothing was sold: correct what is marked."))
            return None
        try:
            return services.order_place(**form.order_input(form.payments(receipt.total)), actor=actor_of(request))
        except DomainError as exc:
            if form.add_domain_error(exc) == "otp_code":
                form.forget("otp_code")
            return None

    def _till_redirect(self, request, url: str):
        if request.headers.get("HX-Request") == "true":
            from django_htmx.http import HttpResponseClientRedirect

            return HttpResponseClientRedirect(url)
        return redirect(url)

    def _till_render(self, request, form: TillForm, *, receipt: Order | None = None, result=None):
        customer = form.chosen_customer
        quote = _points_quote(form, receipt) if customer is not None else None
        total = receipt.total if receipt is not None else None
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Sale in the store"),
            "opts": self.opts,
            "form": form,
            "receipt": receipt,
            "rows": _rows(form, receipt),
            "result": result,
            "panel": customer_panel(customer) if customer is not None else None,
            "quote": quote,
            "code_required": _code_required(quote) if customer is not None else False,
            "change_due": form.change_due(total) if total is not None else None,
            "card_part": form.card_part(total) if total is not None else None,
        }
        request.current_app = self.admin_site.name
        fragment = request.headers.get("HX-Request") == "true"
        template = "admin/orders/till/till.html" if fragment else "admin/orders/till/page.html"
        return TemplateResponse(request, template, context)

    def sale_receipt_view(self, request, pk):
        """The customer's copy of the receipt, to print (not a fiscal receipt)."""
        self._till_check(request)
        order = sold_order(request.user, str(pk))
        if order is None:
            raise Http404
        context = {"result": sale_result(order), "order": order, "autoprint": request.GET.get("print") == "1"}
        return TemplateResponse(request, "admin/orders/till/receipt.html", context)

    def sale_send_receipt_view(self, request, pk):
        self._till_check(request)
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        order = sold_order(request.user, str(pk))
        if order is None:
            raise Http404
        try:
            message = receipt_send(order=order, actor=actor_of(request))
        except DomainError as exc:
            self.message_user(request, str(exc.message), messages.ERROR)
        else:
            self.message_user(request, _sent_text(message), messages.SUCCESS)
        return redirect(f"{reverse('admin:orders_order_sale')}?done={order.pk}")


def _sent_text(message) -> str:
    if message.channel == MessageChannel.EMAIL:
        return gettext("The receipt is sent by e-mail to %(recipient)s.") % {"recipient": message.recipient}
    return gettext("The receipt is sent (%(channel)s: %(recipient)s).") % {
        "channel": MessageChannel(message.channel).label,
        "recipient": message.recipient,
    }


def _rows(form: TillForm, receipt: Order | None) -> list[dict]:
    """The lines as the till shows them: what was scanned, with the receipt's figures per line."""
    computed = {line.sku: line for line in receipt.preview_lines} if receipt is not None else {}
    return [
        {"index": index, "line": line, "computed": computed.get(line.product.sku)}
        for index, line in enumerate(form.lines)
    ]


def _points_quote(form: TillForm, receipt: Order | None):
    """How many points the customer has and may spend on this receipt (None without an account)."""
    amounts = {line.sku: line.amount for line in receipt.preview_lines} if receipt is not None else {}
    lines = [
        loyalty.CartLine(
            product_id=line.product.pk,
            category_id=line.product.category_id,
            quantity=line.quantity,
            amount=amounts.get(line.product.sku, line.amount),
        )
        for line in form.lines
    ]
    try:
        return loyalty.points_quote(customer=form.chosen_customer, lines=lines, channel=Channel.STORE)
    except DomainError:
        return None


def _code_required(quote) -> bool:
    if quote is not None:
        return quote.code_required
    try:
        return loyalty.code_required(loyalty.programme_current(), Channel.STORE)
    except DomainError:
        return False
