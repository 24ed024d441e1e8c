"""Daily loyalty tasks (scheduled in ``CELERY_BEAT_SCHEDULE``). Each calls one set-based batch
service of ``loyalty.nightly`` and is safe to run again."""

import logging

from celery import shared_task

from loyalty import nightly
from loyalty.selectors import points_discrepancies

logger = logging.getLogger(__name__)


@shared_task
def expire_points() -> dict:
    """Expire the points whose expiry has come, first-in first-out."""
    run = nightly.points_expire_due()
    logger.info("Expired %s points of %s lots on %s accounts.", run.points, run.lots, run.accounts)
    return {"accounts": run.accounts, "lots": run.lots, "points": run.points}


@shared_task
def warn_expiring_points() -> int:
    """Tell customers whose points expire within ``LOYALTY_EXPIRY_WARNING_DAYS``, once per lot."""
    return nightly.points_warn_expiring()


@shared_task
def grant_birthday_bonuses() -> int:
    """Give today's birthday bonuses, once per customer and year."""
    return nightly.birthday_bonuses_grant()


@shared_task
def recalculate_tiers() -> int:
    """Recalculate every tier: a tier goes down when old spend leaves the period."""
    return nightly.tiers_recalculate_all()


@shared_task
def check_points_ledger() -> int:
    """Nightly: every account's lots must equal its ledger. Logs every discrepancy."""
    discrepancies = points_discrepancies()
    for row in discrepancies:
        logger.error("Points ledger discrepancy: %s", row)
    return len(discrepancies)
