"""Loyalty: the programme's rules, accounts and cards, the points ledger and promo codes.

Every change goes through ``loyalty.services`` (points, accounts, cards, tiers, promo codes,
one-time codes); these models hold the data and the constraints the database keeps under any
concurrency.

The ledger is ``PointsEntry``: append-only rows of signed points. A positive entry is a *lot*
(earned points, a bonus, points given back); its ``remaining`` says how much of it is still
unspent. Every negative entry (a redemption, an expiry, a reversal, a negative adjustment)
consumes lots first-in first-out, and each consumption is an ``Allocation`` row, so the ledger
explains every point: ``remaining = points - sum(allocations from the lot)`` and the sum of an
account's entries equals the sum of its lots' ``remaining`` (``manage.py check_points``).
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from omni.core.barcodes import validate_ean13
from omni.core.channels import Channel
from omni.core.models import TimeStampedModel, by_api_key, by_staff_member


def _default_holding_days() -> int:
    return settings.LOYALTY_HOLDING_DAYS


def _default_expiry_days() -> int:
    return settings.LOYALTY_EXPIRY_DAYS


def _default_point_value() -> Decimal:
    return settings.LOYALTY_POINT_VALUE


def _default_max_redeem_percent() -> Decimal:
    return settings.LOYALTY_MAX_REDEEM_PERCENT


def _default_tier_period_days() -> int:
    return settings.LOYALTY_TIER_PERIOD_DAYS


class AuditFields(models.Model):
    """Who made a row: a staff member or an integration's API key (both empty: the system).

    Shown, never searched (staff and keys are deactivated, not deleted): not indexed, which
    keeps the ledger's inserts and the nightly batches cheap.
    """

    created_by = by_staff_member(db_index=False)
    api_key = by_api_key(db_index=False)

    class Meta:
        abstract = True


# --- Programme and tiers ----------------------------------------------------------------


class Programme(TimeStampedModel):
    """The rules of the programme. One is active; a change applies to new operations only,
    because every entry stores the rate, value and dates it was made with."""

    name = models.CharField(pgettext_lazy("title", "name"), max_length=200)
    is_active = models.BooleanField(_("active"), default=True)
    point_value = models.DecimalField(
        _("value of a point"),
        max_digits=10,
        decimal_places=2,
        default=_default_point_value,
        validators=[MinValueValidator(Decimal("0.01"))],
        help_text=_("What one point is worth in money when it is spent."),
    )
    max_redeem_percent = models.DecimalField(
        _("largest share of an order payable with points (%)"),
        max_digits=5,
        decimal_places=2,
        default=_default_max_redeem_percent,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    holding_days = models.PositiveIntegerField(
        _("holding period (days)"),
        default=_default_holding_days,
        help_text=_("Points earned on an order become spendable after this many days (the return window)."),
    )
    expiry_days = models.PositiveIntegerField(
        _("expiry (days)"),
        default=_default_expiry_days,
        validators=[MinValueValidator(1)],
        help_text=_("Points expire this many days after they become spendable."),
    )
    tier_period_days = models.PositiveIntegerField(
        _("tier period (days)"),
        default=_default_tier_period_days,
        validators=[MinValueValidator(1)],
        help_text=_("Tiers are reached by the paid spend over this many past days."),
    )
    welcome_bonus = models.PositiveIntegerField(_("welcome bonus (points)"), default=0)
    birthday_bonus = models.PositiveIntegerField(_("birthday bonus (points)"), default=0)
    otp_required = models.BooleanField(
        _("spending in a store or by phone needs a one-time code"),
        default=False,
        help_text=_("The code is sent to the customer, so that knowing a phone number is not enough to spend points."),
    )
    excluded_categories = models.ManyToManyField(
        "inventory.Category",
        verbose_name=_("categories that earn nothing"),
        blank=True,
        related_name="+",
        help_text=_("Their subcategories earn nothing either."),
    )
    excluded_products = models.ManyToManyField(
        "inventory.Product", verbose_name=_("products that earn nothing"), blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-is_active", "-created_at"]
        verbose_name = _("programme")
        verbose_name_plural = _("programmes")
        constraints = [
            models.UniqueConstraint(fields=["is_active"], condition=Q(is_active=True), name="programme_one_active"),
            models.CheckConstraint(condition=Q(point_value__gt=0), name="programme_point_value_positive"),
            models.CheckConstraint(
                condition=Q(max_redeem_percent__gte=0) & Q(max_redeem_percent__lte=100),
                name="programme_max_redeem_percent_range",
            ),
            models.CheckConstraint(condition=Q(expiry_days__gt=0), name="programme_expiry_days_positive"),
            models.CheckConstraint(condition=Q(tier_period_days__gt=0), name="programme_tier_period_positive"),
        ]

    def __str__(self):
        return self.name


class Tier(TimeStampedModel):
    """A level of the programme, reached by the paid spend over the programme's tier period."""

    programme = models.ForeignKey(
        Programme, verbose_name=_("programme"), on_delete=models.CASCADE, related_name="tiers"
    )
    name = models.CharField(pgettext_lazy("title", "name"), max_length=100)
    min_spend = models.DecimalField(
        _("qualifying spend"),
        max_digits=14,
        decimal_places=2,
        default=0,
        validators=[MinValueValidator(0)],
        help_text=_("Paid spend over the tier period needed to reach this tier."),
    )
    earn_rate = models.DecimalField(
        _("earn rate (%)"),
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text=_("Share of the paid amount given back in points, valued at the point's value."),
    )

    class Meta:
        ordering = ["programme", "min_spend"]
        verbose_name = _("tier")
        verbose_name_plural = _("tiers")
        constraints = [
            models.UniqueConstraint(fields=["programme", "name"], name="tier_unique_name"),
            models.UniqueConstraint(fields=["programme", "min_spend"], name="tier_unique_min_spend"),
            models.CheckConstraint(condition=Q(min_spend__gte=0), name="tier_min_spend_non_negative"),
            models.CheckConstraint(condition=Q(earn_rate__gte=0) & Q(earn_rate__lte=100), name="tier_earn_rate_range"),
        ]

    def __str__(self):
        return self.name


# --- Accounts and cards -----------------------------------------------------------------


class AccountStatus(models.TextChoices):
    ACTIVE = "active", _("active")
    CLOSED = "closed", _("closed")


class Account(TimeStampedModel):
    """A customer's membership: the balance is here, not on a card. One per customer."""

    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.PROTECT, related_name="loyalty_accounts"
    )
    status = models.CharField(
        _("status"), max_length=8, choices=AccountStatus.choices, default=AccountStatus.ACTIVE, db_index=True
    )
    tier = models.ForeignKey(
        Tier, verbose_name=_("tier"), null=True, blank=True, on_delete=models.PROTECT, related_name="accounts"
    )
    tier_changed_at = models.DateTimeField(_("tier changed at"), null=True, blank=True)
    opened_at = models.DateTimeField(_("joined at"), default=timezone.now, db_index=True)
    channel = models.CharField(_("joined through"), max_length=16, choices=Channel.choices, default=Channel.SYSTEM)
    store = models.ForeignKey(
        "inventory.Location",
        verbose_name=_("joined in store"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into account"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_accounts",
    )

    class Meta:
        ordering = ["-opened_at", "-id"]
        verbose_name = _("loyalty account")
        verbose_name_plural = _("loyalty accounts")
        constraints = [
            models.UniqueConstraint(fields=["customer"], name="loyalty_account_one_per_customer"),
            models.CheckConstraint(condition=~Q(merged_into=F("pk")), name="loyalty_account_not_merged_into_itself"),
        ]
        permissions = [
            ("redeem_points", _("Can quote and spend a customer's points at the till")),
            ("adjust_points", _("Can adjust points manually")),
        ]

    def __str__(self):
        return str(_("Account of %(customer)s") % {"customer": self.customer})

    @property
    def is_active(self) -> bool:
        return self.status == AccountStatus.ACTIVE


class TierChangeReason(models.TextChoices):
    JOINED = "joined", _("joined the programme")
    PURCHASE = "purchase", _("purchase")
    RETURN = "return", _("return")
    NIGHTLY = "nightly", _("nightly recalculation")
    MERGE = "merge", _("profiles merged")
    MANUAL = "manual", _("recalculated by staff")


class TierChange(models.Model):
    """Every change of an account's tier, kept for its history (append-only)."""

    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.CASCADE, related_name="tier_changes"
    )
    old_tier = models.ForeignKey(
        Tier, verbose_name=_("previous tier"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    new_tier = models.ForeignKey(
        Tier, verbose_name=_("new tier"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    spend = models.DecimalField(_("qualifying spend"), max_digits=14, decimal_places=2)
    reason = models.CharField(_("reason"), max_length=16, choices=TierChangeReason.choices)
    created_at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("tier change")
        verbose_name_plural = _("tier history")

    def __str__(self):
        return f"{self.old_tier or '-'} → {self.new_tier or '-'}"


class CardKind(models.TextChoices):
    PHYSICAL = "physical", _("physical, issued in a store")
    VIRTUAL = "virtual", _("virtual")


class CardStatus(models.TextChoices):
    ACTIVE = "active", _("active")
    BLOCKED = "blocked", _("blocked")
    REPLACED = "replaced", _("replaced")


class Card(TimeStampedModel, AuditFields):
    """A loyalty card: an EAN-13 number that identifies the customer; the points are on the account."""

    number = models.CharField(_("number"), max_length=13, unique=True, validators=[validate_ean13])
    account = models.ForeignKey(Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="cards")
    kind = models.CharField(_("kind"), max_length=8, choices=CardKind.choices)
    status = models.CharField(
        _("status"), max_length=8, choices=CardStatus.choices, default=CardStatus.ACTIVE, db_index=True
    )
    store = models.ForeignKey(
        "inventory.Location",
        verbose_name=_("issued in store"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    issued_at = models.DateTimeField(_("issued at"), default=timezone.now)
    blocked_at = models.DateTimeField(_("blocked at"), null=True, blank=True)
    block_reason = models.CharField(_("reason for blocking"), max_length=255, blank=True)
    replaced_by = models.OneToOneField(
        "self",
        verbose_name=_("replaced by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="replaces",
    )

    class Meta:
        ordering = ["-issued_at", "-id"]
        verbose_name = _("loyalty card")
        verbose_name_plural = _("loyalty cards")
        indexes = [models.Index(fields=["updated_at", "id"], name="card_sync_idx")]  # incremental sync
        constraints = [
            models.CheckConstraint(
                condition=Q(status="active") | Q(blocked_at__isnull=False), name="card_blocked_has_a_time"
            ),
        ]

    def __str__(self):
        return self.number


# --- Points ledger ----------------------------------------------------------------------


class EntryKind(models.TextChoices):
    EARN = "earn", _("earned")
    BONUS = "bonus", _("bonus")
    REDEEM = "redeem", _("spent")
    REVERSAL = "reversal", _("reversal")
    EXPIRY = "expiry", _("expired")
    ADJUSTMENT = "adjustment", _("manual adjustment")


class BonusType(models.TextChoices):
    WELCOME = "welcome", _("welcome")
    BIRTHDAY = "birthday", _("birthday bonus")
    CAMPAIGN = "campaign", _("campaign")
    PROMO = "promo", _("promo code")
    # A refund paid in points (orders): not earned, so the KPIs leave it out of points earned.
    REFUND = "refund", _("refund in points")


class PointsEntry(AuditFields):
    """One append-only row of the points ledger.

    ``points`` is signed. A positive entry is a lot: spendable from ``spendable_from`` (earned
    points stay pending until the return window has passed), expiring at ``expires_at``, with
    ``remaining`` points not yet consumed. ``cause_type``/``cause_id`` name what caused it by
    reference (``order``/``W-000123``, ``return``/``R-000045``, ``campaign``/``SUMMER``), so
    loyalty never imports the apps above it. ``key`` makes an operation happen once (one
    redemption per order reference, one welcome bonus per account, one birthday bonus a year).
    """

    # Indexed by entry_account_created_idx and entry_open_lots_idx, which both start with it.
    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="entries", db_index=False
    )
    kind = models.CharField(_("kind"), max_length=12, choices=EntryKind.choices)
    bonus_type = models.CharField(_("bonus"), max_length=12, choices=BonusType.choices, blank=True)
    points = models.BigIntegerField(_("points"))
    remaining = models.BigIntegerField(_("remaining"), default=0, help_text=_("Points of this lot not yet consumed."))
    spendable_from = models.DateTimeField(_("spendable from"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    cause_type = models.CharField(_("cause"), max_length=32, blank=True)
    cause_id = models.CharField(_("cause reference"), max_length=64, blank=True)
    key = models.CharField(_("operation key"), max_length=128, blank=True, editable=False)
    reverses = models.ForeignKey(
        "self",
        verbose_name=_("reverses"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversals",
        db_index=False,
    )
    tier = models.ForeignKey(
        Tier, verbose_name=_("tier"), null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    earn_rate = models.DecimalField(_("earn rate (%)"), max_digits=5, decimal_places=2, null=True, blank=True)
    point_value = models.DecimalField(_("value of a point"), max_digits=10, decimal_places=2, null=True, blank=True)
    amount = models.DecimalField(
        _("money amount"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Earned: the order's paid amount. Spent: the money value of the points."),
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices, blank=True)
    store = models.ForeignKey(
        "inventory.Location",
        verbose_name=_("store"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    note = models.CharField(_("reason"), max_length=255, blank=True)
    warned_at = models.DateTimeField(_("expiry warning sent at"), null=True, blank=True)
    created_at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    # When the row was written: ``created_at`` is the business time (a birthday bonus dated at
    # midnight, written at night), so incremental sync reads this instead.
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("points entry")
        verbose_name_plural = _("points ledger")
        indexes = [
            models.Index(fields=["account", "-created_at", "-id"], name="entry_account_created_idx"),
            models.Index(
                fields=["account", "spendable_from", "expires_at", "id"],
                condition=Q(remaining__gt=0),
                name="entry_open_lots_idx",
            ),
            models.Index(fields=["expires_at"], condition=Q(remaining__gt=0), name="entry_expiring_idx"),
            models.Index(fields=["cause_type", "cause_id"], name="entry_cause_idx"),
            models.Index(fields=["kind", "created_at"], name="entry_kind_created_idx"),
            models.Index(fields=["recorded_at", "id"], name="entry_sync_idx"),  # incremental sync
        ]
        constraints = [
            models.UniqueConstraint(fields=["key"], condition=~Q(key=""), name="entry_unique_key"),
            models.CheckConstraint(condition=~Q(points=0), name="entry_points_not_zero"),
            models.CheckConstraint(
                condition=(Q(kind__in=["earn", "bonus"]) & Q(points__gt=0))
                | (Q(kind__in=["redeem", "expiry"]) & Q(points__lt=0))
                | Q(kind__in=["reversal", "adjustment"]),
                name="entry_sign_matches_kind",
            ),
            models.CheckConstraint(
                condition=(Q(points__gt=0) & Q(remaining__gte=0) & Q(remaining__lte=F("points")))
                | (Q(points__lt=0) & Q(remaining=0)),
                name="entry_remaining_within_points",
            ),
            models.CheckConstraint(
                condition=Q(points__lt=0) | (Q(spendable_from__isnull=False) & Q(expires_at__isnull=False)),
                name="entry_lot_has_dates",
            ),
            models.CheckConstraint(condition=~Q(kind="adjustment") | ~Q(note=""), name="entry_adjustment_has_reason"),
            models.CheckConstraint(
                condition=Q(kind="bonus") | Q(bonus_type=""), name="entry_bonus_type_only_for_bonus"
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.points:+d}"


class Allocation(models.Model):
    """``points`` of the lot ``lot`` consumed by the negative entry ``consumer`` (append-only)."""

    consumer = models.ForeignKey(
        PointsEntry, verbose_name=_("consumed by"), on_delete=models.CASCADE, related_name="allocations"
    )
    lot = models.ForeignKey(PointsEntry, verbose_name=_("lot"), on_delete=models.PROTECT, related_name="consumptions")
    points = models.BigIntegerField(_("points"))

    class Meta:
        ordering = ["id"]
        verbose_name = _("allocation")
        verbose_name_plural = _("allocations")
        constraints = [models.CheckConstraint(condition=Q(points__gt=0), name="allocation_points_positive")]

    def __str__(self):
        return f"{self.lot_id} → {self.consumer_id}: {self.points}"


class SpendRecord(models.Model):
    """Qualifying paid spend, for tiers: a purchase (positive) or a return (negative).

    A return is dated at its purchase, so it leaves the rolling period together with it.
    """

    account = models.ForeignKey(Account, verbose_name=_("account"), on_delete=models.CASCADE, related_name="spend")
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    occurred_at = models.DateTimeField(_("purchased at"))
    cause_type = models.CharField(_("cause"), max_length=32, blank=True)
    cause_id = models.CharField(_("cause reference"), max_length=64, blank=True)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices, blank=True)
    store = models.ForeignKey(
        "inventory.Location", verbose_name=_("store"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("qualifying spend")
        verbose_name_plural = _("qualifying spend")
        indexes = [models.Index(fields=["account", "occurred_at"], name="spend_account_occurred_idx")]

    def __str__(self):
        return f"{self.amount} @ {self.occurred_at:%Y-%m-%d}"


# --- Orders, as loyalty knows them ------------------------------------------------------


class OrderPoints(TimeStampedModel):
    """What loyalty knows of one order (by its reference): points spent on it, points earned on
    it and what was returned so far. Returns are computed cumulatively from these figures, so
    several partial returns never give back or take back more than the order had."""

    reference = models.CharField(_("order"), max_length=64, unique=True)
    account = models.ForeignKey(Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="orders")
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices, blank=True)
    store = models.ForeignKey(
        "inventory.Location", verbose_name=_("store"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    order_total = models.DecimalField(_("order total"), max_digits=14, decimal_places=2, default=0)
    points_redeemed = models.BigIntegerField(_("points spent"), default=0)
    redeemed_value = models.DecimalField(_("value of points spent"), max_digits=14, decimal_places=2, default=0)
    redemption = models.OneToOneField(
        PointsEntry, verbose_name=_("redemption"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    paid_amount = models.DecimalField(_("paid amount"), max_digits=14, decimal_places=2, default=0)
    eligible_amount = models.DecimalField(_("amount earning points"), max_digits=14, decimal_places=2, default=0)
    points_earned = models.BigIntegerField(_("points earned"), default=0)
    returned_amount = models.DecimalField(_("returned amount"), max_digits=14, decimal_places=2, default=0)
    returned_eligible_amount = models.DecimalField(
        _("returned amount that earned points"), max_digits=14, decimal_places=2, default=0
    )
    points_earn_reversed = models.BigIntegerField(_("earned points reversed"), default=0)
    points_redeemed_returned = models.BigIntegerField(_("spent points given back"), default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("order's points")
        verbose_name_plural = _("orders' points")
        constraints = [
            models.CheckConstraint(
                condition=Q(points_redeemed_returned__gte=0) & Q(points_redeemed_returned__lte=F("points_redeemed")),
                name="order_points_returned_within_redeemed",
            ),
            models.CheckConstraint(
                condition=Q(points_earn_reversed__gte=0) & Q(points_earn_reversed__lte=F("points_earned")),
                name="order_points_reversed_within_earned",
            ),
        ]

    def __str__(self):
        return self.reference


class OrderPointsLine(models.Model):
    """A line of a completed order, with whether it earned points (for returns)."""

    order = models.ForeignKey(OrderPoints, verbose_name=_("order"), on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(
        "inventory.Product",
        verbose_name=_("product"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    category = models.ForeignKey(
        "inventory.Category",
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    quantity = models.PositiveIntegerField(_("quantity"))
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    eligible = models.BooleanField(_("earns points"))

    class Meta:
        ordering = ["id"]
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")

    def __str__(self):
        return f"{self.product_id} × {self.quantity}"


class OrderPointsReturn(models.Model):
    """One return or cancellation of an order and what it did to the points (once per reference)."""

    order = models.ForeignKey(OrderPoints, verbose_name=_("order"), on_delete=models.CASCADE, related_name="returns")
    reference = models.CharField(_("return"), max_length=64)
    amount = models.DecimalField(_("returned amount"), max_digits=14, decimal_places=2)
    eligible_amount = models.DecimalField(_("returned amount that earned points"), max_digits=14, decimal_places=2)
    points_cancelled = models.BigIntegerField(_("pending points cancelled"), default=0)
    points_taken_back = models.BigIntegerField(_("spendable points taken back"), default=0)
    shortfall_points = models.BigIntegerField(_("points already spent (shortfall)"), default=0)
    shortfall_value = models.DecimalField(_("value of the shortfall"), max_digits=14, decimal_places=2, default=0)
    points_given_back = models.BigIntegerField(_("spent points given back"), default=0)
    value_given_back = models.DecimalField(_("value of points given back"), max_digits=14, decimal_places=2, default=0)
    created_at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("order return")
        verbose_name_plural = _("order returns")
        constraints = [models.UniqueConstraint(fields=["order", "reference"], name="order_return_unique_reference")]

    def __str__(self):
        return f"{self.order_id}: {self.reference}"


# --- Promo codes ------------------------------------------------------------------------


class PromoKind(models.TextChoices):
    PERCENT = "percent", _("percentage off the order")
    AMOUNT = "amount", _("fixed amount off the order")
    POINTS = "points", _("extra points")


class PromoCode(TimeStampedModel):
    code = models.CharField(_("code"), max_length=32, unique=True, help_text=_("Stored in capitals."))
    description = models.CharField(_("description"), max_length=255, blank=True)
    kind = models.CharField(_("discount"), max_length=8, choices=PromoKind.choices)
    value = models.DecimalField(
        _("value"),
        max_digits=12,
        decimal_places=2,
        help_text=_("A percentage, an amount of money or a number of points, depending on the discount."),
    )
    valid_from = models.DateTimeField(_("valid from"), default=timezone.now)
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)
    max_uses = models.PositiveIntegerField(_("uses in total"), null=True, blank=True, help_text=_("Empty: unlimited."))
    max_uses_per_customer = models.PositiveIntegerField(
        _("uses per customer"), null=True, blank=True, help_text=_("Empty: unlimited.")
    )
    used_count = models.PositiveIntegerField(_("used"), default=0, editable=False)
    min_order_total = models.DecimalField(
        _("minimum order total"), max_digits=14, decimal_places=2, default=0, validators=[MinValueValidator(0)]
    )
    channels = models.JSONField(
        _("channels"),
        default=list,
        blank=True,
        help_text=_("Where the code is valid, for example store, site, app. Empty: everywhere."),
    )
    segments = models.ManyToManyField(
        "customers.Segment",
        verbose_name=_("segments"),
        blank=True,
        related_name="+",
        help_text=_("Only for customers in one of these segments. Empty: for everybody."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("promo code")
        verbose_name_plural = _("promo codes")
        constraints = [
            models.CheckConstraint(condition=Q(value__gt=0), name="promo_value_positive"),
            models.CheckConstraint(condition=~Q(kind="percent") | Q(value__lte=100), name="promo_percent_at_most_100"),
            models.CheckConstraint(
                condition=Q(max_uses__isnull=True) | Q(used_count__lte=F("max_uses")), name="promo_used_within_limit"
            ),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gt=F("valid_from")),
                name="promo_valid_until_after_from",
            ),
            models.CheckConstraint(condition=Q(min_order_total__gte=0), name="promo_min_total_non_negative"),
        ]

    def __str__(self):
        return self.code


class PromoUsageStatus(models.TextChoices):
    APPLIED = "applied", _("applied")
    RELEASED = "released", _("released (order cancelled)")


class PromoUsage(AuditFields):
    """A promo code used on an order (by reference). Released when the order is cancelled."""

    promo = models.ForeignKey(PromoCode, verbose_name=_("promo code"), on_delete=models.PROTECT, related_name="usages")
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="promo_usages",
    )
    reference = models.CharField(_("order"), max_length=64)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    order_total = models.DecimalField(_("order total"), max_digits=14, decimal_places=2)
    discount = models.DecimalField(_("discount"), max_digits=14, decimal_places=2, default=0)
    points = models.PositiveIntegerField(_("extra points"), default=0)
    status = models.CharField(
        _("status"), max_length=8, choices=PromoUsageStatus.choices, default=PromoUsageStatus.APPLIED, db_index=True
    )
    created_at = models.DateTimeField(_("used at"), default=timezone.now)
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("promo code use")
        verbose_name_plural = _("promo code uses")
        indexes = [models.Index(fields=["reference"], name="promo_usage_reference_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["promo", "reference"], condition=Q(status="applied"), name="promo_usage_once_per_order"
            )
        ]

    def __str__(self):
        return f"{self.promo_id} @ {self.reference}"


# --- One-time codes ---------------------------------------------------------------------


class OneTimeCode(models.Model):
    """A code sent to the customer to confirm spending points. Only its salted hash is kept."""

    account = models.ForeignKey(Account, verbose_name=_("account"), on_delete=models.CASCADE, related_name="codes")
    salt = models.CharField(_("salt"), max_length=32, editable=False)
    code_hash = models.CharField(_("hashed code"), max_length=64, editable=False)
    channel = models.CharField(_("requested through"), max_length=16, choices=Channel.choices)
    expires_at = models.DateTimeField(_("expires at"))
    attempts = models.PositiveSmallIntegerField(_("failed attempts"), default=0)
    max_attempts = models.PositiveSmallIntegerField(_("attempts allowed"))
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    created_at = models.DateTimeField(_("sent at"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("one-time code")
        verbose_name_plural = _("one-time codes")
        indexes = [models.Index(fields=["account", "-created_at"], name="otp_account_created_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(attempts__lte=F("max_attempts")), name="otp_attempts_within_limit")
        ]

    def __str__(self):
        return f"{self.account_id} @ {self.created_at:%Y-%m-%d %H:%M}"
