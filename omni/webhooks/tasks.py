import logging

from celery import shared_task

from omni.webhooks.delivery import deliveries_requeue, delivery_attempt

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def deliver(delivery_id: int) -> str:
    """Try one webhook delivery; it reschedules itself when it fails and may be retried."""
    return delivery_attempt(delivery_id)


@shared_task(ignore_result=True)
def requeue_due_deliveries() -> int:
    """Every minute: queue the due pending deliveries again (retries, a broker outage, a lost task)."""
    count = deliveries_requeue()
    if count:
        logger.info("Queued %s webhook deliveries again.", count)
    return count
