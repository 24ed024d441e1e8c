"""Database helpers every app shares."""

import contextvars
import functools
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.migrations.operations import AddIndex

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


@contextmanager
def prepared_cursor():
    """A cursor of the default connection for the statements Omni builds itself on its busiest paths
    (an order's reads and writes, its reservation, the account's lock; a customer's lookup). On
    PostgreSQL their values are bound server-side and each statement is prepared on the
    connection, so that PostgreSQL plans each shape once per connection: planning those statements
    afresh cost about as much as running them. Elsewhere, and behind a transaction pooler
    (``DB_TRANSACTION_POOLER``: a prepared statement lives in one server session), the ordinary
    cursor. Its statements are logged and counted as any other; psycopg keeps the last 100
    prepared on a connection."""
    if connection.vendor != "postgresql" or settings.DB_TRANSACTION_POOLER:
        with connection.cursor() as cursor:
            yield cursor
        return
    connection.ensure_connection()
    connection.validate_thread_sharing()
    if connection.connection.prepare_threshold is None:
        # psycopg prepares nothing, even when asked, while its threshold is None (Django's
        # default). A threshold no statement reaches prepares what is asked only: Django's own
        # cursors bind client-side and never prepare.
        connection.connection.prepare_threshold = _PREPARE_ONLY_WHEN_ASKED
    preparing_cursor, logging_wrapper = _prepared_classes()
    raw = preparing_cursor(connection.connection)
    with logging_wrapper(raw, connection) if connection.queries_logged else connection.make_cursor(raw) as cursor:
        yield cursor


_PREPARE_ONLY_WHEN_ASKED = 2**31 - 1


@functools.cache
def _prepared_classes():
    """psycopg's server-binding cursor that prepares every statement, and Django's debug wrapper
    logging it with its values in it (as the other statements are logged: Django reads the text of
    a statement from psycopg, which keeps none for a prepared one)."""
    from django.db.backends.postgresql.base import CursorDebugWrapper, ServerBindingCursor
    from psycopg.types.numeric import Int8Dumper

    class PreparingCursor(ServerBindingCursor):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            # Every integer as a bigint: psycopg would type each by its size (smallint, integer,
            # bigint), and a statement is prepared once per text and types. Omni's statements
            # cast their values.
            self.adapters.register_dumper(int, Int8Dumper)

        def execute(self, query, params=None, *, prepare=None, binary=None):
            return super().execute(query, params, prepare=True, binary=binary)

    class PreparedDebugWrapper(CursorDebugWrapper):
        def debug_sql(self, sql=None, params=None, use_last_executed_query=False, many=False):
            if use_last_executed_query and not many:
                sql, use_last_executed_query = self.db.ops.compose_sql(sql, params), False
            return super().debug_sql(sql, params, use_last_executed_query, many)

    return PreparingCursor, PreparedDebugWrapper


# --- Rows read by hand -------------------------------------------------------------------
#
# A short filter through the ORM costs 0.35-0.5 ms of CPU to build and compile, three to four
# times the statement itself read through ``prepared_cursor`` (and PostgreSQL plans it again each
# time). The busiest paths (placing an order) read their few rows with SQL written once.


@functools.cache
def select_columns(model, alias: str) -> str:
    """The model's concrete columns, qualified by ``alias``, in the order ``instance_from_row`` reads them."""
    return ", ".join(f'{alias}."{field.column}"' for field in model._meta.concrete_fields)


@functools.cache
def _converters(model, vendor: str) -> tuple[tuple[int, Any, tuple], ...]:
    """The columns of the model whose values the database returns in another form (JSON as text;
    on SQLite, decimals and moments): each with its place, and its converters as the ORM runs them."""
    db = connections[DEFAULT_DB_ALIAS]
    found = []
    for index, field in enumerate(model._meta.concrete_fields):
        column = field.cached_col
        converters = (*db.ops.get_db_converters(column), *column.get_db_converters(db))
        if converters:
            found.append((index, column, converters))
    return tuple(found)


@functools.cache
def _attnames(model) -> list[str]:
    return [field.attname for field in model._meta.concrete_fields]


def instance_from_row(model, values: Sequence):
    """An instance from its concrete fields' values (``select_columns``) as the database returned them."""
    values = list(values)
    for index, column, converters in _converters(model, connection.vendor):
        for converter in converters:
            values[index] = converter(values[index], column, connection)
    return model.from_db(connection.alias, _attnames(model), values)


def instances_where(model, condition: str, params: Sequence, *, tail: str = "") -> list:
    """The instances whose rows meet ``condition`` (SQL over the table as ``t``), then ``tail``
    (``ORDER BY``, ``LIMIT``, ``FOR UPDATE``), read through ``prepared_cursor``."""
    sql = f'SELECT {select_columns(model, "t")} FROM "{model._meta.db_table}" AS t WHERE {condition} {tail}'
    with prepared_cursor() as cursor:
        cursor.execute(sql, params)
        return [instance_from_row(model, row) for row in cursor.fetchall()]


def equals_any(column: str, values: Sequence) -> tuple[str, list]:
    """``column`` equal to one of ``values``, and its parameters: one array on PostgreSQL (one
    statement text, so one prepared statement, whatever their number), a list elsewhere."""
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s)", [list(values)]
    if not values:
        return "1 = 0", []  # SQLite has no empty IN ()
    return f"{column} IN ({', '.join(['%s'] * len(values))})", list(values)


# --- Rows written together ----------------------------------------------------------------
#
# On PostgreSQL several INSERTs (and UPDATEs) can be one statement: each a data-modifying CTE
# of ``WITH ... SELECT``. They all see the statement's snapshot and not each other's rows, so a
# row refers to a parent written in the same statement through its CTE (``(SELECT "id" FROM
# name)``), and foreign keys (deferred, as Django creates them) are checked at commit.


@functools.cache
def _written_columns(model, vendor: str) -> tuple[tuple[Any, str], ...]:
    """The columns an INSERT of ``model`` writes (all but its id), each with its SQL type: the type
    is worked out once per model, not for every value of every row."""
    db = connections[DEFAULT_DB_ALIAS]
    return tuple((field, field.db_type(db)) for field in model._meta.concrete_fields if not field.primary_key)


def insert_sql(
    objs, *, parents: dict | None = None, when: str = "", exprs: dict | None = None, on_conflict: str = ""
) -> tuple[str, list]:
    """``INSERT`` of unsaved instances of one model, with the values ``bulk_create`` would write
    (defaults, ``auto_now_add``), as SQL that may stand in a CTE: each value cast to its column's
    type; with ``when`` (SQL), written only if it holds; ``RETURNING "id"``. A foreign key to an
    unsaved instance found in ``parents`` ({id(instance): CTE name}) is that CTE's row; ``exprs``
    gives some columns (by attribute name) as SQL expressions instead of the instances' values;
    ``on_conflict`` is the clause, as in ``DO NOTHING``."""
    parents, exprs = parents or {}, exprs or {}
    db = connections[DEFAULT_DB_ALIAS]  # the connection itself: each lookup through the proxy costs
    meta = type(objs[0])._meta
    columns = _written_columns(type(objs[0]), db.vendor)
    rows, params = [], []
    for obj in objs:
        values = []
        for field, db_type in columns:
            if field.attname in exprs:
                values.append(f"CAST({exprs[field.attname]} AS {db_type})")
                continue
            parent = field.get_cached_value(obj, None) if field.is_relation else None
            if parent is not None and parent.pk is None:
                values.append(f'(SELECT "{parent._meta.pk.column}" FROM {parents[id(parent)]})')
                continue
            values.append(f"CAST(%s AS {db_type})")
            params.append(field.get_db_prep_save(field.pre_save(obj, True), db))
        rows.append(f"({', '.join(values)})")
    names = ", ".join(f'"{field.column}"' for field, _db_type in columns)
    source = f"VALUES {', '.join(rows)}"
    if when:
        source = f"SELECT * FROM ({source}) AS v WHERE {when}"
    conflict = f" ON CONFLICT {on_conflict}" if on_conflict else ""
    return f'INSERT INTO "{meta.db_table}" ({names}) {source}{conflict} RETURNING "{meta.pk.column}"', params


def ids_assign(objs, ids) -> None:
    """Give the instances written by ``insert_sql`` the ids returned, in the order written (ids
    from one statement's identity column rise in the order of its rows)."""
    ids = sorted(ids or [])
    if ids and len(ids) != len(objs):
        raise RuntimeError("The rows written and the ids returned do not match.")
    for obj, pk in zip(objs, ids, strict=False):
        obj.pk = pk
        obj._state.adding, obj._state.db = False, connection.alias
        for field in obj._meta.concrete_fields:  # a parent written in the same statement: now saved
            if field.is_relation and getattr(obj, field.attname) is None:
                parent = field.get_cached_value(obj, None)
                if parent is not None:
                    setattr(obj, field.attname, parent.pk)


def update_sql(objs, fields: Sequence[str]) -> tuple[str, list]:
    """``UPDATE`` of ``fields`` of saved instances of one model to their values on the instances
    (as ``bulk_update`` writes them), as SQL that may stand in a CTE; ``RETURNING "id"``."""
    db = connections[DEFAULT_DB_ALIAS]
    meta = type(objs[0])._meta
    columns = [meta.pk, *(meta.get_field(name) for name in fields)]
    row = "(" + ", ".join(f"CAST(%s AS {field.db_type(db)})" for field in columns) + ")"
    rows, params = [], []
    for obj in objs:
        rows.append(row)
        params += [field.get_db_prep_save(getattr(obj, field.attname), db) for field in columns]
    names = ", ".join(f'"{field.column}"' for field in columns)
    assignments = ", ".join(f'"{field.column}" = v."{field.column}"' for field in columns[1:])
    pk = meta.pk.column
    return (
        f'UPDATE "{meta.db_table}" AS t SET {assignments} FROM (VALUES {", ".join(rows)}) AS v ({names}) '
        f'WHERE t."{pk}" = v."{pk}" RETURNING t."{pk}"'
    ), params


@dataclass(frozen=True)
class Ctes:
    """Data-modifying CTEs another service builds for the caller's statement: ``sql`` (``name AS
    (...), ...``), its parameters, ``returns`` (an SQL value handed back) and ``done``, called with
    that value once the statement has run. PostgreSQL only.

    The CTEs' names end in ``{n}`` (``route{n}``), which the statement replaces with the place of
    these CTEs in it: names of their own, and the same SQL text every time the statement has the
    same shape (a statement is prepared by its text, ``prepared_cursor``)."""

    sql: str
    params: list
    returns: str
    done: Callable[[Any], Any]

    def numbered(self, n: int) -> tuple[str, str]:
        """``sql`` and ``returns`` with their names numbered ``n``."""
        return self.sql.replace("{n}", str(n)), self.returns.replace("{n}", str(n))

    def run(self):
        """Run on its own: ``WITH sql SELECT returns``; what ``done`` returns."""
        sql, returns = self.numbered(0)
        with prepared_cursor() as cursor:
            cursor.execute(f"WITH {sql} SELECT {returns}", self.params)
            return self.done(cursor.fetchone()[0])


def rows_write_together(
    *groups, updates: Sequence[tuple[Sequence, Sequence[str]]] = (), ctes: Sequence[Ctes] = ()
) -> None:
    """Insert each group of unsaved instances (one model per group; a group may refer to an
    instance of an earlier single-row group as its parent), update ``updates`` (saved
    instances, the fields to write) and run ``ctes``: one statement on PostgreSQL; elsewhere a
    ``bulk_create`` per group and a ``bulk_update`` per update (``ctes`` are PostgreSQL's)."""
    groups = [list(group) for group in groups if group]
    updates = [(list(objs), fields) for objs, fields in updates if objs]
    if connection.vendor != "postgresql":
        if ctes:
            raise ValueError("CTEs are written together on PostgreSQL only.")
        for group in groups:
            type(group[0]).objects.bulk_create(group)
        for objs, fields in updates:
            type(objs[0]).objects.bulk_update(objs, fields)
        return
    parents, statements, params = {}, [], []
    for n, group in enumerate(groups):
        sql, values = insert_sql(group, parents=parents)
        statements.append(f"w{n} AS ({sql})")
        params += values
        if len(group) == 1:
            parents[id(group[0])] = f"w{n}"
    for n, (objs, fields) in enumerate(updates):
        sql, values = update_sql(objs, fields)
        statements.append(f"u{n} AS ({sql})")
        params += values
    numbered = [extra.numbered(n) for n, extra in enumerate(ctes)]
    for (sql, _returns), extra in zip(numbered, ctes, strict=True):
        statements.append(sql)
        params += extra.params
    returned = [f'(SELECT array_agg("id") FROM w{n})' for n in range(len(groups))]
    returned += [f"(SELECT count(*) FROM u{n})" for n in range(len(updates))]
    returned += [returns for _sql, returns in numbered]
    with prepared_cursor() as cursor:
        cursor.execute(f"WITH {', '.join(statements)} SELECT {', '.join(returned)}", params)
        row = cursor.fetchone()
    for group, ids in zip(groups, row, strict=False):
        ids_assign(group, ids)
    if list(row[len(groups) : len(groups) + len(updates)]) != [len(objs) for objs, _fields in updates]:
        raise RuntimeError("Rows to update were not found.")
    for extra, value in zip(ctes, row[len(groups) + len(updates) :], strict=True):
        extra.done(value)


def advisory_xact_lock(key: int, *, wait: bool = True) -> bool:
    """Take a PostgreSQL advisory lock for the rest of this transaction (waiting for it, or not:
    then whether it was free). Elsewhere always True: SQLite serialises its writers itself."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        if wait:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])
            return True
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [key])
        return cursor.fetchone()[0]
