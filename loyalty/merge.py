"""The loyalty step of merging two customer profiles (registered in ``LoyaltyConfig.ready``).

When only the merged profile has an account, the account moves to the survivor whole. When both
have one, the merged account's entries (with their allocations, which stay attached to them),
cards, orders, qualifying spend, tier history and one-time codes move into the survivor's
account, which then is closed and points at the survivor's. Promo code uses move to the survivor.
Nothing is deleted, so counting rows before and after finds every one of them.
"""

from django.utils import timezone

from customers.models import Customer
from loyalty import hooks
from loyalty.lock_objects import accounts_for_update
from loyalty.models import (
    Account,
    AccountStatus,
    Card,
    OneTimeCode,
    OrderPoints,
    PointsEntry,
    PromoUsage,
    SpendRecord,
    TierChange,
    TierChangeReason,
)
from loyalty.services import programme_current, tier_recalculate_locked


def move_loyalty(source: Customer, survivor: Customer) -> None:
    PromoUsage.objects.filter(customer=source).update(customer=survivor)
    moving = Account.objects.filter(customer=source).first()
    if moving is None:
        return
    keeping = Account.objects.filter(customer=survivor).first()
    if keeping is None:
        Account.objects.filter(pk=moving.pk).update(customer=survivor, updated_at=timezone.now())
        moving.customer = survivor
        hooks.points_changed(moving)  # the same points, under the survivor now
        return
    programme = programme_current()
    accounts_for_update([moving.pk, keeping.pk])
    now = timezone.now()
    for model in (PointsEntry, SpendRecord, OrderPoints, TierChange, OneTimeCode):
        model.objects.filter(account=moving).update(account=keeping)
    Card.objects.filter(account=moving).update(account=keeping, updated_at=now)
    Account.objects.filter(pk=moving.pk).update(
        status=AccountStatus.CLOSED, closed_at=now, merged_into=keeping, updated_at=now
    )
    keeping.refresh_from_db()
    if keeping.status == AccountStatus.ACTIVE:
        keeping.customer = survivor
        tier_recalculate_locked(keeping, programme=programme, now=now, reason=TierChangeReason.MERGE)
    for account in (moving, keeping):  # the merged one is left empty
        hooks.points_changed(account)
