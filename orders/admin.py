"""The orders admin for store staff: the click-and-collect desk, the sale at the till, the return
desk, and orders and returns on the customer's page.

Thin, like the API: forms parse input, the services in ``orders.services`` apply the rules, and
their refusals are shown as messages. Store staff see only their stores' orders and returns
(``LocationScopedAdminMixin``): another store's order answers "does not exist". Any completed
order can be found at the return desk, since goods of any channel come back to any store.
"""

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from customers.admin import DisplayOnlyFormSet, add_customer_page_inline
from inventory.admin import LocationScopedAdminMixin, UserLocationFilter
from inventory.forms import message_domain_error
from inventory.models import LocationKind
from inventory.selectors import locations_for_user, user_sees_all_locations
from omni.core.actors import Actor
from omni.core.admin_mixins import ReadOnlyAdminMixin, ReadOnlyInline, render_form_page
from omni.core.channels import Channel
from omni.core.errors import DomainError
from orders import selectors, services, states
from orders.forms import CancelForm, HandoverForm, PaymentRecordForm, ReturnForm, ReturnSearchForm, SaleForm
from orders.models import (
    Fulfilment,
    Order,
    OrderLine,
    OrderReturn,
    OrderStatus,
    Payment,
    Refund,
    ReturnLine,
    StatusChange,
)


def _actor(request) -> Actor:
    return Actor(user=request.user)


class ParentViewInline(ReadOnlyInline):
    """Rows of an order or a return: whoever may see it sees them."""

    parent_permission = "orders.view_order"

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm(self.parent_permission)


class OrderLineInline(ParentViewInline):
    model = OrderLine
    fields = [
        "sku",
        "name",
        "unit_price",
        "quantity",
        "discount",
        "points",
        "points_value",
        "total",
        "refused_quantity",
        "refused_total",
        "returned_quantity",
    ]
    readonly_fields = fields


class PaymentInline(ParentViewInline):
    model = Payment
    fields = ["method", "amount", "refunded", "status", "transaction_id", "terminal", "acquiring_bank", "employee"]
    readonly_fields = fields


class RefundInline(ParentViewInline):
    model = Refund
    fields = ["method", "amount", "points", "status", "order_return", "reason", "created_at", "completed_at"]
    readonly_fields = fields


class StatusChangeInline(ParentViewInline):
    model = StatusChange
    fields = ["created_at", "status_from", "status_to", "note", "created_by", "api_key"]
    readonly_fields = fields


@admin.register(Order)
class OrderAdmin(LocationScopedAdminMixin, admin.ModelAdmin):
    """Orders are placed, moved and cancelled only through their services."""

    location_lookups = ("location",)
    list_display = [
        "number",
        "created_at",
        "channel",
        "fulfilment",
        "status",
        "customer",
        "location",
        "total",
        "paid",
        "refunded",
    ]
    list_filter = ["status", "fulfilment", "channel", ("location", UserLocationFilter)]
    list_select_related = ["customer", "location"]
    search_fields = ["number", "contact_phone"]
    search_help_text = _("Search by order number or contact phone; filter by customer from the customer's page.")
    date_hierarchy = "created_at"
    readonly_fields = [
        "number",
        "channel",
        "fulfilment",
        "status",
        "customer",
        "location",
        "delivery_address",
        "contact_name",
        "contact_phone",
        "promo_code",
        "subtotal",
        "discount",
        "points_redeemed",
        "points_value",
        "total",
        "paid",
        "refunded",
        "points_earned",
        "note",
        "cancel_reason",
        "placed_by",
        "created_at",
        "ready_at",
        "pickup_until",
        "packed_at",
        "shipped_at",
        "completed_at",
        "cancelled_at",
        "expired_at",
        "allocations_panel",
        "returns_panel",
    ]
    fieldsets = [
        (None, {"fields": [("number", "status"), ("channel", "fulfilment"), ("customer", "location"), "placed_by"]}),
        (_("Delivery"), {"fields": ["delivery_address", ("contact_name", "contact_phone")]}),
        (
            _("Money"),
            {
                "fields": [
                    ("subtotal", "promo_code", "discount"),
                    ("points_redeemed", "points_value"),
                    ("total", "paid", "refunded"),
                    "points_earned",
                ]
            },
        ),
        (_("Reserved stock"), {"fields": ["allocations_panel"]}),
        (_("Returns"), {"fields": ["returns_panel"]}),
        (
            _("Dates"),
            {
                "fields": [
                    ("created_at", "ready_at", "pickup_until"),
                    ("packed_at", "shipped_at", "completed_at"),
                    ("cancelled_at", "expired_at"),
                    "cancel_reason",
                    "note",
                ]
            },
        ),
    ]
    inlines = [OrderLineInline, PaymentInline, RefundInline, StatusChangeInline]
    actions = ["ready_selected", "cancel_selected"]
    change_form_template = "admin/orders/order/change_form.html"
    change_list_template = "admin/orders/order/change_list.html"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("customer", "location", "created_by", "api_key")

    def has_add_permission(self, request):
        return False  # orders are placed at the till (the sale screen), on the site or through the API

    def has_change_permission(self, request, obj=None):
        return False  # an order changes only through its actions

    def has_delete_permission(self, request, obj=None):
        return False

    def has_ready_permission(self, request):
        return request.user.has_perm("orders.change_order")

    def has_cancel_permission(self, request):
        return request.user.has_perm("orders.cancel_order")

    def lookup_allowed(self, lookup, value, request=None):
        return lookup in {"customer__id__exact", "customer"} or super().lookup_allowed(lookup, value, request)

    @admin.display(description=_("placed by"))
    def placed_by(self, obj):
        return str(Actor(user=obj.created_by, api_key=obj.api_key))

    @admin.display(description=_("where the goods are held"))
    def allocations_panel(self, obj):
        rows = [
            (
                allocation.line.sku,
                allocation.location,
                allocation.quantity,
                allocation.transfer or "—",
                gettext("waiting for the transfer") if allocation.pending else "—",
                allocation.sold,
                allocation.released,
            )
            for line in obj.lines.prefetch_related("allocations__location", "allocations__transfer")
            for allocation in line.allocations.all()
        ]
        return _table(
            [_("SKU"), _("location"), _("quantity"), _("transfer"), _("state"), _("sold"), _("released")], rows
        )

    @admin.display(description=_("returns"))
    def returns_panel(self, obj):
        rows = [
            (
                format_html('<a href="{}">{}</a>', reverse("admin:orders_orderreturn_change", args=[r.pk]), r.number),
                r.created_at,
                r.location,
                r.refund_amount,
                r.get_refund_method_display(),
            )
            for r in obj.returns.select_related("location")
        ]
        return _table([_("number"), _("date"), _("accepted at"), _("refund"), _("refund to")], rows)

    # --- Actions on the selected orders

    @admin.action(description=_("Mark selected orders ready for pickup"), permissions=["ready"])
    def ready_selected(self, request, queryset):
        self._run(request, queryset, lambda order: services.order_mark_ready(order=order, actor=_actor(request)))

    @admin.action(description=_("Cancel selected orders"), permissions=["cancel"])
    def cancel_selected(self, request, queryset):
        self._run(request, queryset, lambda order: services.order_cancel(order=order, actor=_actor(request)))

    def _run(self, request, queryset, service) -> None:
        done = []
        for order in queryset.order_by("pk"):
            try:
                service(order)
            except DomainError as exc:
                message_domain_error(self, request, exc)
            else:
                done.append(order.number)
        if done:
            self.message_user(
                request,
                ngettext("Order %(numbers)s is done.", "Orders %(numbers)s are done.", len(done))
                % {"numbers": ", ".join(done)},
                messages.SUCCESS,
            )

    # --- The desk, the till, and the actions on one order

    def get_urls(self):
        view = self.admin_site.admin_view
        urls = [
            path("desk/", view(self.desk_view), name="orders_order_desk"),
            path("sale/", view(self.sale_view), name="orders_order_sale"),
            path("<path:object_id>/ready/", view(self.ready_view), name="orders_order_ready"),
            path("<path:object_id>/partial/", view(self.partial_view), name="orders_order_partial"),
            path("<path:object_id>/handover/", view(self.handover_view), name="orders_order_handover"),
            path("<path:object_id>/cancel/", view(self.cancel_view), name="orders_order_cancel"),
            path("<path:object_id>/payment/", view(self.payment_view), name="orders_order_payment"),
        ]
        return urls + super().get_urls()

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

    def _order_or_redirect(self, request, object_id):
        order = self.get_object(request, unquote(object_id))
        if order is None:
            return None, self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        return order, None

    def ready_view(self, request, object_id):
        return self._desk_action(
            request,
            object_id,
            services.order_mark_ready,
            _("Order %(number)s is ready for pickup; the customer is told."),
        )

    def partial_view(self, request, object_id):
        """An order short of goods nobody has: go ahead with what is there."""
        return self._desk_action(
            request,
            object_id,
            services.order_accept_partial,
            _("Order %(number)s goes ahead without the missing goods: it is ready for pickup."),
        )

    def _desk_action(self, request, object_id, action, done_message):
        """A button of the pickup desk: run ``action`` on the order, say how it went, go back."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_ready_permission(request):
            raise PermissionDenied
        order, response = self._order_or_redirect(request, object_id)
        if response:
            return response
        try:
            action(order=order, actor=_actor(request))
        except DomainError as exc:
            message_domain_error(self, request, exc)
        else:
            self.message_user(request, done_message % {"number": order.number}, messages.SUCCESS)
        return redirect(request.POST.get("next") or reverse("admin:orders_order_desk"))

    def cancel_view(self, request, object_id):
        if not self.has_cancel_permission(request):
            raise PermissionDenied
        order, response = self._order_or_redirect(request, object_id)
        if response:
            return response
        form = CancelForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.order_cancel(order=order, reason=form.cleaned_data["reason"], actor=_actor(request))
            except DomainError as exc:
                message_domain_error(self, request, exc)
            else:
                self.message_user(
                    request,
                    gettext("Order %(number)s is cancelled; its goods and points are released.")
                    % {"number": order.number},
                    messages.SUCCESS,
                )
                return redirect("admin:orders_order_change", order.pk)
        return render_form_page(
            self,
            request,
            form=form,
            original=order,
            title=gettext("Cancel order %(number)s") % {"number": order.number},
            submit_label=gettext("Cancel the order"),
            intro=gettext("Its goods go back to available stock, its points and promo code are released."),
        )

    def has_payment_permission(self, request):
        return request.user.has_perm("orders.change_order")

    def payment_view(self, request, object_id):
        """Record a payment received after the order was placed (a card online, an SBP link)."""
        if not self.has_payment_permission(request):
            raise PermissionDenied
        order, response = self._order_or_redirect(request, object_id)
        if response:
            return response
        form = PaymentRecordForm(request.POST or None, initial={"amount": order.due})
        if request.method == "POST" and form.is_valid():
            try:
                payment, created = services.payment_record(order=order, payment=form.payment(), actor=_actor(request))
            except DomainError as exc:
                message_domain_error(self, request, exc)
            else:
                if created:
                    text = gettext("A payment of %(amount)s is recorded on order %(number)s.")
                else:
                    text = gettext("This payment of %(amount)s was already recorded on order %(number)s.")
                self.message_user(
                    request,
                    text % {"amount": payment.amount, "number": order.number},
                    messages.SUCCESS if created else messages.WARNING,
                )
                return redirect("admin:orders_order_change", order.pk)
        return render_form_page(
            self,
            request,
            form=form,
            original=order,
            title=gettext("Record a payment for order %(number)s") % {"number": order.number},
            submit_label=gettext("Record the payment"),
            intro=gettext("Left to pay: %(due)s. Enter the payment as the bank or the gateway confirmed it.")
            % {"due": order.due},
        )

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
                    order=order, refused=form.refused(), payments=form.payments(), actor=_actor(request)
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
                    order = services.order_place(**order_input, actor=_actor(request))
                    self.message_user(
                        request,
                        gettext("Sale %(number)s is recorded: %(total)s.")
                        % {"number": order.number, "total": order.total},
                        messages.SUCCESS,
                    )
                    return redirect("admin:orders_order_change", order.pk)
                receipt = services.order_preview(**order_input, actor=_actor(request))
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

    def changelist_view(self, request, extra_context=None):
        links = [
            (reverse("admin:orders_order_desk"), gettext("Click-and-collect desk")),
        ]
        if request.user.has_perm("orders.sell_in_store"):
            links.append((reverse("admin:orders_order_sale"), gettext("Sale in the store")))
        if request.user.has_perm("orders.add_orderreturn"):
            links.append((reverse("admin:orders_orderreturn_desk"), gettext("Return desk")))
        return super().changelist_view(request, {**(extra_context or {}), "order_links": links})

    def change_view(self, request, object_id, form_url="", extra_context=None):
        order = self.get_object(request, unquote(object_id))
        extra_context = dict(extra_context or {})
        if order is not None:
            extra_context.update(
                {
                    "can_ready": self.has_ready_permission(request) and states.allowed(order, states.Action.READY),
                    "can_accept_partial": self.has_ready_permission(request)
                    and states.allowed(order, states.Action.ACCEPT_PARTIAL),
                    "can_hand_over": request.user.has_perm("orders.hand_over_order")
                    and states.allowed(order, states.Action.HAND_OVER),
                    "can_cancel": self.has_cancel_permission(request) and states.allowed(order, states.Action.CANCEL),
                    "can_record_payment": self.has_payment_permission(request)
                    and order.status not in services.CLOSED_STATUSES
                    and order.due > 0,
                }
            )
        return super().change_view(request, object_id, form_url, extra_context)


def _table(headers, rows):
    if not rows:
        return gettext("None.")
    head = format_html_join("", "<th>{}</th>", ((h,) for h in headers))
    body = format_html_join(
        "", "<tr>{}</tr>", ((format_html_join("", "<td>{}</td>", ((c,) for c in row)),) for row in rows)
    )
    return format_html('<table class="omni-panel"><thead><tr>{}</tr></thead><tbody>{}</tbody></table>', head, body)


# --- Returns ------------------------------------------------------------------------------


class ReturnLineInline(ParentViewInline):
    model = ReturnLine
    parent_permission = "orders.view_orderreturn"
    fields = ["order_line", "quantity", "condition", "amount", "paid_amount"]
    readonly_fields = fields


class ReturnRefundInline(RefundInline):
    parent_permission = "orders.view_orderreturn"
    fk_name = "order_return"


@admin.register(OrderReturn)
class OrderReturnAdmin(ReadOnlyAdminMixin, LocationScopedAdminMixin, admin.ModelAdmin):
    """Returns are accepted at the return desk, through ``return_accept``; here they are read."""

    location_lookups = ("location", "order__location")
    list_display = ["number", "created_at", "order", "location", "refund_amount", "refund_method", "late_accepted"]
    list_filter = ["refund_method", "late_accepted", ("location", UserLocationFilter)]
    list_select_related = ["order", "location"]
    search_fields = ["number", "order__number"]
    readonly_fields = [
        "number",
        "order",
        "location",
        "reason",
        "refund_method",
        "amount",
        "paid_amount",
        "shortfall_points",
        "shortfall_value",
        "refund_amount",
        "refund_points",
        "points_reversed",
        "points_given_back",
        "late_accepted",
        "created_by",
        "created_at",
    ]
    fields = readonly_fields
    inlines = [ReturnLineInline, ReturnRefundInline]
    change_list_template = "admin/orders/orderreturn/change_list.html"

    def get_queryset(self, request):
        return super().get_queryset(request).distinct()

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
                "actor": _actor(request),
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

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(
            request, {**(extra_context or {}), "can_take_returns": request.user.has_perm("orders.add_orderreturn")}
        )


# --- Refunds ------------------------------------------------------------------------------


@admin.register(Refund)
class RefundAdmin(LocationScopedAdminMixin, admin.ModelAdmin):
    """Refunds are created by cancellations, handovers and returns; here pending ones are marked
    as made once the bank has paid them back (``refund_complete``)."""

    location_lookups = ("order__location", "order_return__location")
    list_display = ["id", "created_at", "order", "order_return", "method", "amount", "points", "status", "completed_at"]
    list_filter = ["status", "method"]
    list_select_related = ["order", "order_return"]
    search_fields = ["order__number", "order_return__number", "transaction_id"]
    readonly_fields = [
        "order",
        "order_return",
        "payment",
        "method",
        "amount",
        "points",
        "status",
        "reason",
        "transaction_id",
        "completed_at",
        "created_by",
        "api_key",
        "created_at",
    ]
    fields = readonly_fields
    actions = ["complete_selected"]

    def get_queryset(self, request):
        return super().get_queryset(request).distinct()

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # a refund changes only through its actions

    def has_delete_permission(self, request, obj=None):
        return False

    def has_complete_permission(self, request):
        return request.user.has_perm("orders.change_order")

    @admin.action(description=_("Mark as refunded"), permissions=["complete"])
    def complete_selected(self, request, queryset):
        done = []
        for refund in queryset.select_related("order").order_by("pk"):
            try:
                services.refund_complete(refund=refund, actor=_actor(request))
            except DomainError as exc:
                message_domain_error(self, request, exc)
            else:
                done.append(refund)
        if done:
            self.message_user(
                request,
                ngettext(
                    "%(count)d refund is marked as refunded; the customer is told.",
                    "%(count)d refunds are marked as refunded; the customers are told.",
                    len(done),
                )
                % {"count": len(done)},
                messages.SUCCESS,
            )


# --- The customer's page: every order and return, from every channel ----------------------


class CustomerOrderInline(ReadOnlyInline):
    model = Order
    fk_name = "customer"
    formset = DisplayOnlyFormSet
    verbose_name = _("order")
    verbose_name_plural = _("orders and returns, every channel")
    fields = ["order_link", "created_at", "channel", "fulfilment", "status", "location", "total", "paid", "returns"]
    readonly_fields = fields
    ordering = ["-created_at", "-id"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("location").prefetch_related("returns")

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("orders.view_order")

    @admin.display(description=_("order"))
    def order_link(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("admin:orders_order_change", args=[obj.pk]), obj.number)

    @admin.display(description=_("returns"))
    def returns(self, obj):
        found = [
            (reverse("admin:orders_orderreturn_change", args=[r.pk]), r.number, r.refund_amount)
            for r in obj.returns.all()
        ]
        if not found:
            return "—"
        return format_html_join(", ", '<a href="{}">{}</a> ({})', found)


add_customer_page_inline(CustomerOrderInline)
