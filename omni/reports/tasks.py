from celery import shared_task

from omni.reports.exports.services import export_files_delete_old, export_job_run, export_jobs_requeue
from omni.reports.rfm import rfm_compute
from omni.reports.summaries import summaries_refresh_pending


@shared_task
def run_export_job(job_id: int) -> str:
    """Write a large export's file in chunks (``omni.reports.exports.services``); returns its status."""
    return export_job_run(job_id=job_id).status


@shared_task
def requeue_pending_exports() -> int:
    """Every few minutes: queue again the export jobs still pending (the broker was down)."""
    return export_jobs_requeue()


@shared_task
def delete_old_exports() -> int:
    """Daily: delete export files and jobs past ``REPORTS_EXPORT_RETENTION_DAYS``."""
    return export_files_delete_old()


@shared_task(ignore_result=True)
def refresh_report_summaries() -> int:
    """After each change to a completed order, and every minute: fold pending changes into the
    report summaries (``omni.reports.summaries``); returns how many were folded in."""
    return summaries_refresh_pending(wait=False)


@shared_task(ignore_result=True)
def compute_rfm() -> int | None:
    """Nightly: every customer's RFM scores and segment (``omni.reports.rfm``), from summaries
    brought up to date first; returns how many customers have scores (None: a computation was running)."""
    summaries_refresh_pending()
    return rfm_compute(wait=False)
