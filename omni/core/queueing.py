"""Queueing Celery tasks so that a broker outage never fails the change that queues them.

What a task is to do is first recorded in the database, in the caller's transaction (a pending
message, a pending export job, a summary change); the task is queued after commit. When the broker
cannot be reached, the record stays as it is and a periodic task (``CELERY_BEAT_SCHEDULE``) queues
what is still pending again.
"""

import contextlib
import logging

from celery import current_app
from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)


def enqueue(task, *args, countdown: float = 0) -> bool:
    """Queue ``task`` with ``args`` (to run ``countdown`` seconds from now); False (and a warning)
    when it could not be queued."""
    try:
        if countdown:
            task.apply_async(args, countdown=countdown)
        else:
            task.delay(*args)
    except Exception as exc:  # the broker cannot be reached: the periodic re-queue recovers
        logger.warning(
            "Could not queue %s%r: %s. Its work stays recorded; the periodic re-queue queues it again "
            "if it is still pending.",
            task.name,
            args,
            exc,
        )
        return False
    return True


# A drain (of a webhook subscription's deliveries, of the service messages) queued and not yet
# started covers everything committed before it starts, so one queued run is enough: a mark in the
# shared cache says one is queued, and the task clears it first thing (``queued_mark_clear``).
# The mark expires, in case its task is lost.
QUEUED_MARK_SECONDS = 60
# A drain queued by a change (an order's notice, its events) starts this long after it, so that it
# delivers the burst the change belongs to: started at once, a drain at 120 orders a second found
# fewer than two messages, and each run cost the worker and the database about 3.5 ms. What it
# delivers leaves at most this much later.
GATHER_SECONDS = 0.5


def enqueue_once(mark: str, task, *args, countdown: float = 0) -> bool:
    """Queue ``task`` (to run ``countdown`` seconds from now) unless a run marked ``mark`` is queued
    and not started yet; whether it was queued."""
    try:
        if not cache.add(mark, 1, QUEUED_MARK_SECONDS):
            return False
    except Exception:  # the cache is down: queue anyway
        pass
    if enqueue(task, *args, countdown=countdown):
        return True
    queued_mark_clear(mark)  # not queued after all: the periodic re-queue will queue it
    return False


def queued_mark_clear(mark: str) -> None:
    """Called by a drain before it looks for work: what is committed from now on queues another."""
    with contextlib.suppress(Exception):  # the cache is down: marks are only an economy
        cache.delete(mark)


def enqueue_on_commit(task, *args) -> None:
    """Queue ``task`` once the current transaction commits (at once outside one), guarded as ``enqueue``."""
    transaction.on_commit(lambda: enqueue(task, *args))


def registered_task(name: str):
    """The task registered under ``name`` ("omni.reports.tasks.run_export_job"). A service queues
    the task that runs it by name, so that the service and the task module do not import each other:
    the task module imports the service, never the other way round."""
    return current_app.tasks[name]
