from celery import shared_task

from omni.api.idempotency import idempotency_keys_forget


@shared_task
def forget_idempotency_keys() -> int:
    """Daily: drop idempotency keys past their retention."""
    return idempotency_keys_forget()


@shared_task
def run_export_job(job_id: int) -> str:
    """Write a large export's file in chunks (``omni.exports.services``); returns its status."""
    from omni.exports.services import export_job_run

    return export_job_run(job_id=job_id).status


@shared_task
def delete_old_exports() -> int:
    """Daily: delete export files and jobs past ``REPORTS_EXPORT_RETENTION_DAYS``."""
    from omni.exports.services import export_files_delete_old

    return export_files_delete_old()
