"""The order list and page for store staff: the actions on one order and on selected orders.

Orders are placed at the till (``orders.admin.till``), prepared and handed over at the pickup desk
(``orders.admin.pickup``); here they are read, marked ready, cancelled and paid."""

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format, time_format
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from inventory.admin import LocationScopedAdminMixin, UserLocationFilter
from inventory.forms import message_domain_error
from omni.core.actors import Actor
from omni.core.admin_mixins import panel_table, render_form_page
from omni.core.errors import DomainError
from omni.core.formats import format_money
from orders import services, states
from orders.admin.common import OrderLineInline, PaymentInline, RefundInline, StatusChangeInline, actor_of
from orders.admin.desk_common import DeskCommonMixin
from orders.admin.pickup import PickupDeskMixin
from orders.admin.till import TillMixin
from orders.forms import CancelForm, PaymentRecordForm
from orders.models import (
    Order,
)


@admin.register(Order)
class OrderAdmin(TillMixin, PickupDeskMixin, DeskCommonMixin, LocationScopedAdminMixin, admin.ModelAdmin):
    """Orders are placed, moved and cancelled only through their services."""

    location_lookups = ("location",)
    # Fits 1,366 px beside the filters: refunds and the full dates are on the order's page.
    list_display = ["number", "placed", "how", "status", "customer", "location_code", "total_shown", "paid_shown"]
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

    @admin.display(description=_("placed"), ordering="created_at")
    def placed(self, obj):
        moment = timezone.localtime(obj.created_at)
        return format_html("{}<br><small>{}</small>", date_format(moment, "SHORT_DATE_FORMAT"), time_format(moment))

    @admin.display(description=_("channel"))
    def how(self, obj):
        return format_html("{}<br><small>{}</small>", obj.get_channel_display(), obj.get_fulfilment_display())

    @admin.display(description=_("store"), ordering="location__code")
    def location_code(self, obj):
        if obj.location is None:
            return "—"
        return format_html('<span title="{}">{}</span>', obj.location.name, obj.location.code)

    @admin.display(description=_("total"), ordering="total")
    def total_shown(self, obj):
        return format_money(obj.total, sign=False)

    @admin.display(description=_("paid"), ordering="paid")
    def paid_shown(self, obj):
        return format_money(obj.paid, sign=False)

    def get_list_display(self, request):
        """The store column only for whoever sees more than one store."""
        ids = self.user_location_ids(request)
        if ids is not None and len(ids) < 2:
            return [name for name in self.list_display if name != "location_code"]
        return self.list_display

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
        return panel_table(
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
        return panel_table([_("number"), _("date"), _("accepted at"), _("refund"), _("refund to")], rows)

    # --- Actions on the selected orders

    @admin.action(description=_("Mark selected orders ready for pickup"), permissions=["ready"])
    def ready_selected(self, request, queryset):
        self._run(request, queryset, lambda order: services.order_mark_ready(order=order, actor=actor_of(request)))

    @admin.action(description=_("Cancel selected orders"), permissions=["cancel"])
    def cancel_selected(self, request, queryset):
        self._run(request, queryset, lambda order: services.order_cancel(order=order, actor=actor_of(request)))

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
            path("<path:object_id>/ready/", view(self.ready_view), name="orders_order_ready"),
            path("<path:object_id>/partial/", view(self.partial_view), name="orders_order_partial"),
            path("<path:object_id>/cancel/", view(self.cancel_view), name="orders_order_cancel"),
            path("<path:object_id>/payment/", view(self.payment_view), name="orders_order_payment"),
        ]
        return self.desk_common_urls() + self.till_urls() + self.pickup_urls() + urls + super().get_urls()

    def get_object(self, request, object_id, from_field=None):
        """The order's page reads any order, of any store or channel: a customer's order is
        looked up by whoever serves them (from the customer's card, a return taken at another
        store). Acting on it is for its own store's staff (``_order_or_redirect``)."""
        order = super().get_object(request, object_id, from_field)
        if order is None and self.has_view_permission(request):
            order = self._any_order(object_id)
        return order

    def _any_order(self, object_id) -> Order | None:
        try:
            return Order.objects.select_related("customer", "location").get(pk=int(object_id))
        except (ValueError, TypeError, OverflowError, Order.DoesNotExist):
            return None

    def may_act_on(self, request, order: Order) -> bool:
        """Whether the user works at the order's store: only then may they change it."""
        return self.get_queryset(request).filter(pk=order.pk).exists()

    def _order_or_redirect(self, request, object_id):
        """The order to act on, of the user's stores; another store's order is refused, not lost."""
        order = super().get_object(request, unquote(object_id))  # of the user's stores: one query
        if order is not None:
            return order, None
        other = self._any_order(unquote(object_id)) if self.has_view_permission(request) else None
        if other is None:
            return None, self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        self.message_user(request, self.other_store_text(other), messages.ERROR)
        return None, redirect("admin:orders_order_change", other.pk)

    @staticmethod
    def other_store_text(order: Order) -> str:
        return gettext("Order %(number)s belongs to %(store)s: you can see it, only its staff can change it.") % {
            "number": order.number,
            "store": order.location or gettext("another channel"),
        }

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
            action(order=order, actor=actor_of(request))
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
                services.order_cancel(order=order, reason=form.cleaned_data["reason"], actor=actor_of(request))
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
                payment, created = services.payment_record(order=order, payment=form.payment(), actor=actor_of(request))
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
            mine = self.may_act_on(request, order)
            extra_context.update(
                {
                    "read_only_notice": None if mine else self.other_store_text(order),
                    "can_ready": mine
                    and self.has_ready_permission(request)
                    and states.allowed(order, states.Action.READY),
                    "can_accept_partial": mine
                    and self.has_ready_permission(request)
                    and states.allowed(order, states.Action.ACCEPT_PARTIAL),
                    "can_hand_over": mine
                    and request.user.has_perm("orders.hand_over_order")
                    and states.allowed(order, states.Action.HAND_OVER),
                    "can_cancel": mine
                    and self.has_cancel_permission(request)
                    and states.allowed(order, states.Action.CANCEL),
                    "can_record_payment": mine
                    and self.has_payment_permission(request)
                    and order.status not in services.CLOSED_STATUSES
                    and order.due > 0,
                }
            )
        return super().change_view(request, object_id, form_url, extra_context)
