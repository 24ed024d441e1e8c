"""Marketing: campaigns to a segment and the one row per member that says what each got.

A ``Recipient`` row exists once per campaign and customer (a unique key): whichever worker
writes it first wins, and its status moves from queued through claimed to sent, skipped, held
until morning or held out in the control group (``omni.marketing.sending``).
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from customers.models import MessageChannel
from loyalty.models import PromoKind
from omni.core.channels import SALES_CHANNEL_CHOICES
from omni.core.models import TimeStampedModel, by_staff_member


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("draft")
    SCHEDULED = "scheduled", _("scheduled")
    SENDING = "sending", _("sending")
    SENT = "sent", _("sent")
    CANCELLED = "cancelled", _("cancelled")


class Campaign(TimeStampedModel):
    """A message to the members of a segment, in Russian and English, with an optional offer.

    The texts are templates with the placeholders ``{{ name }}``, ``{{ balance }}``,
    ``{{ expiring_points }}``, ``{{ expiring_date }}``, ``{{ promo_code }}`` and
    ``{{ unsubscribe_url }}`` (``omni.marketing.rendering``).
    """

    name = models.CharField(pgettext_lazy("title", "name"), max_length=200)
    segment = models.ForeignKey(
        "customers.Segment", verbose_name=_("segment"), on_delete=models.PROTECT, related_name="+"
    )
    subject_ru = models.CharField(_("subject (Russian)"), max_length=200, blank=True, help_text=_("For e-mail."))
    subject_en = models.CharField(_("subject (English)"), max_length=200, blank=True, help_text=_("For e-mail."))
    text_ru = models.TextField(_("text (Russian)"))
    text_en = models.TextField(_("text (English)"))
    channels = models.JSONField(
        _("channels"),
        default=list,
        help_text=_("The channels the campaign may use: email, sms, push, messenger."),
    )
    send_at = models.DateTimeField(_("send at"), null=True, blank=True, help_text=_("Empty: as soon as it is sent."))
    conversion_days = models.PositiveSmallIntegerField(
        _("conversion window (days)"), default=7, help_text=_("A member who buys within this many days converted.")
    )
    promo_kind = models.CharField(
        _("personal promo code"),
        max_length=8,
        choices=PromoKind.choices,
        blank=True,
        help_text=_("Empty: no code. Otherwise every recipient gets a single-use code of this kind."),
    )
    promo_value = models.DecimalField(_("promo code value"), max_digits=12, decimal_places=2, null=True, blank=True)
    bonus_points = models.PositiveIntegerField(
        _("bonus points for buying"), default=0, help_text=_("Given to recipients who buy within the window. 0: none.")
    )
    status = models.CharField(
        _("status"), max_length=16, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT, db_index=True
    )
    control_percent = models.PositiveSmallIntegerField(_("control group (%)"), default=0, editable=False)
    launched_at = models.DateTimeField(_("sent by staff at"), null=True, blank=True)
    launched_by = by_staff_member(_("sent by"))
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    listed_at = models.DateTimeField(_("members listed at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    total = models.PositiveIntegerField(_("members"), null=True, blank=True)
    processed = models.PositiveIntegerField(_("processed"), default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        permissions = [("send_campaign", _("Can send campaigns"))]
        constraints = [
            models.CheckConstraint(condition=Q(promo_kind="") | Q(promo_value__gt=0), name="campaign_promo_has_value"),
            models.CheckConstraint(condition=Q(control_percent__lte=50), name="campaign_control_at_most_half"),
        ]

    def __str__(self):
        return self.name


class RecipientStatus(models.TextChoices):
    QUEUED = "queued", _("queued")
    CLAIMED = "claimed", _("being sent")
    HELD = "held", _("held until morning")
    SENT = "sent", _("sent")
    SKIPPED = "skipped", _("skipped")
    CONTROL = "control", _("held out (control group)")


class SkipReason(models.TextChoices):
    NO_ADDRESS = "no_address", _("no address in the campaign's channels")
    NO_CONSENT = "no_consent", _("no marketing consent")
    CAPPED = "capped", _("frequency cap reached")
    INACTIVE = "inactive", _("profile merged or erased")
    TOO_LATE = "too_late", _("too late to remind")


class Recipient(models.Model):
    """One member of a campaign: once per campaign and customer, whatever the workers."""

    campaign = models.ForeignKey(
        Campaign, verbose_name=_("campaign"), on_delete=models.CASCADE, related_name="recipients"
    )
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.PROTECT, related_name="+"
    )
    in_control = models.BooleanField(_("in the control group"), default=False)
    status = models.CharField(
        _("status"), max_length=16, choices=RecipientStatus.choices, default=RecipientStatus.QUEUED
    )
    reason = models.CharField(_("reason skipped"), max_length=16, choices=SkipReason.choices, blank=True)
    channel = models.CharField(_("channel"), max_length=16, blank=True)
    message = models.ForeignKey(
        "customers.Message",
        verbose_name=_("message"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    promo_code = models.CharField(_("promo code"), max_length=32, blank=True)
    due_at = models.DateTimeField(_("held until"), null=True, blank=True)
    claim = models.UUIDField(_("claim"), null=True, blank=True, editable=False)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    decided_at = models.DateTimeField(
        _("sent or held out at"), null=True, blank=True, help_text=_("When the conversion window starts.")
    )
    rewarded_at = models.DateTimeField(_("bonus given at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["campaign", "customer"]
        verbose_name = _("recipient")
        verbose_name_plural = _("recipients")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "customer"], name="recipient_once_per_campaign"),
        ]
        indexes = [models.Index(fields=["campaign", "status", "customer"], name="recipient_campaign_status_idx")]

    def __str__(self):
        return f"{self.campaign_id} → {self.customer_id} ({self.status})"


# --- Abandoned carts ----------------------------------------------------------------------


class CartStatus(models.TextChoices):
    OPEN = "open", _("open")
    REMINDED = "reminded", _("reminded")
    ORDERED = "ordered", _("ordered before a reminder")
    SKIPPED = "skipped", _("no reminder")


class Cart(TimeStampedModel):
    """A cart the shop or the app reported, by its own id; its customer may be known later."""

    channel = models.CharField(_("channel"), max_length=16, choices=SALES_CHANNEL_CHOICES)
    external_id = models.CharField(_("cart id"), max_length=64)
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    lines = models.JSONField(_("lines"), default=list, help_text=_("[{sku, quantity}] as last reported."))
    changed_at = models.DateTimeField(_("changed at"), help_text=_("When the customer last changed the cart."))
    status = models.CharField(_("status"), max_length=16, choices=CartStatus.choices, default=CartStatus.OPEN)
    reason = models.CharField(_("reason skipped"), max_length=16, choices=SkipReason.choices, blank=True)
    reminder = models.ForeignKey(
        "customers.Message",
        verbose_name=_("reminder"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reminded_at = models.DateTimeField(_("reminded at"), null=True, blank=True)
    checked_at = models.DateTimeField(
        _("last checked at"),
        null=True,
        blank=True,
        help_text=_("When a reminder was last refused for a reason that can change (the cap, consent, an address)."),
    )
    recovered_order = models.CharField(
        _("recovered by order"), max_length=32, blank=True, help_text=_("An order with its goods after the reminder.")
    )
    recovered_total = models.DecimalField(
        _("recovered revenue"), max_digits=14, decimal_places=2, null=True, blank=True
    )

    class Meta:
        ordering = ["-changed_at", "-id"]
        verbose_name = _("cart")
        verbose_name_plural = _("carts")
        constraints = [models.UniqueConstraint(fields=["channel", "external_id"], name="cart_unique_external_id")]
        indexes = [models.Index(fields=["status", "changed_at"], name="cart_status_changed_idx")]

    def __str__(self):
        return f"{self.channel}:{self.external_id}"


# --- NPS after a visit or an order --------------------------------------------------------


class NpsStatus(models.TextChoices):
    WAITING = "waiting", _("waiting to be sent")
    SENT = "sent", _("sent, no answer yet")
    ANSWERED = "answered", _("answered")
    SKIPPED = "skipped", _("not sent")


class NpsSkipReason(models.TextChoices):
    NO_ADDRESS = "no_address", _("no address")
    NO_CONSENT = "no_consent", _("no marketing consent")
    CAPPED = "capped", _("frequency cap reached")
    INACTIVE = "inactive", _("profile merged or erased")
    RECENTLY_ASKED = "recently_asked", _("asked recently")
    LATE = "late", _("too late to ask")


class NpsRequest(TimeStampedModel):
    """One request to rate a completed store sale or a handed-over order from 0 to 10: once per
    order (a unique key), sent after ``MARKETING_NPS_DELAY_MINUTES`` (``omni.marketing.nps``)."""

    order = models.OneToOneField("orders.Order", verbose_name=_("order"), on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.PROTECT, related_name="+"
    )
    store = models.ForeignKey(
        "inventory.Location",
        verbose_name=_("store"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The order's location: the store of the sale or of the pickup, or where a delivery shipped from."),
    )
    channel = models.CharField(_("sales channel"), max_length=16, choices=SALES_CHANNEL_CHOICES)
    status = models.CharField(_("status"), max_length=16, choices=NpsStatus.choices, default=NpsStatus.WAITING)
    reason = models.CharField(_("reason not sent"), max_length=16, choices=NpsSkipReason.choices, blank=True)
    due_at = models.DateTimeField(_("to be sent at"))
    message = models.ForeignKey(
        "customers.Message",
        verbose_name=_("message"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    sent_via = models.CharField(_("sent through"), max_length=16, choices=MessageChannel.choices, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    feedback = models.OneToOneField(
        "customers.Feedback",
        verbose_name=_("answer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)

    class Meta:
        ordering = ["-due_at", "-id"]
        verbose_name = _("NPS request")
        verbose_name_plural = _("NPS requests")
        constraints = [
            models.CheckConstraint(
                condition=Q(feedback__isnull=True) | Q(status="answered"), name="nps_request_answer_means_answered"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "due_at"], name="nps_request_due_idx"),
            models.Index(fields=["customer", "sent_at"], name="nps_request_customer_sent_idx"),
            models.Index(fields=["sent_at"], name="nps_request_sent_idx"),
        ]

    def __str__(self):
        return str(_("NPS request %(id)s") % {"id": self.pk})
