"""Database helpers every app shares."""

import contextvars
from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.migrations.operations import AddIndex
from django.db.models import QuerySet

#: The alias of the read replica (``DATABASE_REPLICA_URL``), when settings configure one.
REPLICA = "replica"

_reporting_reads: contextvars.ContextVar[bool] = contextvars.ContextVar("omni_reporting_reads", default=False)


def require_transaction(what: str) -> None:
    """Refuse to take row locks outside a transaction: in autocommit they would be released at
    once (or, for ``select_for_update``, refused only after other statements had run), and the
    caller would believe it holds rows it does not."""
    if not connection.in_atomic_block:
        raise RuntimeError(f"{what} takes row locks: call it inside a transaction (transaction.atomic()).")


@contextmanager
def reporting_reads():
    """Inside this block the ORM's reads may go to the read replica (``ReportingReplicaRouter``):
    for reports and exports only, which can show figures a replication lag old. Writes still go
    to the primary, and so does every read made inside a transaction on the primary (a write path
    must never decide from a lagging copy). Without a replica configured it changes nothing.

    Wrapping a report or an export is one line: ``with reporting_reads(): rows = ...``. Keep the
    job's own bookkeeping (reading the export job back, marking it done) outside the block: a row
    written moments ago on the primary may not be on the replica yet."""
    token = _reporting_reads.set(True)
    try:
        yield
    finally:
        _reporting_reads.reset(token)


def reporting_alias() -> str:
    """The alias reporting reads use here and now: the replica inside ``reporting_reads()`` when it
    is configured and no transaction is open on the primary, else the primary."""
    if _reporting_reads.get() and REPLICA in connections.settings and not connections[DEFAULT_DB_ALIAS].in_atomic_block:
        return REPLICA
    return DEFAULT_DB_ALIAS


class AddIndexConcurrently(AddIndex):
    """``AddIndex`` that does not lock out writes to a large table while the index is built: on
    PostgreSQL ``CREATE INDEX CONCURRENTLY`` (the migration must say ``atomic = False``), a plain
    ``CREATE INDEX`` elsewhere (SQLite has no such option, and no table that large)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            schema_editor.add_index(model, self.index, **_concurrently(schema_editor))

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        model = from_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            schema_editor.remove_index(model, self.index, **_concurrently(schema_editor))


def _concurrently(schema_editor) -> dict:
    return {"concurrently": True} if schema_editor.connection.vendor == "postgresql" else {}


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


def fetch_rows(queryset: QuerySet) -> list[tuple]:
    """The rows of a ``values_list`` queryset as the database driver returns them.

    Django's own iteration costs about 2 µs a row on top (its iterables and converters): 20 ms
    for the 10,000 figures of an availability answer, half the cost of the query. Only for
    columns the driver already returns as wanted (text, integers): no converter runs here.
    """
    sql, params = queryset.query.sql_with_params()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
