"""The outbox: events written in the transaction of the change, delivered by Celery after commit.

``event_record`` is called by the event sources (``omni.webhooks.sources``) from the hooks the
apps call inside their services' transactions. It writes the event and one pending delivery per
active subscription to its type, and queues their delivery once the transaction commits; if the
broker cannot be reached then, the periodic ``requeue_due_deliveries`` queues them again.
"""

import time

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from omni.core.queueing import enqueue, registered_task
from omni.webhooks.models import Delivery, Event, Subscription

DELIVER_TASK = "omni.webhooks.tasks.deliver"


def subscribers(event_type: str) -> list[int]:
    """The active subscriptions of unrevoked keys to ``event_type`` (one small query)."""
    rows = Subscription.objects.filter(is_active=True, api_key__revoked_at__isnull=True).values_list(
        "id", "event_types"
    )
    return [pk for pk, types in rows if event_type in types]


# The event types some active subscription wants, per process, refreshed every few seconds: the
# hooks run on hot paths (every stock write, every order), which must not pay a query to learn that
# nobody listens. A new subscription starts receiving within WANTED_TTL_SECONDS (at once in the
# process that created it); ``event_record`` still reads the subscriptions themselves.
WANTED_TTL_SECONDS = 5.0
_wanted: tuple[float, frozenset[str]] | None = None


def event_type_wanted(event_type: str) -> bool:
    """Whether anyone may listen to ``event_type``: a source skips building data nobody receives."""
    global _wanted
    now = time.monotonic()
    if _wanted is None or now - _wanted[0] > WANTED_TTL_SECONDS:
        rows = Subscription.objects.filter(is_active=True, api_key__revoked_at__isnull=True)
        types = {kind for kinds in rows.values_list("event_types", flat=True) for kind in kinds}
        _wanted = (now, frozenset(types))
    return event_type in _wanted[1]


def wanted_forget() -> None:
    """Read the subscriptions again at the next event (a subscription was created or changed)."""
    global _wanted
    _wanted = None


is_subscribed = event_type_wanted


def event_record(*, event_type: str, object_type: str, object_id: str, data: dict) -> None:
    """Write the event and its deliveries in the caller's transaction; queue them after commit.

    Nothing is written when no active subscription wants ``event_type``. Events of one object are
    numbered (``sequence``) in the order they are written, which the delivery keeps per subscription.
    """
    subscription_ids = subscribers(event_type)
    if subscription_ids:
        event_write(event_type, object_type, str(object_id), data, subscription_ids)


def event_write(event_type: str, object_type: str, object_id: str, data: dict, subscription_ids: list[int]) -> Event:
    last = Event.objects.filter(object_type=object_type, object_id=object_id).aggregate(last=Max("sequence"))["last"]
    now = timezone.now()
    event = Event.objects.create(
        type=event_type,
        object_type=object_type,
        object_id=object_id,
        sequence=(last or 0) + 1,
        data=data,
        created_at=now,
    )
    deliveries = Delivery.objects.bulk_create(
        [Delivery(event=event, subscription_id=pk, next_attempt_at=now, created_at=now) for pk in subscription_ids]
    )
    delivery_ids = [delivery.pk for delivery in deliveries]
    transaction.on_commit(lambda: deliveries_queue(delivery_ids))
    return event


def deliveries_queue(delivery_ids: list[int], *, countdown: float = 0) -> int:
    """Queue a delivery task for each id; how many were queued (the rest wait for the re-queue)."""
    task = registered_task(DELIVER_TASK)
    if countdown > 0:
        if task.app.conf.task_always_eager:
            return 0  # in-process nothing waits: the periodic re-queue sends it once it is due
        return sum(_enqueue_later(task, pk, countdown) for pk in delivery_ids)
    return sum(enqueue(task, pk) for pk in delivery_ids)


def _enqueue_later(task, delivery_id: int, countdown: float) -> bool:
    try:
        task.apply_async((delivery_id,), countdown=countdown)
    except Exception:  # the broker is down: the periodic re-queue finds the delivery due
        return False
    return True
