"""Sending a subscription's due deliveries: claimed once, in order per object, retried, given up.

``subscription_drain`` (run by the ``send_due`` task) claims a batch of the subscription's due
pending deliveries — only those with no earlier unsettled delivery of the same object, so one
object's events reach the subscriber in order — with ``FOR UPDATE SKIP LOCKED`` and marks them
sending, so two workers never send one delivery at once. It sends them outside any transaction
over one kept-alive connection and records the outcomes in a few statements, then claims the next
batch (the following events of the objects just sent among them) until nothing is due or its time
is up. A failed delivery is retried with exponential backoff and full jitter until ``RETRY_FOR``
after its event, then abandoned. A subscription failing without a success for its
``pause_after_hours`` is paused and its owner told (``omni.webhooks.pausing``).
"""

import json
import logging
import random
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Count, F, OuterRef, Subquery
from django.utils import timezone

from omni.core.errors import InvalidInput
from omni.webhooks import sending
from omni.webhooks.addresses import url_target
from omni.webhooks.models import UNSETTLED, Delivery, DeliveryStatus, Event, Subscription
from omni.webhooks.outbox import drain_started, drains_queue
from omni.webhooks.pausing import RETRY_FOR, subscription_failed, subscription_succeeded
from omni.webhooks.signing import SIGNATURE_HEADER, signature_header

logger = logging.getLogger(__name__)

BACKOFF_BASE_SECONDS = 30
BACKOFF_MAX_SECONDS = 3600
BATCH_SIZE = 100
# A drain gives its worker back after this long and queues the rest of its work again.
DRAIN_SECONDS = 20
# A delivery claimed this long ago and still "sending" was interrupted (a worker died): it is due again.
SENDING_TIMEOUT = timedelta(minutes=5)
TRANSPORT_ERRORS = (OSError, InvalidInput, sending.http.client.HTTPException)


def backoff_seconds(attempts: int) -> float:
    """Full jitter: anywhere between nothing and the exponential ceiling for this attempt."""
    ceiling = min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0))
    return random.uniform(0, ceiling)


def event_body(event: Event) -> bytes:
    payload = {"id": str(event.id), "type": event.type, "created": event.created_at.isoformat(), "data": event.data}
    return json.dumps(payload, cls=DjangoJSONEncoder, separators=(",", ":")).encode()


@dataclass
class DrainResult:
    succeeded: int = 0
    retrying: int = 0
    abandoned: int = 0
    retry_at: datetime | None = None  # the earliest retry, when there is one
    more: bool = False  # stopped for time with deliveries still due


def subscription_drain(subscription_id: int, *, seconds: float = DRAIN_SECONDS, batch_size: int = BATCH_SIZE):
    """Send the subscription's due deliveries until none is due, one fails to connect, or ``seconds``
    pass (then it queues itself again); what happened to them."""
    drain_started(subscription_id)
    result = DrainResult()
    subscription = Subscription.objects.filter(
        pk=subscription_id, is_active=True, api_key__revoked_at__isnull=True
    ).first()
    if subscription is None:
        return result
    deadline = time.monotonic() + seconds
    poster = None
    try:
        while batch := deliveries_claim(subscription_id, batch_size):
            if poster is None:
                try:
                    poster = sending.Poster(url_target(subscription.url))  # checked again: DNS may have changed
                except InvalidInput as exc:
                    batch_stop(subscription, batch, error=_error(exc), result=result)
                    break
            if not batch_send(subscription, batch, poster, result):
                break  # the receiver is down or refuses everything: the rest waits for its retry
            if time.monotonic() > deadline:
                result.more = True
                break
    finally:
        if poster is not None:
            poster.close()
    if result.more:
        drains_queue([subscription_id])
    elif result.retry_at is not None:
        drains_queue([subscription_id], countdown=(result.retry_at - timezone.now()).total_seconds())
    return result


def deliveries_claim(subscription_id: int, limit: int) -> list[Delivery]:
    """Up to ``limit`` due pending deliveries, each the earliest unsettled one of its object, now sending."""
    now = timezone.now()
    # A scalar subquery (not NOT EXISTS, which PostgreSQL turns into an anti-join planned from the
    # table's statistics) so that each candidate is checked through the unsettled index, however
    # few pending rows the statistics last saw.
    head_of_its_object = Subquery(
        Delivery.objects.filter(
            subscription_id=subscription_id, object_key=OuterRef("object_key"), status__in=UNSETTLED
        )
        .order_by("id")
        .values("id")[:1]
    )
    with transaction.atomic():
        ids = list(
            Delivery.objects.filter(subscription_id=subscription_id, status=DeliveryStatus.PENDING)
            .filter(next_attempt_at__lte=now, id=head_of_its_object)
            .order_by("id")
            .select_for_update(skip_locked=True)
            .values_list("id", flat=True)[:limit]
        )
        if not ids:
            return []
        Delivery.objects.filter(pk__in=ids).update(status=DeliveryStatus.SENDING, claimed_at=now, updated_at=now)
    return list(Delivery.objects.filter(pk__in=ids).select_related("event").order_by("id"))


def batch_send(subscription: Subscription, batch: list[Delivery], poster: sending.Poster, result) -> bool:
    """Send each claimed delivery in turn and record the outcomes; whether to go on: False when the
    receiver could not be reached (the unsent rest of the batch is given back to wait for the same
    retry) or refused the whole batch."""
    succeeded: dict[int, list[int]] = defaultdict(list)
    failures = 0
    reachable = True
    for position, delivery in enumerate(batch):
        try:
            response = poster.post(*signed_request(subscription, delivery.event))
        except TRANSPORT_ERRORS as exc:
            delivery_failed(delivery, error=_error(exc), result=result)
            deliveries_release(batch[position + 1 :], result.retry_at)
            failures += 1
            reachable = False
            break
        if 200 <= response.status < 300:
            succeeded[response.status].append(delivery.pk)
        else:
            delivery_failed(delivery, error=response.body[:2000], response_code=response.status, result=result)
            failures += 1
    deliveries_succeeded(succeeded)
    result.succeeded += sum(len(ids) for ids in succeeded.values())
    if succeeded:
        subscription_succeeded(subscription)
    elif failures:
        subscription_failed(subscription, timezone.now())
    return reachable and bool(succeeded or not failures)


def batch_stop(subscription: Subscription, batch: list[Delivery], *, error: str, result: DrainResult) -> None:
    """Nothing of the batch can be sent (the URL is refused now): the first fails, the rest waits with it."""
    delivery_failed(batch[0], error=error, result=result)
    deliveries_release(batch[1:], result.retry_at)
    subscription_failed(subscription, timezone.now())


def signed_request(subscription: Subscription, event: Event) -> tuple[bytes, dict[str, str]]:
    body = event_body(event)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Omni-Webhooks/1",
        SIGNATURE_HEADER: signature_header(subscription.secret, body),
        "Omni-Event-Id": str(event.id),
        "Omni-Event-Type": event.type,
    }
    return body, headers


def _error(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]


def deliveries_succeeded(ids_by_code: dict[int, list[int]]) -> None:
    now = timezone.now()
    for code, ids in ids_by_code.items():
        Delivery.objects.filter(pk__in=ids, status=DeliveryStatus.SENDING).update(
            status=DeliveryStatus.SUCCEEDED,
            attempts=F("attempts") + 1,
            response_code=code,
            last_error="",
            delivered_at=now,
            updated_at=now,
        )


def delivery_failed(delivery: Delivery, *, error: str, result: DrainResult, response_code: int | None = None):
    now = timezone.now()
    attempts = delivery.attempts + 1
    give_up = now >= delivery.event.created_at + RETRY_FOR
    retry_at = now + timedelta(seconds=backoff_seconds(attempts))
    Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENDING).update(
        status=DeliveryStatus.ABANDONED if give_up else DeliveryStatus.PENDING,
        attempts=attempts,
        response_code=response_code,
        last_error=error,
        next_attempt_at=retry_at,
        updated_at=now,
    )
    logger.warning("Webhook delivery %s attempt %s failed: %s", delivery.pk, attempts, error)
    if give_up:
        result.abandoned += 1
    else:
        result.retrying += 1
        result.retry_at = retry_at if result.retry_at is None else min(result.retry_at, retry_at)


def deliveries_release(deliveries: list[Delivery], retry_at: datetime | None) -> None:
    """Claimed but not tried: pending again, due with the failure that stopped their batch."""
    if not deliveries:
        return
    now = timezone.now()
    Delivery.objects.filter(pk__in=[delivery.pk for delivery in deliveries], status=DeliveryStatus.SENDING).update(
        status=DeliveryStatus.PENDING, next_attempt_at=retry_at or now, updated_at=now
    )


def deliveries_requeue() -> int:
    """Queue a drain for each subscription with due pending deliveries (a retry is due, the broker was
    down, a task was lost); how many deliveries are due. Deliveries interrupted while sending are due
    again (at least once: the receiver dedupes by event id)."""
    now = timezone.now()
    Delivery.objects.filter(status=DeliveryStatus.SENDING, claimed_at__lt=now - SENDING_TIMEOUT).update(
        status=DeliveryStatus.PENDING, next_attempt_at=now, updated_at=now
    )
    due = dict(
        Delivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now, subscription__is_active=True)
        .values_list("subscription_id")
        .annotate(count=Count("id"))
        .order_by()
    )
    drains_queue(list(due))
    return sum(due.values())
