"""NPS after a visit or an order: one request to rate it from 0 to 10, and the answer as feedback.

A completed store sale, a collected click-and-collect order and a delivered order each get one
``NpsRequest`` (the order is its unique key, so a repeated hook or a race writes one row), due
``MARKETING_NPS_DELAY_MINUTES`` later. ``nps_requests_send`` (periodic) sends each due request
through the customer's consented channel by the campaigns' rules (``omni.marketing.audience.decide``:
marketing consent, quiet hours, the weekly cap), and at most one request per customer in
``MARKETING_NPS_EVERY_DAYS``; a request not sent says why. The message links to a signed public
page (``omni.marketing.views.nps``); the app and the messenger bots answer with the same token over
the API. ``nps_answer`` records the score through ``customers.cases.feedback_record`` (a low score
opens a case for the store's manager) and links it to the request, once.

Why marketing consent: a survey is not needed to fulfil the order (the service messages are the
ones that are: ready for pickup, the receipt, a code), it asks the customer for something on the
shop's behalf, and only marketing consent is given and withdrawn per channel, so the customer
who said "no offers by SMS" is not asked by SMS either, and the link in the message withdraws it.
"""

import datetime

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from customers.cases import feedback_record
from customers.errors import CustomerAnonymised, CustomerMerged, InvalidScore
from customers.messaging.services import message_send
from customers.models import Customer, MessageChannel, MessagePurpose
from customers.services import locked_customer
from omni.core.actors import SYSTEM, Actor
from omni.core.channels import Channel
from omni.core.errors import InvalidInput
from omni.marketing.audience import decide, facts_load
from omni.marketing.errors import NpsAlreadyAnswered, NpsLinkExpired, NpsLinkInvalid
from omni.marketing.models import NpsRequest, NpsSkipReason, NpsStatus, RecipientStatus
from omni.marketing.rendering import message_language, unsubscribe_url
from orders.models import Fulfilment, Order, OrderStatus

SALT = "omni.marketing.nps"
#: The statuses of an order whose goods the customer has: sold in the store, collected, delivered.
RATED_STATUSES = (OrderStatus.SOLD, OrderStatus.COLLECTED, OrderStatus.DELIVERED)
#: A request still waiting this long after it fell due (the sweep was stopped) is not sent any more.
LATE_AFTER = datetime.timedelta(days=1)
COMMENT_MAX = 2000


# --- Requests ----------------------------------------------------------------------------------


def nps_request_note(order: Order, *, now: datetime.datetime | None = None) -> None:
    """Ask for a rating of an order the customer just got, once per order (its unique key).

    Called by the orders hooks inside the order's transaction: one ``INSERT … ON CONFLICT DO
    NOTHING``, so it never raises for a second call or a concurrent one.
    """
    if order.customer_id is None or order.status not in RATED_STATUSES:
        return
    now = now or timezone.now()
    request = NpsRequest(
        order_id=order.pk,
        customer_id=order.customer_id,
        store_id=order.location_id,
        channel=order.channel,
        due_at=now + datetime.timedelta(minutes=settings.MARKETING_NPS_DELAY_MINUTES),
    )
    NpsRequest.objects.bulk_create([request], ignore_conflicts=True)


def order_placed(order: Order) -> None:
    """A sale in the store is placed sold."""
    nps_request_note(order)


def order_status_changed(order: Order, status_from: str) -> None:
    """A click-and-collect order collected, a delivery delivered."""
    nps_request_note(order)


def nps_requests_merged(merged: Customer, survivor: Customer) -> None:
    """A merge moves the requests to the survivor: their answers and the frequency rule follow the person."""
    NpsRequest.objects.filter(customer=merged).update(customer=survivor, updated_at=timezone.now())


def asked_recently(customer_id: int, *, now: datetime.datetime, besides: int) -> bool:
    """Whether the customer was sent another request within ``MARKETING_NPS_EVERY_DAYS``."""
    since = now - datetime.timedelta(days=settings.MARKETING_NPS_EVERY_DAYS)
    return NpsRequest.objects.filter(customer_id=customer_id, sent_at__gte=since).exclude(pk=besides).exists()


def nps_token(request_id: int) -> str:
    return signing.dumps(request_id, salt=SALT)


def nps_url(token: str) -> str:
    return settings.MARKETING_PUBLIC_URL + reverse("marketing-nps", args=[token])


def request_text(request: NpsRequest, customer: Customer, *, language: str, link: str, unsubscribe: str):
    """The subject and text of a request in the customer's language."""
    with translation.override(language):
        values = {"name": customer.first_name or _("customer"), "number": request.order.number}
        if request.order.fulfilment == Fulfilment.IN_STORE and request.store is not None:
            values["store"] = request.store.name
            question = _(
                "%(name)s, thank you for visiting %(store)s. How likely are you to recommend us to a friend, "
                "from 0 to 10?"
            )
        else:
            question = _(
                "%(name)s, thank you for your order %(number)s. How likely are you to recommend us to a friend, "
                "from 0 to 10?"
            )
        body = "\n".join(
            [
                question % values,
                _("Rate it here: %(url)s") % {"url": link},
                _("Unsubscribe: %(url)s") % {"url": unsubscribe},
            ]
        )
        return _("How did we do?"), body


def _skip(request: NpsRequest, reason: str) -> str:
    request.status, request.reason = NpsStatus.SKIPPED, reason
    request.save(update_fields=["status", "reason", "updated_at"])
    return "skipped"


def nps_send(request_id: int, *, now: datetime.datetime | None = None) -> str:
    """Send one due request, or say why not: sent, held (quiet hours), skipped or gone.

    The customer is locked first, then the request (the lock order), so two sweeps cannot both
    send it, nor send two requests to one customer within ``MARKETING_NPS_EVERY_DAYS``.
    """
    now = now or timezone.now()
    customer_id = (
        NpsRequest.objects.filter(pk=request_id, status=NpsStatus.WAITING).values_list("customer_id", flat=True).first()
    )
    if customer_id is None:
        return "gone"
    with transaction.atomic():
        try:
            customer = locked_customer(Customer(pk=customer_id))
        except (CustomerMerged, CustomerAnonymised):
            customer = None
        request = (
            NpsRequest.objects.select_for_update(of=("self",))
            .select_related("order", "store")
            .filter(pk=request_id, status=NpsStatus.WAITING, customer_id=customer_id)
            .first()
        )
        if request is None:
            return "gone"  # another sweep sent it meanwhile, or a merge moved it
        if customer is None:
            return _skip(request, NpsSkipReason.INACTIVE)
        if now - request.due_at > LATE_AFTER:
            return _skip(request, NpsSkipReason.LATE)
        if asked_recently(customer.pk, now=now, besides=request.pk):
            return _skip(request, NpsSkipReason.RECENTLY_ASKED)
        facts = facts_load([customer.pk], now=now)
        decision = decide(customer, channels=list(MessageChannel.values), facts=facts, now=now)
        if decision.status == RecipientStatus.HELD:
            request.due_at = decision.due_at
            request.save(update_fields=["due_at", "updated_at"])
            return "held"  # stays waiting: the sweep after the customer's morning sends it
        if decision.status == RecipientStatus.SKIPPED:
            return _skip(request, decision.reason)
        link = nps_url(nps_token(request.pk))
        unsubscribe = unsubscribe_url(
            customer_id=customer.pk, channel=decision.route.channel, source=f"nps:{request.pk}"
        )
        subject, body = request_text(
            request, customer, language=message_language(customer), link=link, unsubscribe=unsubscribe
        )
        request.message = message_send(
            customer=customer,
            kind="nps_request",
            purpose=MessagePurpose.MARKETING,
            subject="{{ subject }}",
            text="{{ body }}",  # rendered here already: a store's name is data, never a template
            context={"subject": subject, "body": body},
            dedupe_key=f"nps:{request.pk}",
            cause_type="order",
            cause_id=request.order.number,
        )
        request.status, request.sent_at, request.sent_via = NpsStatus.SENT, now, request.message.channel
        request.save(update_fields=["status", "message", "sent_at", "sent_via", "updated_at"])
    return "sent"


def nps_requests_send(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """Send every request that has fallen due; what happened to how many."""
    now = now or timezone.now()
    due = NpsRequest.objects.filter(status=NpsStatus.WAITING, due_at__lte=now).order_by("due_at", "pk")
    outcomes: dict[str, int] = {}
    for request_id in due.values_list("pk", flat=True).iterator(chunk_size=1000):
        outcome = nps_send(request_id, now=now)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


# --- Answers -----------------------------------------------------------------------------------


def nps_request_of(token: str) -> NpsRequest:
    """The sent request a token names; ``NpsLinkInvalid`` when it was not signed here or names none."""
    try:
        request_id = signing.loads(token, salt=SALT)
    except (signing.BadSignature, ValueError, TypeError):
        raise NpsLinkInvalid(details={"field": "token"})
    if isinstance(request_id, bool) or not isinstance(request_id, int):
        raise NpsLinkInvalid(details={"field": "token"})
    request = NpsRequest.objects.select_related("order", "store").filter(pk=request_id).first()
    if request is None or request.status not in (NpsStatus.SENT, NpsStatus.ANSWERED):
        raise NpsLinkInvalid(details={"field": "token"})
    return request


def nps_check_open(request: NpsRequest, *, now: datetime.datetime) -> None:
    """Refuse an answer to a request already answered or sent more than ``MARKETING_NPS_ANSWER_DAYS`` ago."""
    if request.status == NpsStatus.ANSWERED:
        raise NpsAlreadyAnswered(details={"answered_at": request.answered_at.isoformat()})
    open_until = request.sent_at + datetime.timedelta(days=settings.MARKETING_NPS_ANSWER_DAYS)
    if now >= open_until:
        raise NpsLinkExpired(details={"expired_at": open_until.isoformat()})


def nps_answer(
    *,
    token: str,
    score: int,
    comment: str = "",
    channel: str = "",
    actor: Actor = SYSTEM,
    now: datetime.datetime | None = None,
) -> NpsRequest:
    """Record the customer's 0–10 answer to a request as their feedback, once.

    ``channel`` is where the answer came from (the app, a messenger bot); by default the channel
    the request was sent by. A score at or below ``CUSTOMERS_FEEDBACK_CASE_THRESHOLD`` opens a
    case for the store's manager (``feedback_record``).
    """
    now = now or timezone.now()
    request = nps_request_of(token)
    if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 10:
        raise InvalidScore(details={"field": "score", "score": repr(score)})
    if channel and channel not in Channel.values:
        raise InvalidInput.for_field("channel", _("%(value)s is not a channel.") % {"value": channel})
    comment = comment.strip()
    if len(comment) > COMMENT_MAX:
        raise InvalidInput.for_field(
            "comment", _("A comment has at most %(count)s characters.") % {"count": COMMENT_MAX}
        )
    nps_check_open(request, now=now)
    with transaction.atomic():
        customer = locked_customer(Customer(pk=request.customer_id))
        request = NpsRequest.objects.select_for_update(of=("self",)).select_related("order", "store").get(pk=request.pk)
        nps_check_open(request, now=now)  # again under the lock: another answer may have won meanwhile
        request.feedback = feedback_record(
            customer=customer,
            score=score,
            channel=channel or request.sent_via,
            comment=comment,
            store=request.store,
            order_ref=request.order.number,
            actor=actor,
        )
        request.status, request.answered_at = NpsStatus.ANSWERED, now
        request.save(update_fields=["status", "feedback", "answered_at", "updated_at"])
    return request
