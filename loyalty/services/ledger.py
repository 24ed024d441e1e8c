"""The points ledger: lots (positive entries with what is left of them) and the entries that
consume them, with an allocation per lot; manual adjustments and bonuses.

``PointsEntry`` and ``Allocation`` are written only through this module (and by the set-based
nightly batches of ``loyalty.nightly``). An operation on an account's points locks the account
row first (``loyalty.lock_objects``), then reads its lots, decides, and writes the entry, its
allocations and the lots' new ``remaining`` in the same transaction, so two redemptions can never
spend the same points.
"""

import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.models import Direction, InteractionKind
from customers.services import interaction_record
from inventory.models import Location
from loyalty import hooks, selectors
from loyalty.errors import NotEnoughPoints, ReasonRequired
from loyalty.models import Account, Allocation, BonusType, EntryKind, PointsEntry
from loyalty.services.checks import Cause, active_account_for_update, check_points
from loyalty.services.programme import programme_current
from omni.core.actors import SYSTEM, Actor
from omni.core.channels import Channel
from omni.core.db import rows_write_together
from omni.core.errors import InvalidInput
from omni.core.money import money


def lot_add(
    *,
    account: Account,
    kind: str,
    points: int,
    spendable_from: datetime.datetime,
    expires_at: datetime.datetime,
    cause: Cause,
    actor: Actor,
    now: datetime.datetime,
    key: str = "",
    **fields,
) -> PointsEntry:
    """Write a lot: a positive entry whose points are all ``remaining``."""
    return PointsEntry.objects.create(
        account=account,
        kind=kind,
        points=points,
        remaining=points,
        spendable_from=spendable_from,
        expires_at=expires_at,
        cause_type=cause.type,
        cause_id=cause.id,
        key=key,
        created_at=now,
        **actor.audit_fields,
        **fields,
    )


def fifo_plan(lots, points: int) -> list[tuple[PointsEntry, int]]:
    """Take ``points`` from the lots in their order (first-in first-out); may take less."""
    plan, left = [], points
    for lot in lots:
        if left <= 0:
            break
        take = min(lot.remaining, left)
        if take > 0:
            plan.append((lot, take))
            left -= take
    return plan


def lots_consume(**fields) -> PointsEntry:
    """Write a negative entry that consumes the planned lots, its allocations and the lots' rest
    (one statement on PostgreSQL): the rows ``consumption_rows`` builds from ``fields``."""
    entry, allocations = consumption_rows(**fields)
    plan = fields["plan"]
    rows_write_together([entry], allocations, updates=[([lot for lot, _points in plan], ["remaining"])])
    return entry


def consumption_rows(
    *,
    account: Account,
    kind: str,
    plan: list[tuple[PointsEntry, int]],
    cause: Cause,
    actor: Actor,
    now: datetime.datetime,
    key: str = "",
    **fields,
) -> tuple[PointsEntry, list[Allocation]]:
    """What ``lots_consume`` writes, unsaved: the entry and its allocations (the lots of the plan
    are given their new ``remaining``, to be written with them)."""
    total = sum(points for _lot, points in plan)
    entry = PointsEntry(
        account=account,
        kind=kind,
        points=-total,
        remaining=0,
        cause_type=cause.type,
        cause_id=cause.id,
        key=key,
        created_at=now,
        **actor.audit_fields,
        **fields,
    )
    for lot, points in plan:
        lot.remaining -= points
    return entry, [Allocation(consumer=entry, lot=lot, points=points) for lot, points in plan]


def redeemed_give_back(
    redemption: PointsEntry,
    points: int,
    *,
    already_given_back: int,
    account: Account,
    cause: Cause,
    channel: str,
    store: Location | None,
    actor: Actor,
    now: datetime.datetime,
) -> Decimal:
    """Give back ``points`` of a redemption, after the ``already_given_back`` ones, as new lots
    keeping the expiry of the lots they came from (the latest-expiring first); return their value."""
    allocations = (
        Allocation.objects.filter(consumer=redemption).select_related("lot").order_by("-lot__expires_at", "-lot_id")
    )
    skip, need, chunks = already_given_back, points, []
    for allocation in allocations:
        part = allocation.points
        if skip >= part:
            skip -= part
            continue
        part -= skip
        skip = 0
        take = min(part, need)
        if chunks and chunks[-1][0] == allocation.lot.expires_at:
            chunks[-1][1] += take
        else:
            chunks.append([allocation.lot.expires_at, take])
        need -= take
        if need == 0:
            break
    for expires_at, chunk in chunks:
        lot_add(
            account=account,
            kind=EntryKind.REVERSAL,
            points=chunk,
            spendable_from=now,
            expires_at=expires_at,
            cause=cause,
            reverses=redemption,
            point_value=redemption.point_value,
            amount=money(chunk * redemption.point_value),
            channel=channel,
            store=store,
            actor=actor,
            now=now,
        )
    return money(points * redemption.point_value)


def points_adjust(
    *, account: Account, points: int, reason: str, actor: Actor, now: datetime.datetime | None = None
) -> PointsEntry:
    """A manual adjustment by staff (it needs its own permission, checked by the caller), with a
    mandatory reason. Positive: a new lot, spendable at once. Negative: taken from the available
    points first-in first-out, never below zero."""
    check_points(points, allow_negative=True)
    reason = (reason or "").strip()
    if not reason:
        raise ReasonRequired(details={"field": "reason", "fields": {"reason": [str(ReasonRequired.message)]}})
    now = now or timezone.now()
    programme = programme_current()
    cause = Cause("staff", str(actor))
    with transaction.atomic():
        account = active_account_for_update(account.pk)
        if points > 0:
            entry = lot_add(
                account=account,
                kind=EntryKind.ADJUSTMENT,
                points=points,
                spendable_from=now,
                expires_at=now + datetime.timedelta(days=programme.expiry_days),
                cause=cause,
                note=reason[:255],
                actor=actor,
                now=now,
            )
        else:
            lots = selectors.lots_available(account.pk, now)
            available = sum(lot.remaining for lot in lots)
            if -points > available:
                raise NotEnoughPoints(details={"requested": -points, "available": available})
            entry = lots_consume(
                account=account,
                kind=EntryKind.ADJUSTMENT,
                plan=fifo_plan(lots, -points),
                cause=cause,
                note=reason[:255],
                actor=actor,
                now=now,
            )
        interaction_record(
            customer=account.customer,
            channel=Channel.SYSTEM,
            kind=InteractionKind.POINTS_CHANGE,
            direction=Direction.INTERNAL,
            event="points.adjusted",
            params={"points": points, "reason": reason},
            occurred_at=now,
            subject_type="loyalty_account",
            subject_id=str(account.pk),
            actor=actor,
        )
        hooks.points_changed(account)
    return entry


def points_bonus(
    *,
    account: Account,
    points: int,
    bonus_type: str = BonusType.CAMPAIGN,
    cause: Cause,
    actor: Actor = SYSTEM,
    now: datetime.datetime | None = None,
) -> tuple[PointsEntry, bool]:
    """Grant a bonus (a campaign) once per account and cause; spendable at once."""
    check_points(points)
    if bonus_type not in BonusType.values:
        raise InvalidInput.for_field("bonus_type", _("%(value)s is not a kind of bonus.") % {"value": bonus_type})
    now = now or timezone.now()
    programme = programme_current()
    key = f"{bonus_type}:{cause.type}:{cause.id}:{account.pk}"[:128]
    with transaction.atomic():
        account = active_account_for_update(account.pk)
        existing = PointsEntry.objects.filter(key=key).first()
        if existing is not None:
            return existing, False
        entry = lot_add(
            account=account,
            kind=EntryKind.BONUS,
            bonus_type=bonus_type,
            points=points,
            spendable_from=now,
            expires_at=now + datetime.timedelta(days=programme.expiry_days),
            cause=cause,
            key=key,
            actor=actor,
            now=now,
        )
        hooks.points_changed(account)
    return entry, True
