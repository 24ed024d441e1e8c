"""What the order services tell the customer (messages) and record on their timeline."""

import logging
from decimal import Decimal

from django.conf import settings

from customers.messaging.services import message_send
from customers.models import Direction, Interaction, MessagePurpose
from customers.services import interaction_build
from omni.core.actors import Actor
from omni.core.db import Ctes
from omni.core.errors import DomainError
from orders import timeline_events  # noqa: F401 (registers the order events)
from orders.models import Order

logger = logging.getLogger(__name__)


def customer_notify(
    order: Order,
    *,
    kind: str,
    subject: str,
    text: str,
    actor: Actor,
    key: str = "",
    customer_locked: bool = False,
    written_with: list[Ctes] | None = None,
) -> None:
    """A service message to the order's customer; an unreachable customer is not an error.
    ``customer_locked``: ``order.customer`` is the row locked in this transaction; with
    ``written_with``, the message may be left there to be written with the caller's rows
    (``message_send``)."""
    customer = order.customer
    if customer is None:
        return
    try:
        message_send(
            customer=customer,
            kind=kind,
            purpose=MessagePurpose.SERVICE,
            subject=subject,
            text=text,
            dedupe_key=f"{kind}:{key or order.number}",
            cause_type="order",
            cause_id=order.number,
            actor=actor,
            customer_locked=customer_locked,
            written_with=written_with,
        )
    except DomainError as exc:  # refused before writing anything: no savepoint to roll back
        logger.info("Order %s: message %s not sent (%s).", order.number, kind, exc.code)


def timeline_record(order: Order, **fields) -> None:
    """An entry on the customer's timeline about the order (skipped for inactive profiles): the
    entry ``timeline_entry`` builds from ``fields``, saved. An event of ``orders.timeline_events``
    is shown in the reader's language (a ``summary`` without an event is kept as written, in one
    language: only for text a person typed)."""
    entry = timeline_entry(order, **fields)
    if entry is not None:
        entry.save(force_insert=True)


def timeline_entry(
    order: Order,
    *,
    kind: str,
    actor: Actor,
    event: str = "",
    params: dict | None = None,
    summary: str = "",
    location=None,
    details: str = "",
) -> Interaction | None:
    """The (unsaved) entry ``timeline_record`` writes, or None where it writes none, for writing
    it with the order's own rows."""
    if order.customer is None:
        return None
    try:
        return interaction_build(
            customer=order.customer,
            channel=order.channel,
            kind=kind,
            direction=Direction.INBOUND,
            event=event,
            params=params,
            summary=summary,
            details=details,
            location=location,
            subject_type="order",
            subject_id=order.number,
            actor=actor,
        )
    except DomainError as exc:  # refused before writing anything: no savepoint to roll back
        logger.info("Order %s: timeline entry not recorded (%s).", order.number, exc.code)
        return None


def money_text(value: Decimal) -> str:
    return f"{value} {settings.OMNI_CURRENCY}"
