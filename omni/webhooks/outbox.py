"""The outbox: events written in the transaction of the change, delivered by Celery after commit.

``event_record`` is called by the event sources (``omni.webhooks.sources``) from the hooks the
apps call inside their services' transactions. It writes the event and one pending delivery per
active subscription to its type, and queues a drain of each subscription
(``omni.webhooks.delivery.subscription_drain``) once the transaction commits; if the broker cannot
be reached then, the periodic ``requeue_due_deliveries`` queues it again.
"""

import functools
import time
from collections.abc import Iterable
from functools import partial

from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.utils import timezone

from omni.core.queueing import GATHER_SECONDS, enqueue, enqueue_once, queued_mark_clear, registered_task
from omni.webhooks.models import Delivery, Event, Subscription

DRAIN_TASK = "omni.webhooks.tasks.send_due"


# Who subscribes to what, per process, refreshed every few seconds: the hooks run on hot paths
# (every stock write, every order), which must not pay a query to learn who listens. A new or
# changed subscription counts within WANTED_TTL_SECONDS (at once in the process that changed it);
# a delivery written for a subscription paused in the meantime waits for it to be resumed.
WANTED_TTL_SECONDS = 5.0
_subscribers: tuple[float, dict[str, tuple[int, ...]]] | None = None


def subscribers(event_type: str) -> tuple[int, ...]:
    """The active subscriptions of unrevoked keys to ``event_type``."""
    global _subscribers
    now = time.monotonic()
    if _subscribers is None or now - _subscribers[0] > WANTED_TTL_SECONDS:
        by_type: dict[str, list[int]] = {}
        rows = Subscription.objects.filter(is_active=True, api_key__revoked_at__isnull=True)
        for pk, kinds in rows.order_by("id").values_list("id", "event_types"):
            for kind in kinds:
                by_type.setdefault(kind, []).append(pk)
        _subscribers = (now, {kind: tuple(ids) for kind, ids in by_type.items()})
    return _subscribers[1].get(event_type, ())


def event_type_wanted(event_type: str) -> bool:
    """Whether anyone may listen to ``event_type``: a source skips building data nobody receives."""
    return bool(subscribers(event_type))


def wanted_forget() -> None:
    """Read the subscriptions again at the next event (a subscription was created or changed)."""
    global _subscribers
    _subscribers = None


def event_record(*, event_type: str, object_type: str, object_id: str, data: dict) -> None:
    """Write the event and its deliveries in the caller's transaction; queue them after commit.

    Nothing is written when no active subscription wants ``event_type``. The caller holds the
    object's row lock, so that the deliveries of one object are numbered in commit order.
    """
    subscription_ids = subscribers(event_type)
    if subscription_ids:
        event_write(event_type, object_type, str(object_id), data, subscription_ids)


def event_write(
    event_type: str, object_type: str, object_id: str, data: dict, subscription_ids: Iterable[int]
) -> Event:
    now = timezone.now()
    event = Event(type=event_type, object_type=object_type, object_id=object_id, data=data, created_at=now)
    deliveries = [
        Delivery(event=event, subscription_id=pk, object_key=event.object_key, next_attempt_at=now, created_at=now)
        for pk in subscription_ids
    ]
    if connection.vendor == "postgresql":
        _write_in_one_statement(event, deliveries)
    else:
        event.save(force_insert=True)
        Delivery.objects.bulk_create(deliveries)
    transaction.on_commit(partial(drains_queue, subscription_ids, gather=True))
    return event


def _write_in_one_statement(event: Event, deliveries: list[Delivery]) -> None:
    """The event and its deliveries in one round trip (a data-modifying CTE): this runs inside the
    transaction of every subscribed change, such as placing an order."""
    event_columns, delivery_columns = _columns()
    db = connections[DEFAULT_DB_ALIAS]  # the connection itself: each lookup through the proxy costs
    params = [_db_value(field, event, db) for field in event_columns]
    for delivery in deliveries:
        params += [_db_value(field, delivery, db) for field in delivery_columns]
    with db.cursor() as cursor:
        cursor.execute(_insert_statement(len(deliveries)), params)


@functools.cache
def _columns() -> tuple[list, list]:
    """The event's columns and the delivery's (but its id, which the database numbers)."""
    delivery_columns = [field for field in Delivery._meta.concrete_fields if not field.primary_key]
    return list(Event._meta.concrete_fields), delivery_columns


@functools.cache
def _insert_statement(deliveries: int) -> str:
    event_columns, delivery_columns = _columns()
    delivery_row = "(" + ", ".join(["%s"] * len(delivery_columns)) + ")"
    return (
        f"WITH event AS (INSERT INTO {Event._meta.db_table} ({_names(event_columns)}) "
        f"VALUES ({', '.join(['%s'] * len(event_columns))})) "
        f"INSERT INTO {Delivery._meta.db_table} ({_names(delivery_columns)}) VALUES "
        + ", ".join([delivery_row] * deliveries)
    )


def _names(fields) -> str:
    return ", ".join(connection.ops.quote_name(field.column) for field in fields)


def _db_value(field, instance, db):
    return field.get_db_prep_save(field.pre_save(instance, add=True), db)


def _drain_mark(subscription_id: int) -> str:
    return f"omni:webhooks:drain-queued:{subscription_id}"


def drain_started(subscription_id: int) -> None:
    queued_mark_clear(_drain_mark(subscription_id))


def drains_queue(subscription_ids: Iterable[int], *, countdown: float = 0, gather: bool = False) -> int:
    """Queue a drain of each subscription's due deliveries (one at a time per subscription,
    ``enqueue_once``, unless ``countdown``: a retry later); with ``gather`` (events just written),
    to start ``GATHER_SECONDS`` later with the burst they belong to; how many were queued."""
    task = registered_task(DRAIN_TASK)
    if countdown > 0:
        if task.app.conf.task_always_eager:
            return 0  # in-process nothing waits: the periodic re-queue drains it once it is due
        return sum(enqueue(task, pk, countdown=countdown) for pk in subscription_ids)
    delay = GATHER_SECONDS if gather else 0
    return sum(enqueue_once(_drain_mark(pk), task, pk, countdown=delay) for pk in subscription_ids)
