"""Every change of a campaign: written while a draft, sent (now or at its time), cancelled, tested.

Sending itself is ``omni.marketing.sending``; what a campaign would reach and what it achieved,
``omni.marketing.results``.
"""

import datetime
from dataclasses import dataclass, fields
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.models import MessageChannel, Segment
from loyalty.models import PromoKind
from omni.core.actors import SYSTEM, Actor
from omni.core.audit import audit_changes, audit_event, audit_snapshot
from omni.core.errors import InvalidInput
from omni.core.models import AuditKind
from omni.core.queueing import enqueue, registered_task
from omni.marketing.audience import control_share
from omni.marketing.errors import CampaignNotCancellable, CampaignNotEditable, EmptySegment
from omni.marketing.models import Campaign, CampaignStatus
from omni.marketing.rendering import texts_compile

MAX_CONVERSION_DAYS = 90


@dataclass(frozen=True)
class CampaignData:
    name: str
    segment: Segment
    text_ru: str
    text_en: str
    channels: tuple[str, ...]
    subject_ru: str = ""
    subject_en: str = ""
    send_at: datetime.datetime | None = None
    conversion_days: int = 7
    promo_kind: str = ""
    promo_value: Decimal | None = None
    bonus_points: int = 0


def campaign_check(data: CampaignData) -> dict:
    """The campaign's values as stored; ``InvalidInput`` naming the field for the first that is not valid."""
    values = _check(data)
    texts_compile(Campaign(**values))
    return values


def _check(data: CampaignData) -> dict:
    values = {item.name: getattr(data, item.name) for item in fields(data)}
    values["name"] = data.name.strip()
    if not values["name"]:
        raise InvalidInput.for_field("name", _("A campaign needs a name."))
    for field in ("text_ru", "text_en"):
        values[field] = values[field].strip()
        if not values[field]:
            raise InvalidInput.for_field(field, _("A campaign needs its text in Russian and in English."))
    channels = list(dict.fromkeys(data.channels))
    unknown = sorted(set(channels) - set(MessageChannel.values))
    if not channels or unknown:
        message = _("Choose one or more of the channels: %(channels)s.")
        raise InvalidInput.for_field("channels", message % {"channels": ", ".join(MessageChannel.values)})
    values["channels"] = channels
    if not 1 <= data.conversion_days <= MAX_CONVERSION_DAYS:
        raise InvalidInput.for_field(
            "conversion_days", _("The window is 1 to %(days)s days.") % {"days": MAX_CONVERSION_DAYS}
        )
    if data.promo_kind:
        if data.promo_kind not in PromoKind.values:
            raise InvalidInput.for_field("promo_kind", _("Unknown discount %(kind)s.") % {"kind": data.promo_kind})
        value = data.promo_value
        if value is None or value <= 0 or (data.promo_kind == PromoKind.PERCENT and value > 100):
            raise InvalidInput.for_field("promo_value", _("The value is above zero; a percentage is at most 100."))
    else:
        values["promo_value"] = None
    if data.bonus_points < 0:
        raise InvalidInput.for_field("bonus_points", _("Bonus points are zero or more."))
    return values


def campaign_create(*, data: CampaignData, actor: Actor = SYSTEM) -> Campaign:
    """A draft campaign; its texts are checked as templates."""
    campaign = Campaign(**campaign_check(data))
    with transaction.atomic():
        campaign.save()
        audit_event(actor, campaign, AuditKind.CREATED)
    return campaign


def campaign_update(*, campaign: Campaign, data: CampaignData, actor: Actor = SYSTEM) -> Campaign:
    """Change a draft; a campaign once sent keeps what it was sent with."""
    values = campaign_check(data)
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if campaign.status != CampaignStatus.DRAFT:
            raise CampaignNotEditable(details={"status": campaign.status})
        before = audit_snapshot(campaign, values)
        for name, value in values.items():
            setattr(campaign, name, value)
        campaign.save()
        audit_changes(actor, campaign, before, values)
    return campaign


def campaign_launch(*, campaign: Campaign, actor: Actor = SYSTEM) -> Campaign:
    """Send a draft: at once, or at its ``send_at`` (the periodic ``run_due_campaigns`` starts it).

    The control group's share (``MARKETING_CONTROL_PERCENT``) is fixed now, for the whole campaign.
    """
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().select_related("segment").get(pk=campaign.pk)
        if campaign.status != CampaignStatus.DRAFT:
            raise CampaignNotEditable(details={"status": campaign.status})
        if not campaign.segment.conditions.exists():
            raise EmptySegment(details={"segment": campaign.segment_id})
        texts_compile(campaign)
        now = timezone.now()
        campaign.status = CampaignStatus.SCHEDULED
        campaign.control_percent = control_share()
        campaign.launched_at, campaign.launched_by = now, actor.user
        campaign.save(update_fields=["status", "control_percent", "launched_at", "launched_by", "updated_at"])
        audit_changes(actor, campaign, {"status": CampaignStatus.DRAFT}, {"status": campaign.status})
        if campaign.send_at is None or campaign.send_at <= now:
            campaign_pk = campaign.pk
            transaction.on_commit(lambda: enqueue(registered_task("omni.marketing.tasks.run_campaign"), campaign_pk))
    return campaign


def campaign_cancel(*, campaign: Campaign, actor: Actor = SYSTEM) -> Campaign:
    """Stop a scheduled or sending campaign: what was written stays, nobody else gets it."""
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if campaign.status not in (CampaignStatus.SCHEDULED, CampaignStatus.SENDING):
            raise CampaignNotCancellable(details={"status": campaign.status})
        old = campaign.status
        campaign.status, campaign.finished_at = CampaignStatus.CANCELLED, timezone.now()
        campaign.save(update_fields=["status", "finished_at", "updated_at"])
        audit_changes(actor, campaign, {"status": old}, {"status": campaign.status})
    return campaign


def campaign_test_send(*, campaign: Campaign, email: str, language: str, actor: Actor = SYSTEM) -> None:
    """Queue the campaign's message, with example values, to a staff member's e-mail."""
    email = (email or "").strip()
    if "@" not in email:
        raise InvalidInput.for_field("email", _("The test goes to an e-mail address; this staff member has none."))
    if language not in ("ru", "en"):
        raise InvalidInput.for_field("language", _("The language is ru or en."))
    texts_compile(campaign)
    audit_event(actor, campaign, AuditKind.MESSAGE_SENT, field="test", new=email)
    campaign_pk = campaign.pk
    transaction.on_commit(
        lambda: enqueue(registered_task("omni.marketing.tasks.send_test_message"), campaign_pk, email, language)
    )
