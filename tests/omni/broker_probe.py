"""A task for ``test_worker_broker_outage``, loaded by the worker that test starts (``-I``)."""

from celery import shared_task


@shared_task(bind=True, max_retries=1)
def probe(self, marker: str, countdown: int) -> str:
    """Record each run in ``marker``; the first asks for a delivery retry, as ``deliver_message``
    does after a failed attempt, so the worker holds the retried message until its countdown."""
    with open(marker, "a") as record:
        record.write(f"run {self.request.retries}\n")
    if self.request.retries == 0:
        raise self.retry(countdown=countdown)
    with open(marker, "a") as record:
        record.write("done\n")
    return "done"
