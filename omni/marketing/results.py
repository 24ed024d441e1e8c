"""What a campaign would reach before it is sent, and what it achieved after.

The preview goes through the same rules as sending (``omni.marketing.audience``), a batch at
a time. Conversion is measured, not assumed: a member converted when they placed a purchase
within the campaign's window after their message was sent, or after they were held out
(``omni.marketing.purchases``, the one definition, which the admin and the API both read through
``campaign_results``); the control group's rate is what the members would have done anyway, and
the lift is the difference in percentage points.
"""

import datetime
from dataclasses import dataclass, field

from django.db.models import Count
from django.utils import timezone

from customers.models import MessageStatus
from loyalty.models import Account
from loyalty.services import Cause, points_bonus
from omni.marketing.audience import control_share, decide, facts_load, in_control_group
from omni.marketing.models import Campaign, Recipient, RecipientStatus
from omni.marketing.purchases import bought_within
from omni.marketing.rendering import LANGUAGES, render, sample_values, texts_compile
from omni.marketing.sending import member_batches
from omni.marketing.unsubscribe import campaign_note, reply_note


@dataclass
class Preview:
    members: int = 0
    by_channel: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    held: int = 0
    control: int = 0
    samples: dict[str, tuple[str, str]] = field(default_factory=dict)


def campaign_preview(campaign: Campaign, *, now: datetime.datetime | None = None) -> Preview:
    """Recipients per channel, those skipped per reason, held for the night and held out, if sent now."""
    now = now or timezone.now()
    preview = Preview()
    for ids in member_batches(campaign):
        facts = facts_load(ids, now=now)
        for customer_id in ids:
            preview.members += 1
            decision = decide(facts.customers[customer_id], channels=campaign.channels, facts=facts, now=now)
            if decision.status == RecipientStatus.SKIPPED:
                preview.skipped[decision.reason] = preview.skipped.get(decision.reason, 0) + 1
            elif in_control_group(campaign.pk, customer_id, campaign.control_percent or control_share()):
                preview.control += 1
            elif decision.status == RecipientStatus.HELD:
                preview.held += 1
                preview.by_channel[decision.route.channel] = preview.by_channel.get(decision.route.channel, 0) + 1
            else:
                preview.by_channel[decision.route.channel] = preview.by_channel.get(decision.route.channel, 0) + 1
    texts = texts_compile(campaign)
    for language in LANGUAGES:
        name = "Анна" if language == "ru" else "Anna"
        preview.samples[language] = render(
            texts, language=language, values=sample_values(campaign, name=name, language=language)
        )
    return preview


def converted_recipients(campaign: Campaign):
    """The campaign's members (sent or held out) who bought within its window (``purchases.bought_within``)."""
    return Recipient.objects.filter(
        campaign=campaign, status__in=[RecipientStatus.SENT, RecipientStatus.CONTROL], decided_at__isnull=False
    ).filter(bought_within(campaign.conversion_days))


@dataclass
class Results:
    members: int
    processed: int
    by_status: dict[str, int]
    skipped: dict[str, int]
    messages: dict[str, int]
    unsubscribed: int
    sent_converted: int
    control: int
    control_converted: int

    @property
    def sent(self) -> int:
        return self.by_status.get(RecipientStatus.SENT, 0)

    @property
    def delivered(self) -> int:
        return self.messages.get(MessageStatus.SENT, 0)

    @property
    def failed(self) -> int:
        return self.messages.get(MessageStatus.FAILED, 0)

    @property
    def conversion(self) -> float | None:
        return self.sent_converted / self.sent * 100 if self.sent else None

    @property
    def control_conversion(self) -> float | None:
        return self.control_converted / self.control * 100 if self.control else None

    @property
    def lift(self) -> float | None:
        """Percentage points the message added to the share of members who bought."""
        if self.conversion is None or self.control_conversion is None:
            return None
        return self.conversion - self.control_conversion


def campaign_results(campaign: Campaign) -> Results:
    """Sent, delivered, failed, unsubscribed and conversion against the control group (a fixed number of queries)."""
    from customers.models import ConsentEvent

    recipients = Recipient.objects.filter(campaign=campaign)
    by_status = dict(recipients.values("status").annotate(n=Count("pk")).values_list("status", "n"))
    skipped_rows = recipients.filter(status=RecipientStatus.SKIPPED).values("reason").annotate(n=Count("pk"))
    skipped = dict(skipped_rows.values_list("reason", "n"))
    messages = dict(
        recipients.filter(message__isnull=False)
        .values("message__status")
        .annotate(n=Count("pk"))
        .values_list("message__status", "n")
    )
    converted = dict(converted_recipients(campaign).values("status").annotate(n=Count("pk")).values_list("status", "n"))
    note = campaign_note(campaign.pk)  # through the campaign's link, or a stop word replied to it
    unsubscribed = (
        ConsentEvent.objects.filter(note__in=[note, reply_note(note)], granted=False)
        .values("customer_id")
        .distinct()
        .count()
    )
    return Results(
        members=campaign.total or 0,
        processed=campaign.processed,
        by_status=by_status,
        skipped=skipped,
        messages=messages,
        unsubscribed=unsubscribed,
        sent_converted=converted.get(RecipientStatus.SENT, 0),
        control=by_status.get(RecipientStatus.CONTROL, 0),
        control_converted=converted.get(RecipientStatus.CONTROL, 0),
    )


def campaign_bonuses_grant(campaign: Campaign, *, now: datetime.datetime | None = None) -> int:
    """Give the campaign's bonus points to the recipients who bought within the window, once each."""
    if not campaign.bonus_points:
        return 0
    now = now or timezone.now()
    due = converted_recipients(campaign).filter(status=RecipientStatus.SENT, rewarded_at__isnull=True)
    accounts = dict(Account.objects.filter(customer_id__in=due.values("customer_id")).values_list("customer_id", "pk"))
    granted = 0
    for recipient in due.only("pk", "customer_id").iterator(chunk_size=1000):
        account_id = accounts.get(recipient.customer_id)
        if account_id is None:
            continue  # not a loyalty member: nothing to credit
        points_bonus(
            account=Account(pk=account_id),
            points=campaign.bonus_points,
            cause=Cause("campaign", str(campaign.pk)),
            now=now,
        )
        Recipient.objects.filter(pk=recipient.pk).update(rewarded_at=now)
        granted += 1
    return granted
