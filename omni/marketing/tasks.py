import logging

from celery import shared_task
from django.db.models import Q
from django.utils import timezone

from customers.messaging.backends import get_backend
from customers.models import Message, MessageChannel
from omni.marketing.carts import carts_recovered, carts_remind
from omni.marketing.models import Campaign, CampaignStatus, Recipient, RecipientStatus
from omni.marketing.rendering import render, sample_values, texts_compile
from omni.marketing.results import campaign_bonuses_grant
from omni.marketing.sending import CLAIM_TIMEOUT, campaign_run

logger = logging.getLogger(__name__)


@shared_task
def run_campaign(campaign_id: int) -> int:
    """Send what is due of one campaign (safe to run twice at once: members are claimed)."""
    return campaign_run(campaign_id)


@shared_task
def run_due_campaigns() -> int:
    """Every minute: start scheduled campaigns whose time has come, and send what waited for the morning."""
    now = timezone.now()
    waiting = Recipient.objects.filter(
        Q(status=RecipientStatus.HELD, due_at__lte=now)
        | Q(status=RecipientStatus.CLAIMED, claimed_at__lt=now - CLAIM_TIMEOUT)
    ).values("campaign_id")
    ids = list(
        Campaign.objects.filter(
            Q(status=CampaignStatus.SCHEDULED, send_at__lte=now)
            | Q(status=CampaignStatus.SENDING, pk__in=waiting)
            | Q(status=CampaignStatus.SENDING, listed_at__isnull=True, started_at__lt=now - CLAIM_TIMEOUT)
        ).values_list("pk", flat=True)
    )
    for campaign_id in ids:
        run_campaign.delay(campaign_id)
    return len(ids)


@shared_task
def grant_campaign_bonuses() -> int:
    """Nightly: bonus points to the recipients who bought within their campaign's window."""
    granted = 0
    for campaign in Campaign.objects.filter(
        bonus_points__gt=0, status__in=[CampaignStatus.SENDING, CampaignStatus.SENT, CampaignStatus.CANCELLED]
    ):
        granted += campaign_bonuses_grant(campaign)
    return granted


@shared_task
def send_test_message(campaign_id: int, email: str, language: str) -> str:
    """The campaign's text with example values to a staff member's e-mail, outside the outbox."""
    campaign = Campaign.objects.get(pk=campaign_id)
    subject, body = render(
        texts_compile(campaign), language=language, values=sample_values(campaign, name="", language=language)
    )
    message = Message(channel=MessageChannel.EMAIL, recipient=email, subject=f"[TEST] {subject}", body=body)
    return str(get_backend(MessageChannel.EMAIL).send(message))


@shared_task
def remind_abandoned_carts() -> dict[str, int]:
    """Every 5 minutes: one reminder for each cart left without an order; the revenue recovered."""
    outcomes = carts_remind()
    outcomes["recovered"] = carts_recovered()
    return outcomes


@shared_task
def send_nps_requests() -> dict[str, int]:
    """Every 5 minutes: the NPS requests that fell due, each sent once through a consented channel."""
    from omni.marketing.nps import nps_requests_send

    return nps_requests_send()
