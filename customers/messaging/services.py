"""Sending messages to customers through an outbox.

``message_send`` writes the message in the caller's transaction, through exactly one channel,
and schedules its delivery after commit: a service message by the drain of the service messages
not tried yet (``service_messages_deliver``, one queued at a time), any other by its own
``deliver_message`` task. ``message_deliver`` (run by that task, also to retry a failure)
claims the row with a conditional UPDATE from pending to sending, so two workers can never both
send it, calls the channel's backend outside any transaction and records the outcome and the
timeline entry. ``messages_write`` writes a campaign's batch and queues one
``deliver_messages`` task for it: ``messages_deliver`` claims its rows a batch at a time
(``FOR UPDATE SKIP LOCKED``), sends each and records the batch in a few statements.
``messages_requeue`` (periodic) queues the messages left pending, for example while the broker
was down, a batch per task.
"""

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.template import Context, Template, TemplateSyntaxError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from customers.errors import ConsentRequired, NoReachableChannel
from customers.messaging.backends import backend_path, get_backend
from customers.models import (
    Consent,
    ConsentPurpose,
    Customer,
    Direction,
    Identity,
    IdentityKind,
    Interaction,
    InteractionKind,
    Message,
    MessageChannel,
    MessagePurpose,
    MessageStatus,
)
from customers.services import check_choice, locked_customer
from customers.timeline_events import event_summary
from omni.core.actors import SYSTEM, Actor
from omni.core.audit import audit_event, audit_event_row
from omni.core.channels import Channel
from omni.core.db import Ctes, insert_sql, require_transaction
from omni.core.errors import InvalidInput
from omni.core.models import AuditKind
from omni.core.queueing import GATHER_SECONDS, enqueue, enqueue_once, queued_mark_clear

logger = logging.getLogger(__name__)

# A message claimed this long ago and still "being sent" was interrupted (a worker died).
SENDING_TIMEOUT = timedelta(minutes=30)
# Messages per task when pending ones are queued again (after the broker was down, say).
REQUEUE_BATCH = 1000


class DeliveryFailed(Exception):
    """The backend failed; the message is pending again and should be retried."""


@dataclass(frozen=True)
class Route:
    channel: str
    recipient: str


def channel_order(customer: Customer) -> list[str]:
    """The preferred channel first, then the configured order; each channel once."""
    order = []
    for channel in [customer.preferred_channel, *settings.CUSTOMERS_MESSAGE_CHANNELS]:
        if channel in MessageChannel.values and channel not in order:
            order.append(channel)
    return order


def addresses_of(identities) -> dict[str, str]:
    """Where a customer can be reached, per channel, from their (kind, system, value) identities in id order."""
    addresses: dict[str, str] = {}
    for kind, system, value in identities:
        if kind == IdentityKind.EMAIL:
            addresses.setdefault(MessageChannel.EMAIL, value)
        elif kind == IdentityKind.PHONE:
            addresses.setdefault(MessageChannel.SMS, value)
        elif kind == IdentityKind.EXTERNAL_ID and system in settings.CUSTOMERS_PUSH_SYSTEMS:
            addresses.setdefault(MessageChannel.PUSH, f"{system}:{value}")
        elif kind == IdentityKind.EXTERNAL_ID and system in settings.CUSTOMERS_MESSENGER_SYSTEMS:
            addresses.setdefault(MessageChannel.MESSENGER, f"{system}:{value}")
    return addresses


def customer_addresses(customer: Customer) -> dict[str, str]:
    """Where the customer can be reached, per channel, from their identities (one query)."""
    return addresses_of(customer.identities.order_by("id").values_list("kind", "system", "value"))


def customers_addresses(customer_ids: Iterable[int]) -> dict[int, dict[str, str]]:
    """``customer_addresses`` for many customers in one query."""
    identities: dict[int, list] = defaultdict(list)
    rows = Identity.objects.filter(customer_id__in=list(customer_ids)).order_by("id")
    for customer_id, *identity in rows.values_list("customer_id", "kind", "system", "value"):
        identities[customer_id].append(identity)
    return {customer_id: addresses_of(rows) for customer_id, rows in identities.items()}


def customers_consents(customer_ids: Iterable[int]) -> dict[int, set[tuple[str, str]]]:
    """The (purpose, channel) pairs each customer has granted, in one query."""
    granted: dict[int, set[tuple[str, str]]] = defaultdict(set)
    rows = Consent.objects.filter(customer_id__in=list(customer_ids), granted=True)
    for customer_id, purpose, channel in rows.values_list("customer_id", "purpose", "channel"):
        granted[customer_id].add((purpose, channel))
    return granted


def route_choose(
    customer: Customer,
    *,
    purpose: str,
    addresses: dict[str, str],
    granted: set[tuple[str, str]],
    channels: Iterable[str] | None = None,
) -> Route:
    """The one channel a message goes through, or the reason there is none (the rule, without queries).

    Service messages take the first reachable channel in ``channel_order``; marketing ones the
    first reachable channel the customer consented to marketing through (with consent to
    personal data processing). ``channels`` limits the choice (a campaign's channels).
    """
    allowed_channels = set(channels) if channels is not None else None
    reachable = [
        channel
        for channel in channel_order(customer)
        if channel in addresses and (allowed_channels is None or channel in allowed_channels)
    ]
    if not reachable:
        raise NoReachableChannel(details={"customer_id": customer.pk})
    if purpose == MessagePurpose.MARKETING:
        allowed = []
        if (ConsentPurpose.PERSONAL_DATA, "") in granted:
            allowed = [channel for channel in reachable if (ConsentPurpose.MARKETING, channel) in granted]
        if not allowed:
            raise ConsentRequired(
                _("The customer has not consented to marketing through any channel they can be reached by."),
                details={"customer_id": customer.pk, "reachable": reachable},
            )
        reachable = allowed
    return Route(reachable[0], addresses[reachable[0]])


def message_route(customer: Customer, *, purpose: str) -> Route:
    """The one channel a message to this customer goes through (``route_choose``), read from the database."""
    granted: set[tuple[str, str]] = set()
    if purpose == MessagePurpose.MARKETING:
        granted = set(Consent.objects.filter(customer=customer, granted=True).values_list("purpose", "channel"))
    return route_choose(customer, purpose=purpose, addresses=customer_addresses(customer), granted=granted)


def _render(text: str, context: dict, field: str) -> str:
    try:
        return Template(text).render(Context(context, autoescape=False)).strip()
    except TemplateSyntaxError as exc:
        raise InvalidInput(_("The message template is not valid: %(error)s") % {"error": exc}, details={"field": field})


def _message_rendered(
    customer: Customer, *, subject: str, text: str, context: dict | None, kind: str, sensitive: bool, **fields
) -> Message:
    """The unsaved message of ``message_send``, its subject and text rendered for ``customer``;
    not routed yet. ``fields``: its purpose, dedupe key and cause, as they are stored."""
    values = {"customer": customer, **(context or {})}
    return Message(
        customer=customer,
        kind=kind[:64],
        subject=_render(subject, values, "subject")[:255],
        body=_render(text, values, "text"),
        is_sensitive=sensitive,
        **fields,
    )


ERASED_TEXT = _lazy("The text held a one-time code and was erased once the message had been handed over.")


def message_send(
    *,
    customer: Customer,
    kind: str,
    purpose: str,
    text: str,
    subject: str = "",
    context: dict | None = None,
    dedupe_key: str = "",
    cause_type: str = "",
    cause_id: str = "",
    sensitive: bool = False,
    actor: Actor = SYSTEM,
    customer_locked: bool = False,
    written_with: list[Ctes] | None = None,
) -> Message | None:
    """Write a message to the customer in the outbox and deliver it after commit.

    ``text`` and ``subject`` are Django templates rendered now with ``customer`` and ``context``.
    One message goes through one channel (``message_route``). With ``dedupe_key`` (a campaign,
    an order event) the customer gets it once: a second call returns the first message. A
    ``sensitive`` text (a one-time code) is erased once handed over and never copied to the timeline.

    ``customer_locked``: ``customer`` is the row the caller locked (``locked_customer``) in its
    transaction. A service message is then routed, written and audited in one statement on
    PostgreSQL (``_service_message_ctes``). With ``written_with`` too, that statement's CTEs are
    appended to the list, for the caller to run in its own statement (``omni.core.db.
    rows_write_together(ctes=...)``): nothing is returned, and a customer no channel reaches is
    then logged, not refused.
    """
    check_choice(purpose, MessagePurpose, "purpose")
    kind = kind.strip()
    if not kind or not text.strip():
        raise InvalidInput(_("A message needs a kind and a text."), details={"field": "text" if kind else "kind"})
    dedupe_key = dedupe_key.strip()[:128]
    unrouted = {
        "kind": kind,
        "purpose": purpose,
        "subject": subject,
        "text": text,
        "context": context,
        "sensitive": sensitive,
        "dedupe_key": dedupe_key,
        "cause_type": cause_type,
        "cause_id": cause_id,
    }
    # Inside the caller's transaction no savepoint: every refusal comes before the first write,
    # so a caller may catch it and go on. Every message is written with its customer locked,
    # so the dedupe key's look-up under that lock cannot race another message_send.
    if customer_locked and purpose == MessagePurpose.SERVICE and connection.vendor == "postgresql":
        require_transaction("message_send(customer_locked=True)")
        message = _message_rendered(customer, **unrouted)
        if written_with is None:
            return _service_message_ctes(message, actor, refuse=True).run()
        written_with.append(_service_message_ctes(message, actor, refuse=False))
        return None
    with transaction.atomic() if not connection.in_atomic_block else nullcontext():
        customer = locked_customer(customer)
        if dedupe_key:
            existing = Message.objects.filter(customer=customer, dedupe_key=dedupe_key).first()
            if existing is not None:
                return existing
        route = message_route(customer, purpose=purpose)
        message = _message_rendered(customer, **unrouted)
        message.channel, message.recipient = route.channel, route.recipient
        message.backend = backend_path(route.channel)
        message.save(force_insert=True)
        audit_event(actor, message, AuditKind.MESSAGE_SENT, field="channel", new=message.channel)
        transaction.on_commit(lambda: _schedule(message))
    return message


# The route of ``route_choose`` for a service message, in SQL: the customer's identities as the
# addresses of ``addresses_of`` (the first of each channel by id), the first channel of
# ``channel_order`` among them.
_ROUTE_SQL = """
SELECT channel, recipient, CASE channel {backends} END AS backend
FROM (
    SELECT id,
        CASE WHEN kind = %s THEN %s WHEN kind = %s THEN %s
             WHEN kind = %s AND system = ANY(CAST(%s AS text[])) THEN %s
             WHEN kind = %s AND system = ANY(CAST(%s AS text[])) THEN %s END AS channel,
        CASE WHEN kind = %s THEN system || ':' || value ELSE value END AS recipient
    FROM customers_identity WHERE customer_id = %s
) AS reachable
WHERE array_position(CAST(%s AS text[]), channel) IS NOT NULL
ORDER BY array_position(CAST(%s AS text[]), channel), id
LIMIT 1
"""


def _service_message_ctes(message: Message, actor: Actor, *, refuse: bool) -> Ctes:
    """A service message to its (locked) customer routed, written and audited in one statement:
    nothing is written when the customer cannot be reached (``NoReachableChannel``, raised with
    ``refuse``, else logged), and the message already written under the same dedupe key is
    returned (the key's unique index, ``ON CONFLICT DO NOTHING``), as ``message_send`` does."""
    customer = message.customer
    route, written_message, audited = "route{n}", "message{n}", "audit{n}"  # numbered by the statement (Ctes)
    external, channels = IdentityKind.EXTERNAL_ID, channel_order(customer)
    backends = " ".join(f"WHEN '{channel}' THEN %s" for channel in MessageChannel.values)
    route_params = [backend_path(channel) for channel in MessageChannel.values]
    route_params += [IdentityKind.EMAIL, MessageChannel.EMAIL, IdentityKind.PHONE, MessageChannel.SMS]
    route_params += [external, list(settings.CUSTOMERS_PUSH_SYSTEMS), MessageChannel.PUSH]
    route_params += [external, list(settings.CUSTOMERS_MESSENGER_SYSTEMS), MessageChannel.MESSENGER]
    route_params += [external, customer.pk, channels, channels]
    message_sql, message_params = insert_sql(
        [message],
        when=f"EXISTS (SELECT 1 FROM {route})",
        exprs={field: f"(SELECT {field} FROM {route})" for field in ("channel", "recipient", "backend")},
        on_conflict="DO NOTHING",
    )
    audit = audit_event_row(actor, message, AuditKind.MESSAGE_SENT, field="channel")
    audit_sql, audit_params = insert_sql(
        [audit],
        when=f"EXISTS (SELECT 1 FROM {written_message})",
        exprs={"object_id": f'(SELECT "id" FROM {written_message})', "new_value": f"(SELECT channel FROM {route})"},
    )

    def written(value: list | None) -> Message | None:
        if value is None:
            if refuse:
                raise NoReachableChannel(details={"customer_id": customer.pk})
            logger.info("Message %s to customer %s not written: no channel reaches them.", message.kind, customer.pk)
            return None
        if value[0] is None:  # written before under this dedupe key
            return Message.objects.get(customer=customer, dedupe_key=message.dedupe_key)
        message.pk, (message.channel, message.recipient, message.backend) = int(value[0]), value[1:]
        message._state.adding, message._state.db = False, connection.alias
        transaction.on_commit(lambda: _schedule(message))
        return message

    return Ctes(
        sql=f"{route} AS ({_ROUTE_SQL.format(backends=backends)}), {written_message} AS ({message_sql}), "
        f"{audited} AS ({audit_sql})",
        params=[*route_params, *message_params, *audit_params],
        returns=f'(SELECT ARRAY[(SELECT "id" FROM {written_message})::text, channel, recipient, backend] FROM {route})',
        done=written,
    )


@dataclass(frozen=True)
class Outgoing:
    """One rendered message of a batch: to whom, through which route, what."""

    customer_id: int
    route: Route
    subject: str
    body: str


@transaction.atomic(savepoint=False)
def messages_write(
    *, messages: Sequence[Outgoing], kind: str, purpose: str, dedupe_key: str, cause_type: str = "", cause_id: str = ""
) -> dict[int, int]:
    """Write a batch of rendered messages to the outbox in the caller's transaction; {customer id: message id}.

    The batch form of ``message_send`` for a campaign: the caller has chosen each route
    (``route_choose``) and rendered the text. Each customer gets one message per ``dedupe_key``
    (the database's unique key on customer and key): a message another worker already wrote
    is returned, not written again. Delivery is queued after commit, one task per batch.
    """
    check_choice(purpose, MessagePurpose, "purpose")
    dedupe_key = dedupe_key.strip()[:128]
    if not dedupe_key:
        raise InvalidInput.for_field("dedupe_key", _("A batch of messages needs a deduplication key."))
    Message.objects.bulk_create(
        [
            Message(
                customer_id=item.customer_id,
                kind=kind[:64],
                purpose=purpose,
                channel=item.route.channel,
                recipient=item.route.recipient,
                subject=item.subject[:255],
                body=item.body,
                dedupe_key=dedupe_key,
                cause_type=cause_type,
                cause_id=cause_id,
                backend=backend_path(item.route.channel),
            )
            for item in messages
        ],
        ignore_conflicts=True,
    )
    written = dict(
        Message.objects.filter(
            customer_id__in=[item.customer_id for item in messages], dedupe_key=dedupe_key
        ).values_list("customer_id", "pk")
    )
    ids = sorted(written.values())
    if ids:
        transaction.on_commit(lambda: _schedule_batch(ids))
    return written


def _schedule_batch(message_ids: list[int]) -> None:
    from customers.tasks import deliver_messages

    enqueue(deliver_messages, message_ids)  # not queued: messages_requeue queues each while it is pending


def _schedule(message: Message) -> None:
    """Have a message ``message_send`` wrote delivered, after commit: a service message by the
    drain (``service_messages_deliver``), any other by a task of its own."""
    from customers.tasks import deliver_message, deliver_service_messages

    # not queued (the broker is down): messages_requeue queues it while it is pending
    if message.purpose != MessagePurpose.SERVICE:
        enqueue(deliver_message, message.pk)
    else:
        enqueue_once(DRAIN_MARK, deliver_service_messages, countdown=GATHER_SECONDS)


# Service messages (an order's notice, a one-time code) are sent one at a time, about one per
# order: each queued its own Celery task, which cost the web worker about a millisecond per order
# and the Celery worker a task per message. A drain delivers them instead, queued once for all
# the messages committed before it starts (``omni.core.queueing.enqueue_once``), half a second
# after the first of them (``GATHER_SECONDS``).
DRAIN_MARK = "omni:messages:service-drain-queued"
DRAIN_BATCH = 100
RETRY_FIRST_SECONDS = 60  # deliver_message's first backoff


def service_messages_deliver() -> dict[str, int]:
    """The drain: deliver the service messages not tried yet, oldest first, a batch at a time
    (``messages_deliver``); how many ended how. One whose backend failed is retried by its own
    ``deliver_message`` task, with backoff, as a message sent alone would be."""
    from customers.tasks import deliver_message

    queued_mark_clear(DRAIN_MARK)
    outcomes: dict[str, int] = defaultdict(int)
    while True:
        due = Message.objects.filter(status=MessageStatus.PENDING, purpose=MessagePurpose.SERVICE, attempts=0)
        ids = list(due.order_by("pk").values_list("pk", flat=True)[:DRAIN_BATCH])
        if not ids:
            return dict(outcomes)
        delivered = messages_deliver(ids)
        for outcome, count in delivered.items():
            outcomes[outcome] += count
        if delivered.get("retry"):
            for pk in Message.objects.filter(pk__in=ids, status=MessageStatus.PENDING).values_list("pk", flat=True):
                enqueue(deliver_message, pk, countdown=RETRY_FIRST_SECONDS)
        if set(delivered) <= {"skipped"}:
            return dict(outcomes)  # another drain holds them: it sends them


def message_deliver(*, message_id: int) -> str:
    """Send one pending message; return what happened: sent, stored, skipped or failed.

    Raises ``DeliveryFailed`` when the backend failed and the message is pending again, to be
    retried.
    """
    now = timezone.now()
    claimed = Message.objects.filter(pk=message_id, status=MessageStatus.PENDING).update(
        status=MessageStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1, updated_at=now
    )
    if not claimed:
        return "skipped"  # sent, being sent by another worker, or cancelled
    message = Message.objects.get(pk=message_id)
    backend = get_backend(message.channel)
    try:
        provider_id = backend.send(message)
    except Exception as exc:
        if _record_failure(message, exc):
            return "failed"
        raise DeliveryFailed(f"{type(exc).__name__}: {exc}"[:2000]) from exc
    status = MessageStatus.SENT if backend.delivers else MessageStatus.STORED
    with transaction.atomic():
        sent_at = timezone.now()
        erased = {"body": str(ERASED_TEXT)} if message.is_sensitive else {}
        Message.objects.filter(pk=message_id, status=MessageStatus.SENDING).update(
            **erased,
            status=status,
            provider_message_id=str(provider_id or "")[:200],
            backend=backend_path(message.channel),
            sent_at=sent_at,
            last_error="",
            updated_at=sent_at,
        )
        _sent_interaction(message, status, sent_at).save()
    return str(status)


def _sent_interaction(message: Message, status: str, sent_at) -> Interaction:
    event = "message.sent" if status == MessageStatus.SENT else "message.stored"
    params = {"title": message.subject or message.kind}
    return Interaction(
        customer_id=message.customer_id,
        channel=Channel(message.channel),
        kind=InteractionKind.MESSAGE_SENT,
        direction=Direction.OUTBOUND,
        summary=event_summary(event, params),
        event=event,
        params=params,
        details="" if message.is_sensitive else message.body,
        occurred_at=sent_at,
        subject_type=message.cause_type or "message",
        subject_id=message.cause_id or str(message.pk),
    )


def messages_claim(message_ids: Sequence[int]) -> list[Message]:
    """Claim the pending messages among ``message_ids`` that no other worker holds, committed at once.

    The rows are locked ``FOR UPDATE SKIP LOCKED`` (a row another worker is claiming is passed
    over, not waited for) and moved from pending to sending; the claim's time names this
    worker's rows (on SQLite, which has no row locks, the status condition alone decides).
    """
    now = timezone.now()
    with transaction.atomic():
        free = list(
            Message.objects.select_for_update(skip_locked=True)
            .filter(pk__in=list(message_ids), status=MessageStatus.PENDING)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        Message.objects.filter(pk__in=free, status=MessageStatus.PENDING).update(
            status=MessageStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1, updated_at=now
        )
        return list(Message.objects.filter(pk__in=free, status=MessageStatus.SENDING, claimed_at=now).order_by("pk"))


def _record_handed_over(handed: list[tuple[Message, str, str]]) -> None:
    """Record messages the backends took, (message, status, provider id) each: one UPDATE per
    status, the provider ids joined from a VALUES list, and their timeline entries in one INSERT."""
    sent_at = timezone.now()
    table = Message._meta.db_table
    with transaction.atomic():
        for status in (MessageStatus.SENT, MessageStatus.STORED):
            rows = [(m.pk, provider_id, backend_path(m.channel)) for m, st, provider_id in handed if st == status]
            if not rows:
                continue
            values = ", ".join(["(%s, %s, %s)"] * len(rows))
            with connection.cursor() as cursor:
                cursor.execute(
                    # VALUES columns are column1.. in PostgreSQL and SQLite alike.
                    f"UPDATE {table} SET status = %s, provider_message_id = v.provider_id, backend = v.backend,"
                    f" sent_at = %s, last_error = '', updated_at = %s,"
                    f" body = CASE WHEN {table}.is_sensitive THEN %s ELSE {table}.body END"
                    f" FROM (SELECT column1 AS id, column2 AS provider_id, column3 AS backend"
                    f" FROM (VALUES {values}) AS handed) AS v"
                    f" WHERE {table}.id = v.id AND {table}.status = %s",
                    [
                        status,
                        sent_at,
                        sent_at,
                        str(ERASED_TEXT),
                        *[v for row in rows for v in row],
                        MessageStatus.SENDING,
                    ],
                )
        Interaction.objects.bulk_create([_sent_interaction(m, status, sent_at) for m, status, _id in handed])


def messages_deliver(message_ids: Sequence[int], *, batch_size: int = 500) -> dict[str, int]:
    """Deliver many outbox messages (a campaign's) a batch at a time; how many ended how.

    Each batch is claimed at once (``messages_claim``: a message another worker claimed is
    skipped), handed to the backends one by one outside any transaction, and recorded together
    (``_record_handed_over``). A message whose backend failed is pending again for the periodic
    requeue, or failed after ``CUSTOMERS_MESSAGE_MAX_ATTEMPTS``.
    """
    outcomes: dict[str, int] = {}

    def count(outcome: str, n: int = 1) -> None:
        if n:
            outcomes[outcome] = outcomes.get(outcome, 0) + n

    ids = sorted(set(message_ids))
    backends: dict[str, object] = {}
    for start in range(0, len(ids), batch_size):
        chunk = ids[start : start + batch_size]
        claimed = messages_claim(chunk)
        count("skipped", len(chunk) - len(claimed))
        handed = []
        for message in claimed:
            backend = backends.get(message.channel) or backends.setdefault(
                message.channel, get_backend(message.channel)
            )
            try:
                provider_id = str(backend.send(message) or "")[:200]
            except Exception as exc:
                final = _record_failure(message, exc)
                count("failed" if final else "retry")
                continue
            status = MessageStatus.SENT if backend.delivers else MessageStatus.STORED
            handed.append((message, status, provider_id))
            count(str(status))
        if handed:
            _record_handed_over(handed)
    return outcomes


def _record_failure(message: Message, exc: Exception) -> bool:
    """The backend refused: pending again, or failed for good after the last attempt; whether final."""
    error = f"{type(exc).__name__}: {exc}"[:2000]
    final = message.attempts >= settings.CUSTOMERS_MESSAGE_MAX_ATTEMPTS
    Message.objects.filter(pk=message.pk, status=MessageStatus.SENDING).update(
        status=MessageStatus.FAILED if final else MessageStatus.PENDING, last_error=error, updated_at=timezone.now()
    )
    logger.warning("Message %s attempt %s failed: %s", message.pk, message.attempts, error)
    return final


def messages_requeue(*, older_than: timedelta | None = None) -> int:
    """Queue again every message left pending, a batch per task; return how many were queued.

    Messages interrupted while being sent are not sent again (whether they reached the customer
    is unknown): they are marked failed for staff to check.
    """
    from customers.tasks import deliver_messages

    now = timezone.now()
    older_than = older_than if older_than is not None else timedelta(minutes=settings.CUSTOMERS_MESSAGE_REQUEUE_MINUTES)
    Message.objects.filter(status=MessageStatus.SENDING, claimed_at__lt=now - SENDING_TIMEOUT).update(
        status=MessageStatus.FAILED,
        last_error=_("Delivery was interrupted; it is unknown whether the message arrived. Not sent again."),
        updated_at=now,
    )
    ids = list(
        Message.objects.filter(status=MessageStatus.PENDING, updated_at__lte=now - older_than)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    batches = [ids[start : start + REQUEUE_BATCH] for start in range(0, len(ids), REQUEUE_BATCH)]
    return sum(len(batch) for batch in batches if enqueue(deliver_messages, batch))
