"""The programme and its tiers: the active programme, qualifying spend, and the tier it reaches.

A tier is reached by the paid spend of the last ``tier_period_days``. Earning and reversing
recalculate the tier themselves; the nightly batch (``loyalty.nightly``) lets a tier go down
when old spend leaves the period.
"""

import datetime
from collections.abc import Sequence
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.models import Customer, Direction, InteractionKind
from customers.services import interaction_record
from inventory.models import Location
from loyalty.models import Account, Programme, SpendRecord, Tier, TierChange, TierChangeReason
from loyalty.services.checks import MAX_AMOUNT, Cause, account_required, active_account_for_update
from omni.core.actors import SYSTEM, Actor
from omni.core.channels import Channel
from omni.core.errors import InvalidInput
from omni.core.money import money


def programme_current() -> Programme:
    """The active programme; on a fresh installation, one is created from the settings with a
    single base tier (edit it in the admin)."""
    programme = Programme.objects.filter(is_active=True).first()
    if programme is not None:
        return programme
    try:
        with transaction.atomic():
            programme = Programme.objects.create(name=_("Loyalty programme"), is_active=True)
            Tier.objects.create(
                programme=programme, name=_("Base"), min_spend=0, earn_rate=settings.LOYALTY_BASE_EARN_RATE
            )
    except IntegrityError:
        pass  # another request created it first
    return Programme.objects.get(is_active=True)


def programme_activate(*, programme: Programme) -> Programme:
    """Make this programme the active one; new operations follow its rules from now on."""
    with transaction.atomic():
        Programme.objects.filter(is_active=True).exclude(pk=programme.pk).update(is_active=False)
        Programme.objects.filter(pk=programme.pk).update(is_active=True)
    programme.refresh_from_db()
    return programme


def tiers_by_spend(programme: Programme) -> list[Tier]:
    """The programme's tiers from the lowest qualifying spend up."""
    return sorted(programme.tiers.all(), key=lambda tier: tier.min_spend)


def tier_for_spend(tiers: Sequence[Tier], spend: Decimal) -> Tier | None:
    """The highest tier whose qualifying spend is reached (tiers sorted by spend)."""
    reached = None
    for tier in tiers:
        if tier.min_spend <= spend:
            reached = tier
    return reached


def _period_start(programme: Programme, now: datetime.datetime) -> datetime.datetime:
    return now - datetime.timedelta(days=programme.tier_period_days)


def qualifying_spend(account: Account, *, programme: Programme, now: datetime.datetime) -> Decimal:
    total = SpendRecord.objects.filter(
        account=account, occurred_at__gt=_period_start(programme, now), occurred_at__lte=now
    ).aggregate(total=Sum("amount"))["total"]
    return money(total or 0)


def tier_change_event(old: Tier | None, new: Tier | None) -> dict:
    """The timeline event of a tier change, as ``interaction_record`` keywords."""
    return {
        "event": "loyalty.tier_changed",
        "params": {"old": old.name if old else "—", "new": new.name if new else "—"},
    }


def tier_recalculate_locked(
    account: Account, *, programme: Programme, now: datetime.datetime, reason: str, actor: Actor = SYSTEM
) -> TierChange | None:
    """Recalculate the tier of a locked account; record and show a change."""
    spend = qualifying_spend(account, programme=programme, now=now)
    new = tier_for_spend(tiers_by_spend(programme), spend)
    if (new.pk if new else None) == account.tier_id:
        return None
    old = account.tier
    account.tier, account.tier_changed_at = new, now
    account.save(update_fields=["tier", "tier_changed_at", "updated_at"])
    change = TierChange.objects.create(
        account=account, old_tier=old, new_tier=new, spend=spend, reason=reason, created_at=now
    )
    customer = account.customer
    if customer.merged_into_id is None and customer.anonymised_at is None:
        interaction_record(
            customer=customer,
            channel=Channel.SYSTEM,
            kind=InteractionKind.POINTS_CHANGE,
            direction=Direction.INTERNAL,
            **tier_change_event(old, new),
            occurred_at=now,
            subject_type="loyalty_account",
            subject_id=str(account.pk),
            actor=actor,
        )
    return change


def tier_recalculate(
    *, customer: Customer, now: datetime.datetime | None = None, reason: str = TierChangeReason.MANUAL, actor=SYSTEM
) -> TierChange | None:
    """Recalculate a customer's tier from their qualifying spend (orders calls it after a
    purchase or return it recorded with ``spend_record``; earn and reverse do it themselves)."""
    now = now or timezone.now()
    programme = programme_current()
    account = account_required(customer)
    with transaction.atomic():
        account = active_account_for_update(account.pk)
        return tier_recalculate_locked(account, programme=programme, now=now, reason=reason, actor=actor)


def spend_record(
    *,
    customer: Customer,
    amount: Decimal,
    occurred_at: datetime.datetime,
    cause: Cause,
    channel: str = "",
    store: Location | None = None,
) -> SpendRecord:
    """Record qualifying paid spend (negative for a return, dated at its purchase)."""
    if isinstance(amount, bool) or not isinstance(amount, (Decimal, int, str)):
        raise InvalidInput.for_field("amount", _("An amount is a number with at most two decimal places."))
    value = Decimal(amount)
    if not value.is_finite() or value != money(value) or abs(value) > MAX_AMOUNT:
        raise InvalidInput.for_field("amount", _("An amount is a number with at most two decimal places."))
    account = account_required(customer)
    return SpendRecord.objects.create(
        account=account,
        amount=value,
        occurred_at=occurred_at,
        cause_type=cause.type,
        cause_id=cause.id,
        channel=channel,
        store=store,
    )
