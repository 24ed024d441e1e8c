import logging

from celery import shared_task

from omni.webhooks.delivery import deliveries_requeue, subscription_drain
from omni.webhooks.retention import events_forget

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def send_due(subscription_id: int) -> int:
    """Send a subscription's due webhook deliveries; it queues itself again when there are more."""
    return subscription_drain(subscription_id).succeeded


@shared_task(ignore_result=True)
def requeue_due_deliveries() -> int:
    """Every minute: queue the drains of due pending deliveries (retries, a broker outage, a lost task)."""
    count = deliveries_requeue()
    if count:
        logger.info("%s webhook deliveries are due; their drains are queued.", count)
    return count


@shared_task(ignore_result=True)
def forget_old_events() -> int:
    """Nightly: sent events past OMNI_WEBHOOK_KEEP_DAYS are deleted with their deliveries."""
    count = events_forget()
    if count:
        logger.info("Forgot %s webhook events.", count)
    return count
