"""Reads of accounts, balances and the ledger that several callers (API, admin, services) need.

Balances come from the lots: ``available`` is the unconsumed rest of the lots that are spendable
and not expired, ``pending`` the rest of the lots not spendable yet, and the next expiry the
available points whose lots expire first (on the same day). ``balance_from_ledger`` computes the
same figures from the entries and their allocations only, without the lots' ``remaining``
column; ``points_discrepancies`` lists every account where the two differ.
"""

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Count, Min, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from customers.models import Customer
from inventory.models import Category
from loyalty.models import (
    Account,
    AccountStatus,
    Allocation,
    Card,
    CardStatus,
    PointsEntry,
    Programme,
    PromoCode,
    PromoUsageStatus,
)
from omni.core.barcodes import ean13_from_typed
from omni.core.dates import local_day_start
from omni.core.db import instances_where


@dataclass(frozen=True)
class Balance:
    available: int = 0
    pending: int = 0
    next_expiry_points: int = 0
    next_expiry_at: datetime.datetime | None = None

    @property
    def next_expiry_date(self) -> datetime.date | None:
        return timezone.localdate(self.next_expiry_at) if self.next_expiry_at else None


def _end_of_local_day(moment: datetime.datetime) -> datetime.datetime:
    return local_day_start(timezone.localdate(moment) + datetime.timedelta(days=1))


def _available(now) -> Q:
    return Q(spendable_from__lte=now, expires_at__gt=now)


def balances(account_ids: Iterable[int], *, now: datetime.datetime | None = None) -> dict[int, Balance]:
    """The balances of several accounts from their lots, in two queries whatever their number."""
    now = now or timezone.now()
    ids = list(account_ids)
    if not ids:
        return {}
    rows = (
        PointsEntry.objects.filter(account_id__in=ids, remaining__gt=0)
        .values("account_id")
        .annotate(
            available=Coalesce(Sum("remaining", filter=_available(now)), 0),
            pending=Coalesce(Sum("remaining", filter=Q(spendable_from__gt=now)), 0),
            first_expiry=Min("expires_at", filter=_available(now)),
        )
    )
    figures = {row["account_id"]: row for row in rows}
    # The points expiring on the day of each account's first expiry.
    condition = Q(pk__in=[])
    for account_id, row in figures.items():
        if row["first_expiry"] is not None:
            condition |= Q(account_id=account_id, expires_at__lt=_end_of_local_day(row["first_expiry"]))
    expiring = dict(
        PointsEntry.objects.filter(condition, _available(now), remaining__gt=0)
        .values("account_id")
        .annotate(points=Sum("remaining"))
        .values_list("account_id", "points")
    )
    result = {}
    for account_id in ids:
        row = figures.get(account_id)
        if row is None:
            result[account_id] = Balance()
            continue
        result[account_id] = Balance(
            available=int(row["available"]),
            pending=int(row["pending"]),
            next_expiry_points=int(expiring.get(account_id, 0)),
            next_expiry_at=row["first_expiry"],
        )
    return result


def balance(account: Account, *, now: datetime.datetime | None = None) -> Balance:
    return balances([account.pk], now=now)[account.pk]


def lot_remaining_from_ledger(account_ids: Iterable[int] | None = None) -> dict[int, tuple[int, int, int]]:
    """{lot id: (account id, points - everything allocated from it, stored remaining)}."""
    lots = PointsEntry.objects.filter(points__gt=0)
    if account_ids is not None:
        lots = lots.filter(account_id__in=list(account_ids))
    consumed = dict(
        Allocation.objects.filter(lot__in=lots)
        .values("lot_id")
        .annotate(total=Sum("points"))
        .values_list("lot_id", "total")
    )
    return {
        pk: (account_id, points - int(consumed.get(pk, 0)), remaining)
        for pk, account_id, points, remaining in lots.values_list("pk", "account_id", "points", "remaining")
    }


def balance_from_ledger(account: Account, *, now: datetime.datetime | None = None) -> Balance:
    """The balance computed from the entries and allocations alone (not from ``remaining``)."""
    now = now or timezone.now()
    lots = PointsEntry.objects.filter(account=account, points__gt=0).values_list(
        "pk", "points", "spendable_from", "expires_at"
    )
    consumed = dict(
        Allocation.objects.filter(lot__account=account)
        .values("lot_id")
        .annotate(total=Sum("points"))
        .values_list("lot_id", "total")
    )
    available = pending = 0
    first_expiry = None
    open_lots = []
    for pk, points, spendable_from, expires_at in lots:
        rest = points - int(consumed.get(pk, 0))
        if rest <= 0:
            continue
        if spendable_from > now:
            pending += rest
        elif expires_at > now:
            available += rest
            open_lots.append((expires_at, rest))
            first_expiry = expires_at if first_expiry is None else min(first_expiry, expires_at)
    expiring = 0
    if first_expiry is not None:
        end = _end_of_local_day(first_expiry)
        expiring = sum(rest for expires_at, rest in open_lots if expires_at < end)
    return Balance(available=available, pending=pending, next_expiry_points=expiring, next_expiry_at=first_expiry)


def points_discrepancies(account_ids: Iterable[int] | None = None) -> list[dict]:
    """Every account whose stored lots disagree with its ledger.

    Three rules: each lot's ``remaining`` is its points less what was allocated from it; each
    negative entry is fully allocated to lots; the sum of an account's entries equals the sum of
    its lots' ``remaining`` (which is never negative, the database makes sure of that).
    """
    ids = None if account_ids is None else list(account_ids)
    problems: dict[int, dict] = {}

    def problem(account_id: int) -> dict:
        return problems.setdefault(account_id, {"account_id": account_id, "lots": [], "entries": []})

    for lot_id, (account_id, from_ledger, stored) in lot_remaining_from_ledger(ids).items():
        if from_ledger != stored:
            problem(account_id)["lots"].append({"lot": lot_id, "stored": stored, "ledger": from_ledger})

    negatives = PointsEntry.objects.filter(points__lt=0)
    if ids is not None:
        negatives = negatives.filter(account_id__in=ids)
    allocated = dict(
        Allocation.objects.filter(consumer__in=negatives)
        .values("consumer_id")
        .annotate(total=Sum("points"))
        .values_list("consumer_id", "total")
    )
    for pk, account_id, points in negatives.values_list("pk", "account_id", "points"):
        if int(allocated.get(pk, 0)) != -points:
            problem(account_id)["entries"].append({"entry": pk, "points": points, "allocated": allocated.get(pk, 0)})

    entries = PointsEntry.objects.all() if ids is None else PointsEntry.objects.filter(account_id__in=ids)
    for row in entries.values("account_id").annotate(total=Sum("points"), stored=Sum("remaining")):
        if int(row["total"]) != int(row["stored"]):
            item = problem(row["account_id"])
            item["ledger_total"], item["stored_total"] = int(row["total"]), int(row["stored"])
    return [problems[key] for key in sorted(problems)]


# --- Accounts and cards -----------------------------------------------------------------


def account_of(customer: Customer) -> Account | None:
    return Account.objects.filter(customer=customer).first()


def card_by_number(number: str) -> Card | None:
    """The card with this number as typed (in groups or not); None for a number no card can have."""
    try:
        number = ean13_from_typed(number)
    except ValidationError:
        return None
    return Card.objects.select_related("account__customer", "account__tier").filter(number=number).first()


def accounts_for_display(queryset: QuerySet[Account] | None = None) -> QuerySet[Account]:
    """Accounts with what a page shows of them, fetched for the whole page at once."""
    queryset = Account.objects.all() if queryset is None else queryset
    return queryset.select_related("customer", "tier", "store").prefetch_related(
        Prefetch("cards", queryset=Card.objects.order_by("-issued_at", "-id"))
    )


def next_spendable_at(account: Account, *, now: datetime.datetime | None = None) -> datetime.datetime | None:
    """When the earliest pending points of the account become spendable (None when none are pending)."""
    now = now or timezone.now()
    return PointsEntry.objects.filter(account=account, remaining__gt=0, spendable_from__gt=now).aggregate(
        first=Min("spendable_from")
    )["first"]


def primary_card(account: Account) -> Card | None:
    """The newest active card (uses the prefetched cards when there are some)."""
    return next((card for card in account.cards.all() if card.status == CardStatus.ACTIVE), None)


def entries_for_display(account: Account) -> QuerySet[PointsEntry]:
    return (
        PointsEntry.objects.filter(account=account)
        .select_related("store", "tier", "created_by", "api_key")
        .order_by("-created_at", "-id")
    )


def active_accounts() -> QuerySet[Account]:
    return Account.objects.filter(
        status=AccountStatus.ACTIVE, customer__merged_into__isnull=True, customer__anonymised_at__isnull=True
    )


# --- Programme --------------------------------------------------------------------------


def excluded_category_ids(programme: Programme) -> set[int]:
    """The excluded categories and every category below them (the tree read in one query)."""
    roots = set(programme.excluded_categories.values_list("pk", flat=True))
    if not roots:
        return set()
    children = defaultdict(list)
    for pk, parent_id in Category.objects.values_list("pk", "parent_id"):
        children[parent_id].append(pk)
    result, stack = set(), list(roots)
    while stack:
        pk = stack.pop()
        if pk in result:
            continue
        result.add(pk)
        stack.extend(children.get(pk, ()))
    return result


def excluded_product_ids(programme: Programme) -> set[int]:
    return set(programme.excluded_products.values_list("pk", flat=True))


def lots_available(account_id: int, now: datetime.datetime) -> list[PointsEntry]:
    """The account's lots spendable at ``now`` (``_available``) with points left, first-in
    first-out: by spendable date, expiry, id. Read on the order's path (``instances_where``)."""
    moment = connection.ops.adapt_datetimefield_value(now)
    return instances_where(
        PointsEntry,
        't."account_id" = %s AND t."remaining" > 0 AND t."spendable_from" <= %s AND t."expires_at" > %s',
        [account_id, moment, moment],
        tail='ORDER BY t."spendable_from", t."expires_at", t."id"',
    )


def promo_codes_with_usage(queryset: QuerySet[PromoCode] | None = None) -> QuerySet[PromoCode]:
    """Promo codes with the figures of their use (``services.promo_usage``), counted for the whole
    page in the same query: the uses that stay applied, and those given back. (An aggregate drops
    the model's ordering, so it is named again with the id after it: pages must not overlap.)"""
    queryset = PromoCode.objects.all() if queryset is None else queryset
    applied = Q(usages__status=PromoUsageStatus.APPLIED)
    if not queryset.query.order_by:
        queryset = queryset.order_by(*PromoCode._meta.ordering, "-id")
    return queryset.annotate(
        usage_orders=Count("usages", filter=applied),
        usage_discount=Sum("usages__discount", filter=applied),
        usage_points=Sum("usages__points", filter=applied),
        usage_order_total=Sum("usages__order_total", filter=applied),
        usage_released=Count("usages", filter=Q(usages__status=PromoUsageStatus.RELEASED)),
    )
