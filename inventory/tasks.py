import logging

from celery import shared_task

from inventory.selectors import stock_discrepancies

logger = logging.getLogger(__name__)


@shared_task
def check_stock_ledger() -> int:
    """Nightly: the stored stock must equal the sum of its ledger. Logs every discrepancy."""
    discrepancies = stock_discrepancies()
    for row in discrepancies:
        logger.error("Stock ledger discrepancy: %s", row)
    return len(discrepancies)
