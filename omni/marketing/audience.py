"""Who gets a campaign's message, through which channel, and when: the rules, one place.

``decide`` is the rule for one member, without queries; ``facts_load`` reads what it needs for
a batch of members in a fixed number of queries, whatever the batch's size. Sending
(``omni.marketing.sending``) and the preview before sending (``omni.marketing.results``)
both go through them, so the preview counts what sending does.
"""

import datetime
import hashlib
import zoneinfo
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count
from django.utils import timezone

from customers.errors import ConsentRequired, NoReachableChannel
from customers.messaging.services import Route, customers_addresses, customers_consents, route_choose
from customers.models import Customer, Message, MessagePurpose
from loyalty.models import Account
from loyalty.selectors import Balance, balances
from omni.marketing.models import RecipientStatus, SkipReason

CAP_PERIOD = datetime.timedelta(days=7)


@dataclass(frozen=True)
class Decision:
    status: str  # RecipientStatus: sent, skipped or held
    reason: str = ""
    route: Route | None = None
    due_at: datetime.datetime | None = None


@dataclass
class Facts:
    """What the rules need about a batch of members, read at once."""

    customers: dict[int, Customer]
    addresses: dict[int, dict[str, str]]
    granted: dict[int, set[tuple[str, str]]]
    sent_this_week: dict[int, int]
    balances: dict[int, Balance] = field(default_factory=dict)


def control_share() -> int:
    """The share of members held out (``MARKETING_CONTROL_PERCENT``), kept within 0–50 %."""
    return max(0, min(settings.MARKETING_CONTROL_PERCENT, 50))


def in_control_group(campaign_id: int, customer_id: int, percent: int) -> bool:
    """Whether a member is held out: a stable draw from the campaign and the customer, so that
    every worker and every run puts the same members in the control group."""
    digest = hashlib.sha256(f"{campaign_id}:{customer_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % 100 < percent


def customer_zone(customer: Customer) -> datetime.tzinfo:
    if customer.time_zone:
        try:
            return zoneinfo.ZoneInfo(customer.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            pass
    return timezone.get_default_timezone()


def quiet_until(customer: Customer, now: datetime.datetime) -> datetime.datetime | None:
    """The morning the quiet hours end, in the customer's time zone, when ``now`` falls within them."""
    start, end = settings.MARKETING_QUIET_START_HOUR, settings.MARKETING_QUIET_END_HOUR
    if start == end:
        return None
    local = now.astimezone(customer_zone(customer))
    quiet = (local.hour >= start or local.hour < end) if start > end else start <= local.hour < end
    if not quiet:
        return None
    morning = local.replace(hour=end, minute=0, second=0, microsecond=0)
    if morning <= local:
        morning += datetime.timedelta(days=1)
    return morning


def decide(customer: Customer, *, channels: list[str], facts: Facts, now: datetime.datetime) -> Decision:
    """Send now, hold until morning, or skip with the reason.

    The channel: the preferred one when the customer consented to marketing there, else the next
    consented one in ``CUSTOMERS_MESSAGE_CHANNELS``, among ``channels`` (a campaign's)
    (``customers.messaging.services.route_choose``). Then the quiet hours, then the weekly cap.
    """
    if customer.merged_into_id or customer.anonymised_at:
        return Decision(RecipientStatus.SKIPPED, SkipReason.INACTIVE)
    try:
        route = route_choose(
            customer,
            purpose=MessagePurpose.MARKETING,
            addresses=facts.addresses.get(customer.pk, {}),
            granted=facts.granted.get(customer.pk, set()),
            channels=channels,
        )
    except NoReachableChannel:
        return Decision(RecipientStatus.SKIPPED, SkipReason.NO_ADDRESS)
    except ConsentRequired:
        return Decision(RecipientStatus.SKIPPED, SkipReason.NO_CONSENT)
    morning = quiet_until(customer, now)
    if morning is not None:
        return Decision(RecipientStatus.HELD, route=route, due_at=morning)
    if facts.sent_this_week.get(customer.pk, 0) >= settings.MARKETING_WEEKLY_CAP:
        return Decision(RecipientStatus.SKIPPED, SkipReason.CAPPED, route=route)
    return Decision(RecipientStatus.SENT, route=route)


def facts_load(
    customer_ids: list[int], *, now: datetime.datetime, lock: bool = False, with_balances: bool = False
) -> Facts:
    """The members' profiles, addresses, consents, marketing messages of the last 7 days and,
    when asked, loyalty balances. ``lock`` locks the profiles in id order (the customer lock
    of the lock order), so that two campaigns counting the same customer's week wait for each other."""
    customers = Customer.objects.filter(pk__in=customer_ids).order_by("pk")
    if lock:
        customers = customers.select_for_update()
    profiles = {customer.pk: customer for customer in customers}
    recent = (
        Message.objects.filter(
            customer_id__in=customer_ids, purpose=MessagePurpose.MARKETING, created_at__gte=now - CAP_PERIOD
        )
        .values("customer_id")
        .annotate(count=Count("pk"))
        .values_list("customer_id", "count")
    )
    facts = Facts(
        customers=profiles,
        addresses=customers_addresses(customer_ids),
        granted=customers_consents(customer_ids),
        sent_this_week=dict(recent),
    )
    if with_balances:
        accounts = dict(Account.objects.filter(customer_id__in=customer_ids).values_list("customer_id", "pk"))
        figures = balances(accounts.values(), now=now)
        facts.balances = {customer_id: figures[account_id] for customer_id, account_id in accounts.items()}
    return facts
