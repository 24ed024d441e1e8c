"""Queueing Celery tasks so that a broker outage never fails the change that queues them.

What a task is to do is first recorded in the database, in the caller's transaction (a pending
message, a pending export job, a summary change); the task is queued after commit. When the broker
cannot be reached, the record stays as it is and a periodic task (``CELERY_BEAT_SCHEDULE``) queues
what is still pending again.
"""

import logging

from celery import current_app
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


def enqueue_on_commit(task, *args) -> None:
    """Queue ``task`` once the current transaction commits (at once outside one), guarded as ``enqueue``."""
    transaction.on_commit(lambda: enqueue(task, *args))


def registered_task(name: str):
    """The task registered under ``name`` ("omni.reports.tasks.run_export_job"). A service queues
    the task that runs it by name, so that the service and the task module do not import each other:
    the task module imports the service, never the other way round."""
    return current_app.tasks[name]
