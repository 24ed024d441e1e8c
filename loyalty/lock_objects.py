"""Row locks on loyalty accounts, always taken in primary-key order so that two operations over
the same accounts (a merge, a nightly batch, a redemption) can never deadlock.

Every change of an account's lots (``PointsEntry.remaining``) happens with the account row
locked, so the lots of one account are only ever changed by one transaction at a time. Where a
customer row is locked too (opening an account, issuing a card), the customer is locked first.
"""

import functools
from collections.abc import Iterable

from django.db import connection

from loyalty.models import Account, Programme
from omni.core.db import instance_from_row, prepared_cursor, require_transaction, select_columns


def account_for_update(account_id: int) -> Account:
    """Lock one account (inside the caller's transaction) and return it fresh."""
    require_transaction("account_for_update")
    return Account.objects.select_for_update().get(pk=account_id)


def customer_account_for_update(customer_id: int) -> Account | None:
    """Lock the customer's account, found and locked in one statement; None if they have none."""
    require_transaction("customer_account_for_update")
    return Account.objects.select_for_update().filter(customer_id=customer_id).first()


def customer_account_with_programme_for_update(customer_id: int) -> tuple[Account | None, Programme | None]:
    """``customer_account_for_update`` and the active programme (``programme_current``'s), read
    with it in one statement on PostgreSQL (SQL built once: compiling it through the ORM would
    cost more than the statement it saves). The programme is None where none is active (the
    account then read on its own) and on SQLite; (None, None) without an account."""
    require_transaction("customer_account_with_programme_for_update")
    if connection.vendor != "postgresql":
        return customer_account_for_update(customer_id), None
    with prepared_cursor() as cursor:
        cursor.execute(_account_with_programme_sql(), [customer_id])
        row = cursor.fetchone()
    if row is None:
        return customer_account_for_update(customer_id), None
    split = len(Account._meta.concrete_fields)
    return instance_from_row(Account, row[:split]), instance_from_row(Programme, row[split:])


@functools.cache
def _account_with_programme_sql() -> str:
    account, programme = Account._meta, Programme._meta
    return (
        f"SELECT {select_columns(Account, 'a')}, {select_columns(Programme, 'p')} "
        f'FROM "{account.db_table}" AS a CROSS JOIN LATERAL (SELECT * FROM "{programme.db_table}" '
        'WHERE "is_active" ORDER BY "created_at" DESC LIMIT 1) AS p '
        'WHERE a."customer_id" = %s ORDER BY a."opened_at" DESC, a."id" DESC LIMIT 1 FOR UPDATE OF a'
    )


def accounts_for_update(account_ids: Iterable[int]) -> list[int]:
    """Lock these accounts in primary-key order; return the ids that exist."""
    require_transaction("accounts_for_update")
    ids = sorted(set(account_ids))
    if not ids:
        return []
    return list(Account.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk", flat=True))
