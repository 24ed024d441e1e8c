"""Sending a campaign: in batches, in flat memory, safe when several workers run the same one.

``campaign_run`` (the Celery task ``run_campaign``) walks the segment's members in id order, a
batch at a time (``MARKETING_BATCH_SIZE``). For each batch it

1. writes one ``Recipient`` per member with ``ON CONFLICT DO NOTHING`` on the (campaign,
   customer) key, drawing the control group (``audience.in_control_group``, the same draw in
   every worker);
2. claims the batch's queued members with one conditional UPDATE (queued → claimed, with this
   run's claim token) that commits at once: a member claimed by another worker is not claimed
   again, and a claim left by a dead worker is taken over after ``CLAIM_TIMEOUT``;
3. in one transaction, locks the claimed members' profiles (id order), decides for each
   (``audience.decide``), issues the personal promo codes, renders and writes the messages to
   the outbox (``customers.messaging.services.messages_write``, whose unique key on customer and
   campaign is the last guard), and records each member's outcome.

Once every member is listed, later runs (the periodic ``run_due_campaigns``) only pick up the
members held for the night whose morning has come, and claims left by a dead worker.
"""

import datetime
import uuid
from collections.abc import Iterator

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.utils import timezone

from customers.messaging.services import Outgoing, messages_write
from customers.models import Message, MessagePurpose
from customers.segments import segment_members
from loyalty.services.setup import PromoData, promo_codes_issue
from omni.marketing.audience import decide, facts_load, in_control_group
from omni.marketing.models import Campaign, CampaignStatus, Recipient, RecipientStatus
from omni.marketing.rendering import message_language, placeholders, render, texts_compile, unsubscribe_url
from omni.marketing.unsubscribe import campaign_note

CLAIM_TIMEOUT = datetime.timedelta(minutes=30)
MESSAGE_KIND = "campaign"


def dedupe_key(campaign: Campaign) -> str:
    return f"campaign:{campaign.pk}"


def member_batches(campaign: Campaign) -> Iterator[list[int]]:
    """The segment's member ids in id order, a batch at a time (keyset, so memory stays flat)."""
    members = segment_members(campaign.segment).values_list("pk", flat=True)
    last = 0
    while True:
        ids = list(members.filter(pk__gt=last)[: settings.MARKETING_BATCH_SIZE])
        if not ids:
            return
        yield ids
        last = ids[-1]


def recipients_add(campaign: Campaign, customer_ids: list[int]) -> None:
    """One row per member, once: a row another worker wrote first stays as it is."""
    Recipient.objects.bulk_create(
        [
            Recipient(
                campaign=campaign,
                customer_id=customer_id,
                in_control=in_control_group(campaign.pk, customer_id, campaign.control_percent),
            )
            for customer_id in customer_ids
        ],
        ignore_conflicts=True,
    )


def _claimable(now: datetime.datetime) -> Q:
    return (
        Q(status=RecipientStatus.QUEUED)
        | Q(status=RecipientStatus.HELD, due_at__lte=now)
        | Q(status=RecipientStatus.CLAIMED, claimed_at__lt=now - CLAIM_TIMEOUT)
    )


def recipients_claim(campaign: Campaign, customer_ids: list[int], now: datetime.datetime) -> uuid.UUID:
    """Claim the members no other run holds; committed at once so the others see it."""
    token = uuid.uuid4()
    with transaction.atomic(durable=True):
        Recipient.objects.filter(_claimable(now), campaign=campaign, customer_id__in=customer_ids).update(
            status=RecipientStatus.CLAIMED, claim=token, claimed_at=now
        )
    return token


def _promo_codes(campaign: Campaign, count: int, now: datetime.datetime) -> list[str]:
    if not campaign.promo_kind or not count:
        return [""] * count
    data = PromoData(
        code=f"C{campaign.pk}",
        kind=campaign.promo_kind,
        value=campaign.promo_value,
        description=campaign.name[:200],
        valid_from=now,
        valid_until=now + datetime.timedelta(days=max(campaign.conversion_days, 1)),
    )
    return promo_codes_issue(prefix=f"C{campaign.pk}", data=data, count=count)


def recipients_process(campaign: Campaign, token: uuid.UUID, now: datetime.datetime) -> int:
    """Decide, write the messages and record the outcome of the members this run claimed; how many."""
    texts = texts_compile(campaign)
    with transaction.atomic():
        claimed = list(Recipient.objects.filter(campaign=campaign, claim=token, status=RecipientStatus.CLAIMED))
        if not claimed:
            return 0
        facts = facts_load([r.customer_id for r in claimed], now=now, lock=True, with_balances=True)
        sending = []
        for recipient in claimed:
            decision = decide(facts.customers[recipient.customer_id], channels=campaign.channels, facts=facts, now=now)
            recipient.claim = None
            recipient.status, recipient.reason, recipient.due_at = decision.status, decision.reason, decision.due_at
            recipient.channel = decision.route.channel if decision.route else ""
            if decision.status == RecipientStatus.SENT:
                recipient.decided_at = now
                if recipient.in_control:
                    recipient.status = RecipientStatus.CONTROL
                else:
                    sending.append((recipient, decision.route))
        outgoing = []
        for (recipient, route), code in zip(sending, _promo_codes(campaign, len(sending), now), strict=True):
            customer = facts.customers[recipient.customer_id]
            language = message_language(customer)
            link = unsubscribe_url(customer_id=customer.pk, channel=route.channel, source=campaign_note(campaign.pk))
            values = placeholders(
                customer, balance=facts.balances.get(customer.pk), promo_code=code, link=link, language=language
            )
            subject, body = render(texts, language=language, values=values, channel=route.channel)
            recipient.promo_code = code
            outgoing.append(Outgoing(customer.pk, route, subject, body))
        messages_write(
            messages=outgoing,
            kind=MESSAGE_KIND,
            purpose=MessagePurpose.MARKETING,
            dedupe_key=dedupe_key(campaign),
            cause_type="campaign",
            cause_id=str(campaign.pk),
        )
        outcomes_record(campaign, claimed, codes={r.pk: r.promo_code for r, _route in sending if r.promo_code})
        done = sum(1 for r in claimed if r.status != RecipientStatus.HELD)
        Campaign.objects.filter(pk=campaign.pk).update(processed=F("processed") + done)
    return done


def outcomes_record(campaign: Campaign, claimed: list[Recipient], *, codes: dict[int, str]) -> None:
    """Write the members' outcomes in a few set-based statements (``bulk_update`` builds a CASE
    per field and row, which took most of a batch's time): one UPDATE per distinct outcome, the
    message ids joined from the outbox, the promo codes from a VALUES list."""
    groups: dict[tuple, list[int]] = {}
    for r in claimed:
        groups.setdefault((r.status, r.reason, r.channel, r.due_at, r.decided_at), []).append(r.pk)
    for (status, reason, channel, due_at, decided_at), ids in groups.items():
        Recipient.objects.filter(pk__in=ids).update(
            claim=None, status=status, reason=reason, channel=channel, due_at=due_at, decided_at=decided_at
        )
    sent = [r.pk for r in claimed if r.status == RecipientStatus.SENT]
    if sent:
        message = Message.objects.filter(customer_id=OuterRef("customer_id"), dedupe_key=dedupe_key(campaign))
        Recipient.objects.filter(pk__in=sent).update(message_id=Subquery(message.values("pk")[:1]))
    if codes:
        rows = ", ".join(["(%s, %s)"] * len(codes))
        with connection.cursor() as cursor:
            cursor.execute(
                # VALUES columns are column1, column2 in PostgreSQL and SQLite alike (SQLite has no
                # column list after an alias).
                f"UPDATE {Recipient._meta.db_table} SET promo_code = v.code"
                f" FROM (SELECT column1 AS id, column2 AS code FROM (VALUES {rows}) AS pairs) AS v"
                f" WHERE {Recipient._meta.db_table}.id = v.id",
                [value for pair in codes.items() for value in pair],
            )


def campaign_start(campaign_id: int, now: datetime.datetime) -> Campaign | None:
    """The campaign if it is due to run: a scheduled one whose time has come becomes sending."""
    Campaign.objects.filter(
        Q(send_at__isnull=True) | Q(send_at__lte=now), pk=campaign_id, status=CampaignStatus.SCHEDULED
    ).update(status=CampaignStatus.SENDING, started_at=now)
    campaign = Campaign.objects.select_related("segment").get(pk=campaign_id)
    if campaign.status != CampaignStatus.SENDING:
        return None
    if campaign.total is None:
        total = segment_members(campaign.segment).count()
        Campaign.objects.filter(pk=campaign.pk, total__isnull=True).update(total=total)
    return campaign


def _pending_batches(campaign: Campaign, now: datetime.datetime) -> Iterator[list[int]]:
    pending = Recipient.objects.filter(_claimable(now), campaign=campaign).values_list("customer_id", flat=True)
    last = 0
    while True:
        ids = list(pending.filter(customer_id__gt=last).order_by("customer_id")[: settings.MARKETING_BATCH_SIZE])
        if not ids:
            return
        yield ids
        last = ids[-1]


def campaign_run(campaign_id: int, *, now: datetime.datetime | None = None) -> int:
    """Send what is due of a campaign; return how many members this run settled."""
    now = now or timezone.now()
    campaign = campaign_start(campaign_id, now)
    if campaign is None:
        return 0
    settled = 0
    if campaign.listed_at is None:
        for ids in member_batches(campaign):
            recipients_add(campaign, ids)
            settled += recipients_process(campaign, recipients_claim(campaign, ids, now), now)
            if not Campaign.objects.filter(pk=campaign.pk, status=CampaignStatus.SENDING).exists():
                return settled  # cancelled meanwhile
        Campaign.objects.filter(pk=campaign.pk, listed_at__isnull=True).update(listed_at=timezone.now())
    for ids in _pending_batches(campaign, now):
        settled += recipients_process(campaign, recipients_claim(campaign, ids, now), now)
    campaign_finish_if_done(campaign)
    return settled


def campaign_finish_if_done(campaign: Campaign) -> None:
    """Sent once every member is listed and none waits (held for the night, claimed by a run)."""
    waiting = Recipient.objects.filter(
        campaign=campaign, status__in=[RecipientStatus.QUEUED, RecipientStatus.CLAIMED, RecipientStatus.HELD]
    )
    if waiting.exists():
        return
    Campaign.objects.filter(pk=campaign.pk, status=CampaignStatus.SENDING, listed_at__isnull=False).update(
        status=CampaignStatus.SENT, finished_at=timezone.now()
    )
