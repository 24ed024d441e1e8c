"""Webhook subscriptions of integrations, the events written in the transaction of each change (the
outbox), and one delivery per event and subscription."""

import secrets
import uuid

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def default_pause_after_hours() -> int:
    return settings.OMNI_WEBHOOK_PAUSE_AFTER_HOURS


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


class Subscription(models.Model):
    """An integration's request to be told of events of some types at a URL, signed with a secret.

    The secret is kept as it is (signing needs it); only its owner's key reads it through the API.
    """

    api_key = models.ForeignKey(
        "omni.ApiKey", verbose_name=_("API key"), on_delete=models.CASCADE, related_name="webhook_subscriptions"
    )
    url = models.URLField(_("URL"), max_length=500)
    secret = models.CharField(_("secret"), max_length=100, default=new_secret, editable=False)
    event_types = models.JSONField(_("event types"), default=list)
    description = models.CharField(_("description"), max_length=200, blank=True)
    contact_email = models.EmailField(
        _("contact e-mail"), blank=True, help_text=_("Who is told when the subscription is paused.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    paused_at = models.DateTimeField(_("paused at"), null=True, blank=True)
    paused_reason = models.CharField(_("why paused"), max_length=500, blank=True)
    pause_after_hours = models.PositiveIntegerField(
        _("pause after failing for (hours)"), default=default_pause_after_hours
    )
    failing_since = models.DateTimeField(_("failing since"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")

    def __str__(self):
        return self.url


class Event(models.Model):
    """One change, written in its transaction (the outbox); its deliveries carry it to each subscriber."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(_("type"), max_length=64)
    object_type = models.CharField(_("object type"), max_length=32)
    object_id = models.CharField(_("object id"), max_length=64)
    data = models.JSONField(_("data"), default=dict, encoder=DjangoJSONEncoder)  # as the API writes them
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")

    def __str__(self):
        return f"{self.type} {self.object_type}:{self.object_id}"

    @property
    def object_key(self) -> str:
        return f"{self.object_type}:{self.object_id}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("pending")
    SENDING = "sending", _("sending")
    SUCCEEDED = "succeeded", _("succeeded")
    FAILED = "failed", _("failed")
    ABANDONED = "abandoned", _("abandoned")


# A delivery in one of these no longer holds back the later events of its object.
SETTLED = (DeliveryStatus.SUCCEEDED, DeliveryStatus.ABANDONED, DeliveryStatus.FAILED)
UNSETTLED = (DeliveryStatus.PENDING, DeliveryStatus.SENDING)


class Delivery(models.Model):
    """One event to one subscription: its attempts and their outcome.

    ``object_key`` is its event's object ("order:A-1"): the deliveries of one object to one
    subscription go out in the order of their ids, which follow the order their changes committed
    in, since the change of an object is written under that object's row lock.

    ``subscription`` has no foreign key constraint in the database: every process lists the
    subscriptions for a few seconds (``omni.webhooks.outbox.subscribers``), so a change committing
    just after a subscription was deleted elsewhere still writes a delivery for it, and the
    constraint would fail that change (an order not placed for want of a webhook). Such a delivery
    is never sent (nothing drains a subscription that is gone) and is forgotten with its event.
    """

    # Every subscribed change writes an event and its deliveries, so each index here is paid on a
    # hot path: the event's are found through the unique (event, subscription) constraint, the
    # subscription's through its listing index below.
    event = models.ForeignKey(
        Event, verbose_name=_("event"), on_delete=models.CASCADE, related_name="deliveries", db_index=False
    )
    subscription = models.ForeignKey(
        Subscription,
        verbose_name=_("subscription"),
        on_delete=models.CASCADE,
        related_name="deliveries",
        db_constraint=False,
        db_index=False,
    )
    object_key = models.CharField(_("object"), max_length=100, default="")
    status = models.CharField(
        _("status"), max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    response_code = models.PositiveIntegerField(_("response code"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        constraints = [models.UniqueConstraint(fields=["event", "subscription"], name="webhook_delivery_once")]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due_idx"),
            # A subscription's deliveries, newest first (the API's list).
            models.Index(fields=["subscription", "-created_at", "-id"], name="webhook_delivery_listed_idx"),
            # The drain's two questions: the subscription's pending deliveries in id order, and
            # whether an earlier delivery of the same object is still unsettled.
            models.Index(
                fields=["subscription", "id"],
                name="webhook_delivery_pending_idx",
                condition=models.Q(status="pending"),
            ),
            models.Index(
                fields=["subscription", "object_key", "id"],
                name="webhook_delivery_unsettled_idx",
                condition=models.Q(status__in=["pending", "sending"]),
            ),
        ]

    def __str__(self):
        return f"{self.event} → {self.subscription_id}"


from omni.webhooks.stock_models import StockEventPending  # noqa: E402, F401  (the stock events' own table)
