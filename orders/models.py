"""Orders from every channel, their payments, fulfilment, returns and refunds.

Every change goes through ``orders.services`` (and the state machine in ``orders.states``);
these models hold the data and the bounds the database keeps under any concurrency.

Order numbers are ``<prefix>-<six digits>``, one counter per prefix taken from
``omni.core.services.sequence_next`` (a native sequence on PostgreSQL: unique and never blocking, a
rolled-back order leaves a gap): ``W`` site, ``A`` mobile app, ``S`` store, ``C`` call centre,
``M`` messenger, ``N`` social network, ``P`` marketplace. Returns are ``R-<six digits>``.

Money is per line: ``subtotal`` (unit price × units), ``discount`` (its share of the promo
discount), ``amount`` (after discounts, before points), ``points`` and ``points_value`` (its share
of the points spent), ``total`` (what is paid in money). Shares are spread in proportion with the
largest remainder, so lines always sum to the order. Units refused at handover (or that could not
be brought to the store) take their share of each figure off the line into its ``refused_*``
figures: the line shows what the customer keeps and still sums to the order, and the figures as
ordered are the two together (``ordered_*``). Units returned later take their share of the
figures as ordered cumulatively, after the refused ones (``omni.core.money``).
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Round
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from omni.core.channels import SALES_CHANNEL_CHOICES, Channel
from omni.core.models import TimeStampedModel, by_api_key, by_staff_member

MONEY = {"max_digits": 12, "decimal_places": 2}


# The prefix of each channel's order numbers.
NUMBER_PREFIXES = {
    Channel.SITE: "W",
    Channel.APP: "A",
    Channel.STORE: "S",
    Channel.CALL_CENTRE: "C",
    Channel.MESSENGER: "M",
    Channel.SOCIAL: "N",
    Channel.MARKETPLACE: "P",
}


class Fulfilment(models.TextChoices):
    DELIVERY = "delivery", _("delivery")
    CLICK_AND_COLLECT = "click_and_collect", _("click-and-collect")
    IN_STORE = "in_store", _("sale in store")


class OrderStatus(models.TextChoices):
    PLACED = "placed", _("placed")
    AWAITING_TRANSFER = "awaiting_transfer", _("awaiting transfer to the store")
    AWAITING_DECISION = "awaiting_decision", _("goods missing: awaiting a decision")
    READY_FOR_PICKUP = "ready_for_pickup", _("ready for pickup")
    COLLECTED = "collected", _("collected")
    PACKED = "packed", _("packed")
    SHIPPED = "shipped", _("shipped")
    DELIVERED = "delivered", _("delivered")
    SOLD = "sold", _("sold in store")
    CANCELLED = "cancelled", _("cancelled")
    EXPIRED = "expired", _("expired, not collected")


# The statuses of an order the customer has (goods handed over): it can be returned.
COMPLETED_STATUSES = (OrderStatus.COLLECTED, OrderStatus.DELIVERED, OrderStatus.SOLD)


class PaymentMethod(models.TextChoices):
    CARD_ONLINE = "card_online", _("card online")
    CARD_IN_STORE = "card_in_store", _("card in store")
    CASH = "cash", _("cash")
    SBP = "sbp", _("fast payment system (SBP)")
    COURIER_CASH = "courier_cash", _("cash to the courier")
    COURIER_CARD = "courier_card", _("card to the courier")
    POINTS = "points", _("points")


class PaymentStatus(models.TextChoices):
    PAID = "paid", _("paid")
    CANCELLED = "cancelled", _("cancelled")


class RefundStatus(models.TextChoices):
    PENDING = "pending", _("to be refunded")
    DONE = "done", _("refunded")


class ReturnCondition(models.TextChoices):
    RESELLABLE = "resellable", _("resellable")
    FAULTY = "faulty", _("faulty")


class RefundMethod(models.TextChoices):
    ORIGINAL = "original", _("to the original payment methods")
    POINTS = "points", _("to loyalty points")


class RefundPayout(models.TextChoices):
    """How a pending refund was paid back (``orders.services.refunds.refund_complete``)."""

    BANK = "bank", _("by the bank or the payment gateway")
    TERMINAL = "terminal", _("to the card, at the store's terminal")
    CASH = "cash", _("in cash, at the desk")


class Order(TimeStampedModel):
    number = models.CharField(_("number"), max_length=32, unique=True)
    channel = models.CharField(_("channel"), max_length=16, choices=SALES_CHANNEL_CHOICES, db_index=True)
    fulfilment = models.CharField(_("fulfilment"), max_length=24, choices=Fulfilment.choices)
    status = models.CharField(_("status"), max_length=24, choices=OrderStatus.choices, db_index=True)
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
    )
    location = models.ForeignKey(
        "inventory.Location",
        verbose_name=_("store or shipping location"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
        help_text=_("The pickup store, the store of a sale, or the location a delivery ships from."),
    )
    delivery_address = models.TextField(_("delivery address"), blank=True)
    contact_name = models.CharField(_("contact name"), max_length=200, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=32, blank=True)
    promo_code = models.CharField(_("promo code"), max_length=32, blank=True)
    subtotal = models.DecimalField(_("subtotal"), default=0, **MONEY)
    discount = models.DecimalField(_("discount"), default=0, **MONEY)
    points_redeemed = models.PositiveIntegerField(_("points spent"), default=0)
    points_value = models.DecimalField(_("value of points spent"), default=0, **MONEY)
    total = models.DecimalField(_("total to pay"), default=0, **MONEY)
    paid = models.DecimalField(_("paid"), default=0, **MONEY)
    refunded = models.DecimalField(_("refunded"), default=0, **MONEY)
    points_earned = models.PositiveIntegerField(_("points earned"), default=0)
    note = models.CharField(_("note"), max_length=255, blank=True)
    cancel_reason = models.CharField(_("reason for cancelling"), max_length=255, blank=True)
    created_by = by_staff_member(_("placed by staff member"))
    api_key = by_api_key(_("placed by API key"))
    ready_at = models.DateTimeField(_("ready for pickup at"), null=True, blank=True)
    pickup_until = models.DateTimeField(_("to be collected by"), null=True, blank=True, db_index=True)
    reminded_at = models.DateTimeField(_("pickup reminder sent at"), null=True, blank=True)
    packed_at = models.DateTimeField(_("packed at"), null=True, blank=True)
    shipped_at = models.DateTimeField(_("shipped at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True, db_index=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    expired_at = models.DateTimeField(_("expired at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        indexes = [
            models.Index(fields=["customer", "-created_at"], name="order_customer_created_idx"),
            models.Index(fields=["location", "status"], name="order_location_status_idx"),
            models.Index(fields=["updated_at", "id"], name="order_sync_idx"),  # incremental sync
            # The dashboard's customer figures: each customer's completed orders in order, read
            # from the index alone (omni.reports.selectors.customers.customer_totals_from_orders).
            models.Index(
                fields=["customer", "completed_at"],
                include=["channel", "paid", "refunded", "location"],
                condition=Q(status__in=COMPLETED_STATUSES, customer__isnull=False),
                name="order_customer_completed_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(customer__isnull=False) | Q(fulfilment="in_store"), name="order_customer_required"
            ),
            models.CheckConstraint(
                condition=Q(location__isnull=False) | Q(fulfilment="delivery"), name="order_store_required"
            ),
            models.CheckConstraint(
                condition=Q(subtotal__gte=0)
                & Q(discount__gte=0)
                & Q(points_value__gte=0)
                & Q(total__gte=0)
                & Q(paid__gte=0)
                & Q(refunded__gte=0),
                name="order_money_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(total=Round(F("subtotal") - F("discount") - F("points_value"), 2)),
                name="order_total_computed",
            ),
            models.CheckConstraint(condition=Q(refunded__lte=F("paid")), name="order_refunded_within_paid"),
        ]
        permissions = [
            ("hand_over_order", _("Can hand over orders and take payment")),
            ("cancel_order", _("Can cancel orders")),
            ("sell_in_store", _("Can sell in the store")),
            ("accept_late_return", _("Can accept a late return of a faulty item")),
        ]

    def __str__(self):
        return self.number

    @property
    def due(self):
        """What remains to be paid in money."""
        return max(self.total - self.paid, Decimal("0.00"))


class OrderLine(models.Model):
    order = models.ForeignKey(Order, verbose_name=_("order"), on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(
        "inventory.Product", verbose_name=_("product"), on_delete=models.PROTECT, related_name="+"
    )
    sku = models.CharField(_("SKU"), max_length=64)
    name = models.CharField(pgettext_lazy("goods", "name"), max_length=255)
    unit_price = models.DecimalField(_("unit price"), **MONEY)
    quantity = models.PositiveIntegerField(_("quantity"))
    subtotal = models.DecimalField(_("subtotal"), **MONEY)
    discount = models.DecimalField(_("discount"), default=0, **MONEY)
    amount = models.DecimalField(_("after discounts"), **MONEY)
    points = models.PositiveIntegerField(_("points spent"), default=0)
    points_value = models.DecimalField(_("value of points spent"), default=0, **MONEY)
    total = models.DecimalField(_("total to pay"), **MONEY)
    refused_quantity = models.PositiveIntegerField(_("refused"), default=0)
    refused_subtotal = models.DecimalField(_("refused: subtotal"), default=0, **MONEY)
    refused_discount = models.DecimalField(_("refused: discount"), default=0, **MONEY)
    refused_points = models.PositiveIntegerField(_("refused: points spent"), default=0)
    refused_points_value = models.DecimalField(_("refused: value of points spent"), default=0, **MONEY)
    refused_total = models.DecimalField(_("refused: total"), default=0, **MONEY)
    returned_quantity = models.PositiveIntegerField(_("returned"), default=0)

    class Meta:
        ordering = ["id"]
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        constraints = [
            models.UniqueConstraint(fields=["order", "product"], name="order_line_unique_product"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="order_line_quantity_positive"),
            models.CheckConstraint(
                condition=Q(refused_quantity__gte=0)
                & Q(returned_quantity__gte=0)
                & Q(refused_quantity__lte=F("quantity") - F("returned_quantity")),
                name="order_line_refused_returned_within_quantity",
            ),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0)
                & Q(subtotal__gte=0)
                & Q(discount__gte=0)
                & Q(points_value__gte=0)
                & Q(total__gte=0),
                name="order_line_money_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(amount=Round(F("subtotal") - F("discount"), 2)), name="order_line_amount"
            ),
            models.CheckConstraint(
                condition=Q(total=Round(F("amount") - F("points_value"), 2)), name="order_line_total"
            ),
            models.CheckConstraint(
                condition=Q(refused_subtotal__gte=0)
                & Q(refused_discount__gte=0)
                & Q(refused_points_value__gte=0)
                & Q(refused_total__gte=0)
                & Q(refused_total=Round(F("refused_subtotal") - F("refused_discount") - F("refused_points_value"), 2)),
                name="order_line_refused_figures",
            ),
        ]

    def __str__(self):
        return f"{self.sku} × {self.quantity}"

    @property
    def kept_quantity(self) -> int:
        """Units the customer has: bought, less refused and returned."""
        return self.quantity - self.refused_quantity - self.returned_quantity

    # The line as it was ordered: what is kept and what was refused together.
    @property
    def ordered_discount(self) -> Decimal:
        return self.discount + self.refused_discount

    @property
    def ordered_points(self) -> int:
        return self.points + self.refused_points

    @property
    def ordered_points_value(self) -> Decimal:
        return self.points_value + self.refused_points_value


class OrderAllocation(models.Model):
    """Where a line's units are held: reserved at a location, or (``pending``) coming to the pickup
    store by ``transfer``, reserved there on receipt. ``sold`` and ``released`` count what the
    handover, a cancellation or an expiry did with them, so each touches exactly these rows."""

    line = models.ForeignKey(
        OrderLine, verbose_name=_("order line"), on_delete=models.CASCADE, related_name="allocations"
    )
    location = models.ForeignKey(
        "inventory.Location", verbose_name=_("location"), on_delete=models.PROTECT, related_name="+"
    )
    quantity = models.PositiveIntegerField(_("quantity"))
    transfer = models.ForeignKey(
        "inventory.Transfer",
        verbose_name=_("transfer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    pending = models.BooleanField(_("waiting for the transfer"), default=False)
    sold = models.PositiveIntegerField(_("sold"), default=0)
    released = models.PositiveIntegerField(_("released"), default=0)

    class Meta:
        ordering = ["id"]
        verbose_name = _("stock allocation")
        verbose_name_plural = _("stock allocations")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="order_allocation_quantity_positive"),
            models.CheckConstraint(
                condition=Q(sold__gte=0) & Q(released__gte=0) & Q(sold__lte=F("quantity") - F("released")),
                name="order_allocation_settled_within_quantity",
            ),
        ]

    def __str__(self):
        return f"{self.line_id} @ {self.location_id}: {self.quantity}"

    @property
    def open_quantity(self) -> int:
        return self.quantity - self.sold - self.released


class Payment(TimeStampedModel):
    """Money (or points) received for an order. ``refunded`` counts what was refunded of it."""

    order = models.ForeignKey(Order, verbose_name=_("order"), on_delete=models.CASCADE, related_name="payments")
    method = models.CharField(_("payment method"), max_length=16, choices=PaymentMethod.choices)
    amount = models.DecimalField(_("amount"), **MONEY)
    refunded = models.DecimalField(_("refunded"), default=0, **MONEY)
    status = models.CharField(_("status"), max_length=16, choices=PaymentStatus.choices, default=PaymentStatus.PAID)
    transaction_id = models.CharField(_("transaction id"), max_length=100, blank=True)
    terminal = models.CharField(_("terminal"), max_length=64, blank=True)
    acquiring_bank = models.CharField(_("acquiring bank"), max_length=100, blank=True)
    employee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("employee"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    api_key = by_api_key()

    class Meta:
        ordering = ["id"]
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=Q(refunded__gte=0) & Q(refunded__lte=F("amount")), name="payment_refunded_within_amount"
            ),
        ]

    def __str__(self):
        return f"{self.get_method_display()} {self.amount}"


class StatusChange(models.Model):
    """One step of an order through the state machine, with who made it and when."""

    order = models.ForeignKey(Order, verbose_name=_("order"), on_delete=models.CASCADE, related_name="history")
    status_from = models.CharField(_("previous status"), max_length=24, choices=OrderStatus.choices, blank=True)
    status_to = models.CharField(_("new status"), max_length=24, choices=OrderStatus.choices)
    note = models.CharField(_("note"), max_length=255, blank=True)
    created_by = by_staff_member()
    api_key = by_api_key()
    created_at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("status change")
        verbose_name_plural = _("status history")

    def __str__(self):
        return f"{self.order_id}: {self.status_from or '—'} → {self.status_to}"


class OrderReturn(TimeStampedModel):
    """Goods of a completed order brought back at a location that accepts returns, and the refund."""

    number = models.CharField(_("number"), max_length=32, unique=True)
    order = models.ForeignKey(Order, verbose_name=_("order"), on_delete=models.PROTECT, related_name="returns")
    location = models.ForeignKey(
        "inventory.Location", verbose_name=_("accepted at"), on_delete=models.PROTECT, related_name="order_returns"
    )
    reason = models.CharField(_("reason"), max_length=255)
    refund_method = models.CharField(_("refund to"), max_length=16, choices=RefundMethod.choices)
    amount = models.DecimalField(
        _("value of the goods"), default=0, help_text=_("What the goods cost after discounts, before points."), **MONEY
    )
    paid_amount = models.DecimalField(_("paid in money for them"), default=0, **MONEY)
    shortfall_points = models.PositiveIntegerField(_("points already spent (shortfall)"), default=0)
    shortfall_value = models.DecimalField(_("value of the shortfall"), default=0, **MONEY)
    refund_amount = models.DecimalField(_("refund"), default=0, **MONEY)
    refund_points = models.PositiveIntegerField(_("refunded as points"), default=0)
    points_reversed = models.PositiveIntegerField(_("earned points reversed"), default=0)
    points_given_back = models.PositiveIntegerField(_("spent points given back"), default=0)
    late_accepted = models.BooleanField(_("accepted after the return window"), default=False)
    created_by = by_staff_member()
    api_key = by_api_key()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("return")
        verbose_name_plural = _("returns")
        indexes = [models.Index(fields=["updated_at", "id"], name="order_return_sync_idx")]  # incremental sync
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gte=0)
                & Q(paid_amount__gte=0)
                & Q(shortfall_value__gte=0)
                & Q(refund_amount__gte=0)
                & Q(refund_amount__lte=F("paid_amount")),
                name="order_return_refund_within_paid",
            ),
        ]

    def __str__(self):
        return self.number


class ReturnLine(models.Model):
    order_return = models.ForeignKey(
        OrderReturn, verbose_name=_("return"), on_delete=models.CASCADE, related_name="lines"
    )
    order_line = models.ForeignKey(
        OrderLine, verbose_name=_("order line"), on_delete=models.PROTECT, related_name="return_lines"
    )
    quantity = models.PositiveIntegerField(_("quantity"))
    condition = models.CharField(_("condition of the goods"), max_length=16, choices=ReturnCondition.choices)
    amount = models.DecimalField(_("after discounts"), **MONEY)
    paid_amount = models.DecimalField(_("paid in money"), **MONEY)

    class Meta:
        ordering = ["id"]
        verbose_name = _("returned line")
        verbose_name_plural = _("returned lines")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="return_line_quantity_positive"),
            models.CheckConstraint(
                condition=Q(amount__gte=0) & Q(paid_amount__gte=0) & Q(paid_amount__lte=F("amount")),
                name="return_line_money_within_amount",
            ),
        ]

    def __str__(self):
        return f"{self.order_line_id} × {self.quantity}"


class Refund(TimeStampedModel):
    """Money going back to the customer: to a payment's method, or converted to points."""

    order = models.ForeignKey(Order, verbose_name=_("order"), on_delete=models.CASCADE, related_name="refunds")
    order_return = models.ForeignKey(
        OrderReturn,
        verbose_name=_("return"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="refunds",
    )
    payment = models.ForeignKey(
        Payment, verbose_name=_("payment"), null=True, blank=True, on_delete=models.PROTECT, related_name="refunds"
    )
    method = models.CharField(_("payment method"), max_length=16, choices=PaymentMethod.choices)
    amount = models.DecimalField(_("amount"), **MONEY)
    points = models.PositiveIntegerField(_("points credited"), default=0)
    status = models.CharField(_("status"), max_length=16, choices=RefundStatus.choices, default=RefundStatus.PENDING)
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    transaction_id = models.CharField(
        _("transaction id"), max_length=100, blank=True, help_text=_("The bank's or the gateway's id of the refund.")
    )
    terminal = models.CharField(
        _("terminal"), max_length=64, blank=True, help_text=_("The store terminal that refunded it to the card.")
    )
    completed_at = models.DateTimeField(_("refunded at"), null=True, blank=True)
    created_by = by_staff_member()
    api_key = by_api_key()

    class Meta:
        ordering = ["id"]
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive")]

    def __str__(self):
        return f"{self.get_method_display()} {self.amount}"
