"""Delivering one event to one subscription: claimed once, in order per object, retried, given up.

``delivery_attempt`` (run by the ``deliver`` task) claims a due pending delivery with a
conditional UPDATE (pending → sending), so two workers never send it at once; it waits while an
earlier event of the same object for the same subscription is still unsettled; it sends outside
any transaction and records the outcome. A failure is retried with exponential backoff and full
jitter until ``RETRY_FOR`` after the event, then abandoned. A subscription failing without a
success for its ``pause_after_hours`` is paused and its owner told (``omni.webhooks.pausing``).
"""

import json
import logging
import random
from datetime import timedelta

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import F
from django.utils import timezone

from omni.core.errors import InvalidInput
from omni.webhooks import sending
from omni.webhooks.addresses import url_target
from omni.webhooks.models import SETTLED, Delivery, DeliveryStatus, Event
from omni.webhooks.outbox import deliveries_queue
from omni.webhooks.pausing import RETRY_FOR, subscription_failed, subscription_succeeded
from omni.webhooks.signing import SIGNATURE_HEADER, signature_header

logger = logging.getLogger(__name__)

BACKOFF_BASE_SECONDS = 30
BACKOFF_MAX_SECONDS = 3600
# A delivery claimed this long ago and still "sending" was interrupted (a worker died): it is due again.
SENDING_TIMEOUT = timedelta(minutes=5)


def backoff_seconds(attempts: int) -> float:
    """Full jitter: anywhere between nothing and the exponential ceiling for this attempt."""
    ceiling = min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0))
    return random.uniform(0, ceiling)


def event_body(event: Event) -> bytes:
    payload = {"id": str(event.id), "type": event.type, "created": event.created_at.isoformat(), "data": event.data}
    return json.dumps(payload, cls=DjangoJSONEncoder, separators=(",", ":")).encode()


def earlier_unsettled(delivery: Delivery) -> bool:
    """Whether an earlier event of the same object still waits to reach this subscription."""
    event = delivery.event
    return (
        Delivery.objects.filter(
            subscription_id=delivery.subscription_id,
            event__object_type=event.object_type,
            event__object_id=event.object_id,
            event__sequence__lt=event.sequence,
        )
        .exclude(status__in=SETTLED)
        .exists()
    )


def _claim(delivery_id: int) -> bool:
    now = timezone.now()
    return bool(
        Delivery.objects.filter(
            pk=delivery_id,
            status=DeliveryStatus.PENDING,
            next_attempt_at__lte=now,
            subscription__is_active=True,
        ).update(status=DeliveryStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1, updated_at=now)
    )


def delivery_attempt(delivery_id: int) -> str:
    """Try one delivery now; what happened: succeeded, retrying, abandoned, waiting or skipped."""
    delivery = Delivery.objects.select_related("event", "subscription").filter(pk=delivery_id).first()
    if delivery is None or delivery.status != DeliveryStatus.PENDING:
        return "skipped"
    if earlier_unsettled(delivery):
        return "waiting"  # queued again when the earlier one settles
    if not _claim(delivery_id):
        return "skipped"  # not due, paused, or another worker has it
    delivery.attempts += 1  # as the claim counted it
    try:
        response = send(delivery)
    except (OSError, InvalidInput, sending.http.client.HTTPException) as exc:
        return delivery_failed(delivery, error=f"{type(exc).__name__}: {exc}"[:2000])
    if 200 <= response.status < 300:
        return delivery_succeeded(delivery, response.status)
    return delivery_failed(delivery, error=response.body[:2000], response_code=response.status)


def send(delivery: Delivery) -> sending.Response:
    event, subscription = delivery.event, delivery.subscription
    target = url_target(subscription.url)  # checked again: DNS may have changed since subscribing
    body = event_body(event)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Omni-Webhooks/1",
        SIGNATURE_HEADER: signature_header(subscription.secret, body),
        "Omni-Event-Id": str(event.id),
        "Omni-Event-Type": event.type,
    }
    return sending.post(target, body, headers)


def delivery_succeeded(delivery: Delivery, code: int) -> str:
    now = timezone.now()
    Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENDING).update(
        status=DeliveryStatus.SUCCEEDED, response_code=code, last_error="", delivered_at=now, updated_at=now
    )
    subscription_succeeded(delivery.subscription)
    next_in_line_queue(delivery)
    return "succeeded"


def delivery_failed(delivery: Delivery, *, error: str, response_code: int | None = None) -> str:
    now = timezone.now()
    give_up = now >= delivery.event.created_at + RETRY_FOR
    delay = backoff_seconds(delivery.attempts)
    Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENDING).update(
        status=DeliveryStatus.ABANDONED if give_up else DeliveryStatus.PENDING,
        response_code=response_code,
        last_error=error,
        next_attempt_at=now + timedelta(seconds=delay),
        updated_at=now,
    )
    logger.warning("Webhook delivery %s attempt %s failed: %s", delivery.pk, delivery.attempts, error)
    subscription_failed(delivery.subscription, now)
    if give_up:
        next_in_line_queue(delivery)
        return "abandoned"
    deliveries_queue([delivery.pk], countdown=delay)
    return "retrying"


def next_in_line_queue(delivery: Delivery) -> None:
    """The next pending event of the same object for the same subscription goes now."""
    event = delivery.event
    following = (
        Delivery.objects.filter(
            subscription_id=delivery.subscription_id,
            status=DeliveryStatus.PENDING,
            event__object_type=event.object_type,
            event__object_id=event.object_id,
            event__sequence__gt=event.sequence,
        )
        .order_by("event__sequence")
        .values_list("pk", flat=True)
        .first()
    )
    if following is not None:
        deliveries_queue([following])


def deliveries_requeue() -> int:
    """Queue every due pending delivery again (its task was lost, the broker was down, a retry is due);
    deliveries interrupted while sending are due again (at least once: the receiver dedupes by id)."""
    now = timezone.now()
    Delivery.objects.filter(status=DeliveryStatus.SENDING, claimed_at__lt=now - SENDING_TIMEOUT).update(
        status=DeliveryStatus.PENDING, next_attempt_at=now, updated_at=now
    )
    due = (
        Delivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now, subscription__is_active=True)
        .order_by("event__created_at", "event__sequence")
        .values_list("pk", flat=True)[:5000]
    )
    return deliveries_queue(list(due))
