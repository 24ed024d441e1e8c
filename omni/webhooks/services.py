"""Subscriptions: created, changed, resumed; a test ping; a delivery sent again."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from omni.core.actors import SYSTEM, Actor
from omni.core.audit import audit_changes, audit_snapshot
from omni.core.errors import InvalidInput
from omni.core.models import ApiKey, AuditKind
from omni.webhooks.addresses import url_target
from omni.webhooks.events import EVENT_TYPES, PING
from omni.webhooks.models import Delivery, DeliveryStatus, Event, Subscription
from omni.webhooks.outbox import drains_queue, event_write, wanted_forget
from omni.webhooks.pausing import subscription_pause, subscription_resume

EDITABLE = ("url", "event_types", "description", "contact_email", "pause_after_hours")


def event_types_check(event_types: list[str]) -> list[str]:
    unknown = [name for name in event_types if name not in EVENT_TYPES]
    if unknown or not event_types:
        raise InvalidInput.for_field(
            "event_types",
            _("Subscribe to one or more of: %(types)s.") % {"types": ", ".join(EVENT_TYPES)},
        )
    return list(dict.fromkeys(event_types))


def subscription_create(*, api_key: ApiKey, url: str, event_types: list[str], actor: Actor = SYSTEM, **fields):
    url_target(url)
    subscription = Subscription(api_key=api_key, url=url, event_types=event_types_check(event_types), **fields)
    with transaction.atomic():
        subscription.save()
        audit_changes(
            actor, subscription, {}, {"url": url, "event_types": subscription.event_types}, kind=AuditKind.CREATED
        )
        transaction.on_commit(wanted_forget)
    return subscription


def subscription_update(*, subscription: Subscription, changes: dict, actor: Actor = SYSTEM) -> Subscription:
    """Change what the owner may change; ``is_active`` pauses or resumes it."""
    if "url" in changes:
        url_target(changes["url"])
    if "event_types" in changes:
        changes["event_types"] = event_types_check(changes["event_types"])
    active = changes.pop("is_active", None)
    with transaction.atomic():
        subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
        before = audit_snapshot(subscription, EDITABLE)
        for name, value in changes.items():
            setattr(subscription, name, value)
        subscription.save()
        audit_changes(actor, subscription, before, audit_snapshot(subscription, EDITABLE))
        transaction.on_commit(wanted_forget)
    if active is True:
        subscription_resume(subscription, actor=actor)
    elif active is False:
        subscription_pause(subscription, reason=_("Paused by its owner."), actor=actor)
    subscription.refresh_from_db()
    return subscription


def subscription_ping(subscription: Subscription) -> Event:
    """A ``ping`` event to this subscription alone, whatever its types."""
    with transaction.atomic():
        data = {"subscription": subscription.pk, "url": subscription.url, "sent_at": timezone.now().isoformat()}
        return event_write(PING, "subscription", str(subscription.pk), data, [subscription.pk])


def deliveries_send_again(deliveries) -> int:
    """Send these deliveries again now, whatever became of them (a receiver lost them)."""
    now = timezone.now()
    ids = [delivery.pk for delivery in deliveries]
    Delivery.objects.filter(pk__in=ids).exclude(status=DeliveryStatus.SENDING).update(
        status=DeliveryStatus.PENDING, next_attempt_at=now, updated_at=now
    )
    subscription_ids = set(Delivery.objects.filter(pk__in=ids).values_list("subscription_id", flat=True))
    transaction.on_commit(lambda: drains_queue(subscription_ids))
    return len(ids)
