from celery import shared_task

from omni.core.api.idempotency import idempotency_keys_forget


@shared_task
def forget_idempotency_keys() -> int:
    """Daily: drop idempotency keys past their retention."""
    return idempotency_keys_forget()
