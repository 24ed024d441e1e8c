"""Row locks on loyalty accounts, always taken in primary-key order so that two operations over
the same accounts (a merge, a nightly batch, a redemption) can never deadlock.

Every change of an account's lots (``PointsEntry.remaining``) happens with the account row
locked, so the lots of one account are only ever changed by one transaction at a time. Where a
customer row is locked too (opening an account, issuing a card), the customer is locked first.
"""

from collections.abc import Iterable

from django.db.models import Subquery

from loyalty.models import Account, Programme
from omni.core.db import require_transaction


def account_for_update(account_id: int) -> Account:
    """Lock one account (inside the caller's transaction) and return it fresh."""
    require_transaction("account_for_update")
    return Account.objects.select_for_update().get(pk=account_id)


def customer_account_for_update(customer_id: int) -> Account | None:
    """Lock the customer's account, found and locked in one statement; None if they have none."""
    require_transaction("customer_account_for_update")
    return Account.objects.select_for_update().filter(customer_id=customer_id).first()


def customer_account_with_programme_for_update(customer_id: int) -> tuple[Account | None, Programme | None]:
    """``customer_account_for_update`` and the active programme read with it, in one statement:
    the programme's fields as subqueries of the account's row. (None, None) without an account;
    the programme is None where none is active."""
    require_transaction("customer_account_with_programme_for_update")
    fields = [field.attname for field in Programme._meta.concrete_fields]
    active = Programme.objects.filter(is_active=True).order_by("pk")
    row = (
        Account.objects.select_for_update(of=("self",))
        .filter(customer_id=customer_id)
        .annotate(**{f"programme_{name}": Subquery(active.values(name)[:1]) for name in fields})
        .first()
    )
    if row is None:
        return None, None
    values = {name: getattr(row, f"programme_{name}") for name in fields}
    if values["id"] is None:
        return row, None
    programme = Programme(**values)
    programme._state.adding, programme._state.db = False, row._state.db
    return row, programme


def accounts_for_update(account_ids: Iterable[int]) -> list[int]:
    """Lock these accounts in primary-key order; return the ids that exist."""
    require_transaction("accounts_for_update")
    ids = sorted(set(account_ids))
    if not ids:
        return []
    return list(Account.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk", flat=True))
