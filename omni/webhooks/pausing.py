"""A subscription that keeps failing is paused, and its owner told by e-mail and in the audit trail."""

import logging
from datetime import datetime, timedelta

from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from omni.core.actors import SYSTEM, Actor
from omni.core.audit import audit_changes
from omni.core.models import AuditKind
from omni.webhooks.models import Delivery, DeliveryStatus, Subscription
from omni.webhooks.outbox import wanted_forget

# How long after its event a delivery is still tried (``omni.webhooks.delivery`` gives up after it too).
RETRY_FOR = timedelta(hours=24)

logger = logging.getLogger(__name__)


def subscription_succeeded(subscription: Subscription) -> None:
    if subscription.failing_since is not None:
        Subscription.objects.filter(pk=subscription.pk).update(failing_since=None)


def subscription_failed(subscription: Subscription, now: datetime) -> None:
    """Note when the failures began; pause once they have lasted the subscription's hours."""
    Subscription.objects.filter(pk=subscription.pk, failing_since__isnull=True).update(failing_since=now)
    subscription.refresh_from_db(fields=["failing_since", "is_active", "pause_after_hours"])
    if subscription.is_active and now - subscription.failing_since >= timedelta(hours=subscription.pause_after_hours):
        reason = _("Every delivery failed for %(hours)s hours.") % {"hours": subscription.pause_after_hours}
        if subscription_pause(subscription, reason=reason):
            owner_tell_paused(subscription, reason)


def subscription_pause(subscription: Subscription, *, reason: str, actor: Actor = SYSTEM) -> bool:
    """Pause it (its pending deliveries wait); False when it was already paused."""
    with transaction.atomic():
        now = timezone.now()
        paused = Subscription.objects.filter(pk=subscription.pk, is_active=True).update(
            is_active=False, paused_at=now, paused_reason=reason[:500], updated_at=now
        )
        if paused:
            audit_changes(actor, subscription, {"is_active": True}, {"is_active": False, "paused_reason": reason})
            transaction.on_commit(wanted_forget)
    return bool(paused)


def subscription_resume(subscription: Subscription, *, actor: Actor = SYSTEM) -> None:
    """Active again, its failures forgotten; deliveries still within their day go out, older ones are abandoned."""
    with transaction.atomic():
        before = Subscription.objects.select_for_update().get(pk=subscription.pk)
        if before.is_active:
            return
        now = timezone.now()
        Subscription.objects.filter(pk=subscription.pk).update(
            is_active=True, paused_at=None, paused_reason="", failing_since=None, updated_at=now
        )
        transaction.on_commit(wanted_forget)
        Delivery.objects.filter(
            subscription=subscription, status=DeliveryStatus.PENDING, event__created_at__lt=now - RETRY_FOR
        ).update(status=DeliveryStatus.ABANDONED, updated_at=now)
        audit_changes(actor, subscription, {"is_active": False}, {"is_active": True}, kind=AuditKind.CHANGED)


def owner_tell_paused(subscription: Subscription, reason: str) -> None:
    """E-mail the contact address, if the owner gave one (after the pause is committed)."""
    if not subscription.contact_email:
        logger.warning("Webhook subscription %s paused; no contact e-mail to tell: %s", subscription.pk, reason)
        return
    subject = _("Omni paused your webhook subscription to %(url)s") % {"url": subscription.url}
    body = _(
        "Omni paused the webhook subscription %(id)s to %(url)s (API key %(key)s): %(reason)s "
        "Once it is resumed, events less than 24 hours old are sent again."
    ) % {"id": subscription.pk, "url": subscription.url, "key": subscription.api_key.name, "reason": reason}
    try:
        send_mail(subject, body, None, [subscription.contact_email])
    except Exception as exc:  # the mail server is down: the pause and its audit row stand
        logger.warning(
            "Could not tell %s of paused subscription %s: %s", subscription.contact_email, subscription.pk, exc
        )
