"""Database helpers every app shares."""

from django.db import connection


def require_transaction(what: str) -> None:
    """Refuse to take row locks outside a transaction: in autocommit they would be released at
    once (or, for ``select_for_update``, refused only after other statements had run), and the
    caller would believe it holds rows it does not."""
    if not connection.in_atomic_block:
        raise RuntimeError(f"{what} takes row locks: call it inside a transaction (transaction.atomic()).")
