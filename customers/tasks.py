import logging

from celery import shared_task

from customers.messaging.services import (
    DeliveryFailed,
    message_deliver,
    messages_deliver,
    messages_requeue,
    service_messages_deliver,
)
from customers.services import duplicates_detect

logger = logging.getLogger(__name__)


@shared_task(bind=True, max_retries=None)
def deliver_message(self, message_id: int) -> str:
    """Deliver one outbox message. ``message_deliver`` counts the attempts and gives up itself."""
    while True:
        try:
            return message_deliver(message_id=message_id)
        except DeliveryFailed as exc:
            if not self.request.is_eager:
                raise self.retry(exc=exc, countdown=min(60 * 2**self.request.retries, 3600))
            # In-process (no broker), nothing would run a delayed retry: try again at once.


@shared_task
def deliver_service_messages() -> dict[str, int]:
    """Deliver the service messages not tried yet (queued once per burst of them: ``_schedule``)."""
    return service_messages_deliver()


@shared_task
def deliver_messages(message_ids: list[int]) -> dict[str, int]:
    """Deliver a batch of outbox messages (a campaign's); one that fails stays pending for the requeue."""
    return messages_deliver(message_ids)


@shared_task
def requeue_pending_messages() -> int:
    """Every few minutes: queue again the messages still pending (the broker was down, a worker died)."""
    count = messages_requeue()
    if count:
        logger.info("Queued %s pending messages again.", count)
    return count


@shared_task
def detect_duplicates() -> int:
    """Nightly: list probable duplicate customers for staff to review."""
    return duplicates_detect()
