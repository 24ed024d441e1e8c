"""The nightly batches: expire due points, warn before expiry, birthday bonuses, tiers.

Each works set-based, a batch of accounts (``LOYALTY_BATCH_SIZE``) per transaction with a few
queries per batch whatever its size, and is safe to run again: a second run the same day finds
nothing left to do. Batches walk the accounts by primary key and lock them in that order, like
every other writer of points, so they never deadlock with a redemption.
"""

import datetime
import logging
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, Min, OuterRef, Q, Sum
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from customers.messaging.services import message_send
from customers.models import Customer, Direction, InteractionKind, MessagePurpose
from customers.services import interaction_record
from loyalty import hooks
from loyalty.lock_objects import accounts_for_update
from loyalty.models import (
    Account,
    Allocation,
    BonusType,
    EntryKind,
    PointsEntry,
    SpendRecord,
    Tier,
    TierChange,
    TierChangeReason,
)
from loyalty.selectors import active_accounts
from loyalty.services import programme_current, tier_change_event, tier_for_spend, tiers_by_spend
from omni.core.channels import Channel
from omni.core.dates import local_day_start
from omni.core.errors import DomainError
from omni.core.money import money

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExpiryRun:
    accounts: int = 0
    lots: int = 0
    points: int = 0
    batches: int = 0


def _announce_points_changed(account_ids: list[int]) -> None:
    """Tell ``hooks.points_changed`` of each account of a batch (read only when someone listens)."""
    if account_ids and hooks.points_changed.has_callbacks():
        for account in Account.objects.filter(pk__in=account_ids).order_by("pk"):
            hooks.points_changed(account)


def _batch_size(batch_size: int | None) -> int:
    return max(int(batch_size or settings.LOYALTY_BATCH_SIZE), 1)


# --- Expiry -----------------------------------------------------------------------------


def points_expire_due(*, now: datetime.datetime | None = None, batch_size: int | None = None) -> ExpiryRun:
    """Expire every lot whose expiry has come: one expiry entry per account with an allocation per
    lot, the lots' rest set to zero. Three queries per batch of accounts on PostgreSQL (find the
    accounts, lock them, expire), six elsewhere."""
    now = now or timezone.now()
    size = _batch_size(batch_size)
    due = PointsEntry.objects.filter(remaining__gt=0, expires_at__lte=now)
    cause_id = timezone.localdate(now).isoformat()
    accounts = lots_count = points = batches = 0
    last = 0
    while True:
        with transaction.atomic():
            ids = list(
                due.filter(account_id__gt=last)
                .order_by("account_id")
                .values_list("account_id", flat=True)
                .distinct()[:size]
            )
            if not ids:
                break
            last = ids[-1]
            accounts_for_update(ids)
            # Read again under the locks: a redemption may have consumed some of them meanwhile.
            if connection.vendor == "postgresql":
                done = _expire_batch_postgres(ids, now=now, cause_id=cause_id)
            else:
                done = _expire_batch(due.filter(account_id__in=ids), now=now, cause_id=cause_id)
            _announce_points_changed(ids)
            accounts += done.accounts
            lots_count += done.lots
            points += done.points
            batches += 1
    return ExpiryRun(accounts=accounts, lots=lots_count, points=points, batches=batches)


def _expire_batch(due, *, now: datetime.datetime, cause_id: str) -> ExpiryRun:
    """Expire the due lots of a batch of locked accounts, in four queries."""
    lots = list(due.order_by("account_id", "id").values_list("pk", "account_id", "remaining"))
    by_account: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for pk, account_id, remaining in lots:
        by_account[account_id].append((pk, remaining))
    entries = PointsEntry.objects.bulk_create(
        [
            PointsEntry(
                account_id=account_id,
                kind=EntryKind.EXPIRY,
                points=-sum(remaining for _pk, remaining in account_lots),
                remaining=0,
                cause_type="expiry",
                cause_id=cause_id,
                created_at=now,
            )
            for account_id, account_lots in by_account.items()
        ]
    )
    Allocation.objects.bulk_create(
        [
            Allocation(consumer_id=entry.pk, lot_id=pk, points=remaining)
            for entry, account_lots in zip(entries, by_account.values(), strict=True)
            for pk, remaining in account_lots
        ],
        batch_size=10_000,
    )
    PointsEntry.objects.filter(pk__in=[pk for pk, _account_id, _remaining in lots]).update(remaining=0)
    return ExpiryRun(accounts=len(by_account), lots=len(lots), points=sum(row[2] for row in lots))


def _expire_batch_postgres(account_ids: list[int], *, now: datetime.datetime, cause_id: str) -> ExpiryRun:
    """The same as ``_expire_batch`` in one statement (PostgreSQL's data-modifying CTEs): the
    due lots, one expiry entry per account, an allocation per lot, the lots' rest set to zero.
    Five times faster than the ORM path, which builds a Python object per row."""
    entry, allocation = PointsEntry._meta, Allocation._meta
    sql = f"""
        WITH due AS (
            SELECT id, account_id, remaining FROM {entry.db_table}
            WHERE account_id = ANY(%(ids)s) AND remaining > 0 AND expires_at <= %(now)s
        ), totals AS (
            SELECT account_id, SUM(remaining) AS points FROM due GROUP BY account_id
        ), expiry AS (
            INSERT INTO {entry.db_table}
                (account_id, kind, bonus_type, points, remaining, cause_type, cause_id, key, channel, note, created_at,
                 recorded_at)
            SELECT account_id, %(kind)s, '', -points, 0, 'expiry', %(cause_id)s, '', '', '', %(now)s, %(recorded)s
            FROM totals
            RETURNING id, account_id
        ), allocated AS (
            INSERT INTO {allocation.db_table} (consumer_id, lot_id, points)
            SELECT expiry.id, due.id, due.remaining FROM due JOIN expiry USING (account_id)
        ), emptied AS (
            UPDATE {entry.db_table} SET remaining = 0 WHERE id IN (SELECT id FROM due) RETURNING id
        )
        SELECT (SELECT COUNT(*) FROM expiry), (SELECT COUNT(*) FROM emptied),
               (SELECT COALESCE(SUM(points), 0) FROM totals)
    """
    with connection.cursor() as cursor:
        params = {"ids": account_ids, "now": now, "kind": EntryKind.EXPIRY, "cause_id": cause_id}
        cursor.execute(sql, {**params, "recorded": timezone.now()})
        accounts, lots, points = cursor.fetchone()
    return ExpiryRun(accounts=accounts, lots=lots, points=int(points))


# --- Warnings before expiry -------------------------------------------------------------


def expiry_warning_text(points: int, date: datetime.date) -> str:
    return ngettext(
        "%(points)d of your bonus points expires on %(date)s. Spend it before then!",
        "%(points)d of your bonus points expire on %(date)s. Spend them before then!",
        points,
    ) % {"points": points, "date": formats.date_format(date, "DATE_FORMAT")}


def points_warn_expiring(
    *, now: datetime.datetime | None = None, days: int | None = None, batch_size: int | None = None
) -> int:
    """Tell each customer whose available points expire within ``days`` (default
    ``LOYALTY_EXPIRY_WARNING_DAYS``): one message for the lots not warned about yet, which are
    then marked, so nobody is told twice about the same points. Returns the messages sent.

    The lots are found and marked set-based; each message goes through the customers'
    ``message_send`` (one outbox row per customer, with a deduplication key as a second guard).
    """
    now = now or timezone.now()
    horizon = now + datetime.timedelta(days=settings.LOYALTY_EXPIRY_WARNING_DAYS if days is None else days)
    size = _batch_size(batch_size)
    lots = PointsEntry.objects.filter(
        remaining__gt=0,
        warned_at__isnull=True,
        spendable_from__lte=now,
        expires_at__gt=now,
        expires_at__lte=horizon,
        account__in=active_accounts(),
    )
    sent = 0
    last = 0
    while True:
        rows = list(
            lots.filter(account_id__gt=last)
            .values("account_id", "account__customer_id")
            .annotate(points=Sum("remaining"), first=Min("expires_at"))
            .order_by("account_id")[:size]
        )
        if not rows:
            break
        last = rows[-1]["account_id"]
        customers = Customer.objects.in_bulk([row["account__customer_id"] for row in rows])
        with transaction.atomic():
            sent += _warn(rows, customers, now)
            lots.filter(account_id__in=[row["account_id"] for row in rows]).update(warned_at=now)
    return sent


def _warn(rows: list[dict], customers: dict[int, Customer], now: datetime.datetime) -> int:
    sent = 0
    for row in rows:
        date = timezone.localdate(row["first"])
        try:
            message_send(
                customer=customers[row["account__customer_id"]],
                kind="loyalty_points_expiring",
                purpose=MessagePurpose.SERVICE,
                subject=_("Your bonus points expire soon"),
                text=expiry_warning_text(int(row["points"]), date),
                dedupe_key=f"loyalty-expiry:{row['account_id']}:{now:%Y-%m-%d}",
                cause_type="loyalty_account",
                cause_id=str(row["account_id"]),
            )
            sent += 1
        except DomainError as exc:  # nowhere to send it: the points are marked all the same
            logger.info("No expiry warning for account %s: %s", row["account_id"], exc.code)
    return sent


# --- Birthday bonuses -------------------------------------------------------------------


def _birthday_filter(today: datetime.date) -> Q:
    condition = Q(customer__birthday__month=today.month, customer__birthday__day=today.day)
    leap = today.year % 4 == 0 and (today.year % 100 != 0 or today.year % 400 == 0)
    if today.month == 2 and today.day == 28 and not leap:
        condition |= Q(customer__birthday__month=2, customer__birthday__day=29)
    return condition


def birthday_bonuses_grant(*, today: datetime.date | None = None, batch_size: int | None = None) -> int:
    """Give the programme's birthday bonus to the members whose birthday is today (29 February:
    on the 28th in other years), once per account and year. Returns how many were granted."""
    programme = programme_current()
    if not programme.birthday_bonus:
        return 0
    today = today or timezone.localdate()
    now = local_day_start(today)
    year = str(today.year)
    expires_at = now + datetime.timedelta(days=programme.expiry_days)
    size = _batch_size(batch_size)
    given = PointsEntry.objects.filter(account=OuterRef("pk"), bonus_type=BonusType.BIRTHDAY, cause_id=year)
    accounts = active_accounts().filter(_birthday_filter(today)).exclude(Exists(given))
    granted = 0
    last = 0
    while True:
        ids = list(accounts.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:size])
        if not ids:
            break
        last = ids[-1]
        with transaction.atomic():
            created = PointsEntry.objects.bulk_create(
                [
                    PointsEntry(
                        account_id=pk,
                        kind=EntryKind.BONUS,
                        bonus_type=BonusType.BIRTHDAY,
                        points=programme.birthday_bonus,
                        remaining=programme.birthday_bonus,
                        spendable_from=now,
                        expires_at=expires_at,
                        cause_type="birthday",
                        cause_id=year,
                        key=f"birthday:{pk}:{year}",
                        created_at=now,
                    )
                    for pk in ids
                ],
                ignore_conflicts=True,  # a concurrent run granted some of them first
            )
            _announce_points_changed(ids)
        granted += len(created)
    return granted


# --- Tiers ------------------------------------------------------------------------------


def tiers_recalculate_all(*, now: datetime.datetime | None = None, batch_size: int | None = None) -> int:
    """Recalculate every active account's tier (a tier goes down when old spend leaves the
    period); each change is kept and shown on the customer's timeline. Returns the changes."""
    now = now or timezone.now()
    programme = programme_current()
    tiers = tiers_by_spend(programme)
    by_id = {tier.pk: tier for tier in tiers}
    since = now - datetime.timedelta(days=programme.tier_period_days)
    size = _batch_size(batch_size)
    changes = 0
    last = 0
    while True:
        with transaction.atomic():
            ids = list(active_accounts().filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:size])
            if not ids:
                break
            last = ids[-1]
            accounts_for_update(ids)
            spend = dict(
                SpendRecord.objects.filter(account_id__in=ids, occurred_at__gt=since, occurred_at__lte=now)
                .values("account_id")
                .annotate(total=Sum("amount"))
                .values_list("account_id", "total")
            )
            changed = []
            for pk, customer_id, tier_id in Account.objects.filter(pk__in=ids).values_list(
                "pk", "customer_id", "tier_id"
            ):
                total = money(spend.get(pk) or 0)
                new = tier_for_spend(tiers, total)
                if (new.pk if new else None) != tier_id:
                    changed.append((pk, customer_id, tier_id, new, total))
            if not changed:
                continue
            Account.objects.bulk_update(
                [Account(pk=pk, tier=new, tier_changed_at=now, updated_at=now) for pk, _c, _t, new, _s in changed],
                ["tier", "tier_changed_at", "updated_at"],
            )
            old_tiers = {tier_id for _pk, _c, tier_id, _new, _s in changed if tier_id and tier_id not in by_id}
            old_by_id = {**by_id, **Tier.objects.in_bulk(old_tiers)}
            TierChange.objects.bulk_create(
                [
                    TierChange(
                        account_id=pk,
                        old_tier_id=tier_id,
                        new_tier=new,
                        spend=total,
                        reason=TierChangeReason.NIGHTLY,
                        created_at=now,
                    )
                    for pk, _customer_id, tier_id, new, total in changed
                ]
            )
            customers = Customer.objects.in_bulk([customer_id for _pk, customer_id, _t, _n, _s in changed])
            for pk, customer_id, tier_id, new, _total in changed:
                interaction_record(
                    customer=customers[customer_id],
                    channel=Channel.SYSTEM,
                    kind=InteractionKind.POINTS_CHANGE,
                    direction=Direction.INTERNAL,
                    **tier_change_event(old_by_id.get(tier_id), new),
                    occurred_at=now,
                    subject_type="loyalty_account",
                    subject_id=str(pk),
                )
            changes += len(changed)
    return changes
