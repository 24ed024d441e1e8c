"""Marketing test data: members with their channels and consents, a segment, a campaign, an NPS
request sent now."""

import itertools
from unittest import mock

from django.utils import timezone

from customers import services as customers
from customers.models import ConsentPurpose, Segment, SegmentCondition
from customers.services import ConsentChange, IdentityInput
from omni.marketing.models import Campaign, NpsRequest
from omni.marketing.nps import nps_requests_send
from omni.marketing.services import CampaignData, campaign_create

_numbers = itertools.count(1)
CITY = "Marketville"


def member(*, phone=True, email=True, push=False, consents=("sms", "email"), personal_data=True, city=CITY, **profile):
    """A customer in ``city`` reachable by the channels asked, who consented to marketing by ``consents``."""
    n = next(_numbers)
    identities = []
    if phone:
        identities.append(IdentityInput("phone", f"+7916{n:07d}"))
    if email:
        identities.append(IdentityInput("email", f"member{n}@example.com"))
    if push:
        identities.append(IdentityInput("external_id", f"device-{n}", "app"))
    if not identities:
        identities.append(IdentityInput("card", f"CARD{n:09d}"))
    changes = [ConsentChange(ConsentPurpose.PERSONAL_DATA, True)] if personal_data else []
    changes += [ConsentChange(ConsentPurpose.MARKETING, True, channel) for channel in consents]
    profile.setdefault("first_name", f"Anna{n}")
    return customers.customer_identify(
        identities=identities, profile={"city": city, **profile}, consents=changes
    ).customer


def segment(city=CITY) -> Segment:
    seg = Segment.objects.create(name=f"Lives in {city} {next(_numbers)}")
    SegmentCondition.objects.create(segment=seg, condition="customers.city", value=city)
    return seg


def campaign(seg=None, **values) -> Campaign:
    data = {
        "name": "Spring sale",
        "segment": seg or segment(),
        "text_ru": "{{ name }}, у вас {{ balance }} баллов. Код: {{ promo_code }}",
        "text_en": "{{ name }}, you have {{ balance }} points. Code: {{ promo_code }}",
        "subject_ru": "Весенняя распродажа",
        "subject_en": "Spring sale",
        "channels": ("email", "sms", "push", "messenger"),
        **values,
    }
    return campaign_create(data=CampaignData(**data))


def nps_send_now(request: NpsRequest) -> NpsRequest:
    """Send an NPS request now, its due time brought forward to now. Sent at its own due time (the
    delay after the sale), a request for a sale made after 22:00 would count tomorrow, outside
    figures whose period ends today."""
    now = timezone.now()
    NpsRequest.objects.filter(pk=request.pk).update(due_at=now)
    with mock.patch("customers.messaging.services._schedule"):
        nps_requests_send(now=now)
    request.refresh_from_db()
    return request
