"""Periodic order work (Celery beat, see ``CELERY_BEAT_SCHEDULE``). Each order is handled in its
own transaction by its service, so one failure does not hold back the others."""

import logging

from celery import shared_task
from django.utils import timezone

from inventory.models import Transfer, TransferStatus
from omni.core.errors import DomainError
from orders import selectors, services
from orders.models import Order, OrderAllocation, OrderStatus

logger = logging.getLogger(__name__)


@shared_task
def expire_uncollected_orders() -> int:
    """Hourly: click-and-collect orders not collected (or decided on) in time are cancelled (stock
    released, points returned, the customer told). Also settles transfers received while their
    order was locked, and sources again the goods of transfers received short."""
    now = timezone.now()
    expired = 0
    for order in selectors.orders_to_expire(now).iterator():
        try:
            services.order_expire(order=order, now=now)
        except DomainError as exc:  # collected or cancelled meanwhile
            logger.info("Order %s not expired: %s", order.number, exc.code)
        else:
            expired += 1
    _settle_received_transfers()
    _source_shortfalls()
    return expired


@shared_task
def remind_pickup() -> int:
    """Hourly: remind customers, once, of orders waiting at a store and expiring within a day."""
    now = timezone.now()
    return sum(services.order_remind_pickup(order=order, now=now) for order in selectors.orders_to_remind(now))


def _settle_received_transfers() -> None:
    transfer_ids = (
        OrderAllocation.objects.filter(
            pending=True,
            transfer__status=TransferStatus.RECEIVED,
            line__order__status=OrderStatus.AWAITING_TRANSFER,
        )
        .values_list("transfer_id", flat=True)
        .distinct()
    )
    for transfer in Transfer.objects.filter(pk__in=list(transfer_ids)):
        services.order_transfer_settle(transfer_id=transfer.pk)


def _source_shortfalls() -> None:
    """Orders whose goods a short transfer did not bring, if the sourcing after the receipt was lost."""
    orders = Order.objects.filter(
        status=OrderStatus.AWAITING_TRANSFER, lines__allocations__pending=True, lines__allocations__transfer=None
    ).distinct()
    for order in orders:
        try:
            services.order_source_shortfall(order=order)
        except DomainError as exc:
            logger.info("Order %s: shortfall not sourced: %s", order.number, exc.code)
