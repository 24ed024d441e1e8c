"""Database helpers every app shares."""

from contextlib import contextmanager

from django.db import connection, transaction


def require_transaction(what: str) -> None:
    """Refuse to take row locks outside a transaction: in autocommit they would be released at
    once (or, for ``select_for_update``, refused only after other statements had run), and the
    caller would believe it holds rows it does not."""
    if not connection.in_atomic_block:
        raise RuntimeError(f"{what} takes row locks: call it inside a transaction (transaction.atomic()).")


@contextmanager
def all_or_nothing():
    """A transaction that rolls back whole on any error: nothing inside catches one and goes on
    (an API request's: ``omni.core.api.idempotency.idempotent``). Services called inside it need
    no savepoint of their own (``service_atomic``)."""
    with transaction.atomic():
        previous = getattr(connection, "omni_all_or_nothing", None)
        connection.omni_all_or_nothing = _savepoints()
        try:
            yield
        finally:
            connection.omni_all_or_nothing = previous


def service_atomic():
    """``transaction.atomic()`` for a service: its own transaction when called alone; directly
    inside ``all_or_nothing`` it only joins that one (``savepoint=False``: nobody could catch its
    error and go on, so a savepoint would be two statements for nothing); inside any other
    caller's transaction a savepoint, so that the caller may catch a refusal and go on."""
    if connection.in_atomic_block and getattr(connection, "omni_all_or_nothing", None) == _savepoints():
        return transaction.atomic(savepoint=False)
    return transaction.atomic()


def _savepoints() -> int:
    """The savepoints open (a block that only joins its caller's transaction counts as None)."""
    return sum(1 for sid in connection.savepoint_ids if sid is not None)
