"""Exports whose every column is a model field read as it is, written without a model per row.

Order lines and return lines (``omni.reports.exports.resources``) are such exports: each of their
Resource's fields reads one model field (``order__created_at``) through a widget that only writes
it as text. For them the Resource stays the one place that says which columns there are and in
what order, and the queryset the one place for the rows (filters, the user's locations, the
order); what changes is who reads the rows:

- CSV on PostgreSQL: ``COPY (the queryset's SELECT) TO STDOUT`` in CSV, each cell formatted in SQL
  the way the Resource writes it in Python (a moment as local time ``2026-03-05 14:30:00``, a
  decimal ``1234.50`` or ``1234,50``, an empty text as an empty cell), streamed into the file a
  row at a time (``copy_csv``). ``tests/reports/test_export_paths.py`` compares the two files.
- XLSX on any database: the fields' values as tuples (``native_rows``), without a model per row.

A Resource with any other column (a method, a property, a widget that formats for the locale, a
report table) is written through the Resource, a row at a time (``omni.reports.exports.services``).
"""

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass

from django.core.exceptions import FieldDoesNotExist
from django.db import connections
from django.db.models import F, Func, QuerySet, TextField, Value
from django.db.models.functions import Cast, NullIf, Replace
from django.utils import timezone
from import_export import widgets
from import_export.resources import Resource

from omni.reports.exports.headers import CsvStyle
from omni.reports.exports.resources import PlainNumberWidget

TEXT, INTEGER, DECIMAL, MOMENT, DATE = "text", "integer", "decimal", "moment", "date"

_KINDS = {
    "CharField": TEXT,
    "TextField": TEXT,
    "SlugField": TEXT,
    "EmailField": TEXT,
    "AutoField": INTEGER,
    "BigAutoField": INTEGER,
    "IntegerField": INTEGER,
    "BigIntegerField": INTEGER,
    "SmallIntegerField": INTEGER,
    "PositiveIntegerField": INTEGER,
    "PositiveBigIntegerField": INTEGER,
    "PositiveSmallIntegerField": INTEGER,
    "DecimalField": DECIMAL,
    "DateTimeField": MOMENT,
    "DateField": DATE,
}
# The formats the import-export widgets write by default, and the same in PostgreSQL's to_char.
_MOMENT_FORMAT = ("%Y-%m-%d %H:%M:%S", "YYYY-MM-DD HH24:MI:SS")
_DATE_FORMAT = ("%Y-%m-%d", "YYYY-MM-DD")


@dataclass(frozen=True)
class Column:
    lookup: str  # from the exported model: "order__created_at"
    kind: str


def plain_columns(resource, rows) -> list[Column] | None:
    """The columns of ``resource`` as look-ups from the model of ``rows``, when every column reads a
    model field as it is (see the module's docstring); None when any does not, or ``rows`` is not a
    queryset of the Resource's model."""
    model = getattr(getattr(resource, "_meta", None), "model", None)
    if not isinstance(rows, QuerySet) or model is None or rows.model is not model:
        return None
    if type(resource).export_field is not Resource.export_field:
        return None
    names = {id(field): name for name, field in resource.fields.items()}
    columns = []
    for field in resource.get_export_fields():
        kind = _kind(model, field.attribute)
        if kind is None or _has_method(resource, field, names.get(id(field))) or not _writes_as_is(field.widget, kind):
            return None
        columns.append(Column(field.attribute, kind))
    return columns


def _has_method(resource, field, name: str | None) -> bool:
    method = field.dehydrate_method or (f"dehydrate_{name}" if name else None)
    return callable(method) or (method is not None and hasattr(resource, method))


def _kind(model, attribute: str | None) -> str | None:
    if not attribute:
        return None
    field = None
    for part in attribute.split("__"):
        if model is None:
            return None
        try:
            field = model._meta.get_field(part)
        except FieldDoesNotExist:
            return None  # a property or a method: Python computes it
        model = field.related_model if field.is_relation else None
    if field.is_relation:
        if field.many_to_many or field.one_to_many:
            return None
        field = field.target_field
    return _KINDS.get(field.get_internal_type())


def _writes_as_is(widget, kind: str) -> bool:
    """Whether the widget writes the value's own text, which SQL can write the same way."""
    if kind == MOMENT:
        return type(widget) is widgets.DateTimeWidget and widget.formats[0] == _MOMENT_FORMAT[0]
    if kind == DATE:
        return type(widget) is widgets.DateWidget and widget.formats[0] == _DATE_FORMAT[0]
    return type(widget) in (widgets.Widget, PlainNumberWidget)


# --- CSV by PostgreSQL ------------------------------------------------------------------------


class _LocalText(Func):
    """A moment or a day as text, in local time: ``to_char(x AT TIME ZONE 'Europe/Moscow', ...)``."""

    output_field = TextField()

    def __init__(self, expression, *, pg_format: str, zone: str | None):
        super().__init__(expression)
        self.pg_format, self.zone = pg_format, zone

    def as_sql(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        if self.zone is None:
            return f"to_char({sql}, %s)", [*params, self.pg_format]
        return f"to_char({sql} AT TIME ZONE %s, %s)", [*params, self.zone, self.pg_format]


def _cell_sql(column: Column, style: CsvStyle, zone: str):
    value = F(column.lookup)
    if column.kind == TEXT:
        # COPY quotes an empty text (""), to tell it from NULL; Python's csv writes neither.
        return NullIf(value, Value(""))
    if column.kind == DECIMAL and style.decimal_comma:
        return Replace(Cast(value, TextField()), Value("."), Value(","), output_field=TextField())
    if column.kind == MOMENT:
        return _LocalText(value, pg_format=_MOMENT_FORMAT[1], zone=zone)
    if column.kind == DATE:
        return _LocalText(value, pg_format=_DATE_FORMAT[1], zone=None)
    return value  # integers, and decimals with a point, are their own text


def copy_statement(rows: QuerySet, columns: list[Column], style: CsvStyle) -> tuple[str, list]:
    """``COPY (rows' SELECT of the columns, formatted) TO STDOUT`` as CSV in ``style``, and its parameters."""
    if style.delimiter not in {",", ";", "\t"}:
        raise ValueError(f"Unexpected CSV delimiter {style.delimiter!r}.")
    zone = timezone.get_current_timezone_name()
    select = rows.values_list(*(_cell_sql(column, style, zone) for column in columns))
    sql, params = select.query.get_compiler(using=rows.db).as_sql()
    delimiter = {"\t": "E'\\t'"}.get(style.delimiter, f"'{style.delimiter}'")
    return f"COPY ({sql}) TO STDOUT WITH (FORMAT csv, DELIMITER {delimiter})", list(params)


def copy_csv(rows: QuerySet, columns: list[Column], style: CsvStyle, target, *, header: list[str]) -> int:
    """Write the header then every row by PostgreSQL's COPY to ``target`` (a binary file); returns
    the number of rows. Each COPY message is one row ending in a line feed (the protocol sends one
    per row), which becomes CR LF as Python's csv writer ends its lines. The connection is busy
    until the COPY ends, so a job records its progress at the end (a million rows take seconds)."""
    text = io.StringIO()
    csv.writer(text, delimiter=style.delimiter).writerow(header)
    target.write(("\ufeff" if style.bom else "").encode() + text.getvalue().encode())
    statement, params = copy_statement(rows, columns, style)
    count = 0
    with connections[rows.db].cursor() as cursor, cursor.cursor.copy(statement, params) as copy:
        write = target.write
        while data := copy.read():
            write(data[:-1])
            write(b"\r\n")
            count += 1
    return count


# --- Native values, for XLSX -----------------------------------------------------------------


def native_rows(rows: QuerySet, columns: list[Column], chunk_size: int) -> Iterator[tuple]:
    """The columns' values of every row, read a chunk at a time (a server-side cursor on PostgreSQL)."""
    return rows.values_list(*(column.lookup for column in columns)).iterator(chunk_size=chunk_size)
