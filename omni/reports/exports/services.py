"""Exports of any size: small ones at once, large ones by a Celery job writing a file in chunks.

An export comes from the dashboard (a list or a report table, with the dashboard's filters:
``export_start``) or from an admin change list (with the list's own filters and search:
``list_export_start``, ``omni.reports.exports.lists``). Either way the same permission (``kinds.can_export``)
is checked when it starts and again when its job runs, and the same writer writes the file.

The file is written to a temporary file, then stored under ``MEDIA_ROOT``; memory stays flat
however many rows there are, and a job records its progress as it goes. Who reads the rows
(``write_rows``):

- an export of plain columns (order lines, return lines: ``omni.reports.exports.columns``) to CSV
  on PostgreSQL: the database itself, ``COPY (the queryset's SELECT) TO STDOUT``, streamed into the
  file (``csv_by_copy`` chooses); to XLSX, the columns' values without a model per row, into
  a workbook streamed row by row (``omni.reports.exports.xlsx``);
- any other export, and CSV elsewhere (SQLite): the Resource, a row at a time, from
  ``queryset.iterator(chunk_size=...)`` (or, when the Resource prefetches related rows, a chunk of
  primary keys at a time). Both ways write the same file.
"""

import csv
import datetime
import io
import logging
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import connections
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from omni.core.db import reporting_reads
from omni.core.errors import DomainError, InvalidInput
from omni.core.queueing import enqueue, enqueue_on_commit, registered_task
from omni.reports.exports import kinds, lists, xlsx
from omni.reports.exports.columns import copy_csv, native_rows, plain_columns
from omni.reports.exports.headers import CsvStyle, ExportHeaders, header_row
from omni.reports.filters import ReportFilters
from omni.reports.forms import filters_from_query
from omni.reports.models import ExportFormat, ExportJob, ExportStatus
from omni.reports.selectors import report_tables

logger = logging.getLogger(__name__)

# A job still pending after this long was not taken by the broker: queue it again.
REQUEUE_AFTER = datetime.timedelta(minutes=5)
# The task that writes a job's file (``omni.reports.tasks``, which imports this module).
RUN_EXPORT_JOB = "omni.reports.tasks.run_export_job"

CONTENT_TYPES = {
    ExportFormat.CSV: "text/csv; charset=utf-8",
    ExportFormat.CSV_EXCEL_RU: "text/csv; charset=utf-8",
    ExportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
EXTENSIONS = {ExportFormat.CSV: "csv", ExportFormat.CSV_EXCEL_RU: "csv", ExportFormat.XLSX: "xlsx"}
CSV_STYLES = {
    ExportFormat.CSV: CsvStyle(),
    ExportFormat.CSV_EXCEL_RU: CsvStyle(delimiter=";", decimal_comma=True),
}


class ExportRefused(DomainError):
    code = "export_refused"
    status = 403


class ExportTooLong(DomainError):
    code = "export_too_long"
    status = 400


def _check_fits(file_format: str, total: int) -> None:
    """Refuse an XLSX export of more rows than a sheet holds, rather than cut it short."""
    if file_format == ExportFormat.XLSX and total > xlsx.MAX_DATA_ROWS:
        raise ExportTooLong(
            _(
                "An Excel sheet holds at most %(limit)s rows and this export has %(rows)s. "
                "Export to CSV, or narrow the filters."
            )
            % {
                "limit": number_format(xlsx.MAX_DATA_ROWS, force_grouping=True),
                "rows": number_format(total, force_grouping=True),
            }
        )


# --- Rows -------------------------------------------------------------------------------


def export_source(what: str, filters: ReportFilters):
    """(resource, rows) for an export: rows are a queryset for a list, a list of dicts for a report."""
    if kinds.is_report(what):
        table = report_tables(filters).get(what.removeprefix(kinds.REPORT_PREFIX))
        if table is None:
            raise InvalidInput.for_field("what", _("There is no such report."))
        return kinds.report_resource(table), table.rows
    kind = kinds.LISTS.get(what)
    if kind is None:
        raise InvalidInput.for_field("what", _("There is no such export."))
    resource = kind.resource()
    return resource, resource.filter_export(kind.rows(filters))


def iter_rows(rows, chunk_size: int) -> Iterator:
    """Every row, read from the database a chunk at a time."""
    if not isinstance(rows, QuerySet):
        yield from rows
        return
    if not rows._prefetch_related_lookups:
        yield from rows.iterator(chunk_size=chunk_size)
        return
    # Prefetches run per chunk: walk the primary keys in order, a chunk at a time (keyset, not OFFSET).
    last = None
    base = rows.order_by("pk")
    while True:
        page = base.filter(pk__gt=last) if last is not None else base
        chunk = list(page[:chunk_size])
        if not chunk:
            return
        yield from chunk
        last = chunk[-1].pk


def _export_fields(resource, headers: str):
    fields = resource.get_export_fields()
    return fields, header_row(resource, fields, headers)


def _exporters(resource, fields, *, native: bool = False) -> list:
    """For each field, the function that turns a row into its cell: what ``Resource.export_field``
    does, with its look-ups (the field's name, its dehydrate method) made once, not per row.
    ``native`` keeps numbers and dates as such (for XLSX), as django-import-export's admin does
    for binary formats."""
    from import_export.resources import Resource

    kwargs = {"force_native_type": True} if native else {}
    if type(resource).export_field is not Resource.export_field:
        return [lambda row, field=field: resource.export_field(field, row, **kwargs) for field in fields]
    result = []
    for field in fields:
        method = field.get_dehydrate_method(resource.get_field_name(field))
        method = method if callable(method) else getattr(resource, method, None)
        result.append(method if method is not None else lambda row, field=field: field.export(row, **kwargs))
    return result


def csv_cell(value, style: CsvStyle):
    """A native value as a CSV cell in ``style``: ``1234,50`` with a decimal comma, a moment in
    local time (``2026-03-05 14:30:00``, which spreadsheets read as a date and time)."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, Decimal | float) and style.decimal_comma:
        return str(value).replace(".", ",")
    return value


def csv_by_copy(rows, plain) -> bool:
    """Whether the database writes the CSV itself: PostgreSQL's COPY, for an export of plain columns
    (``omni.reports.exports.columns``). Elsewhere (SQLite, the development database) the rows go
    through the Resource, which writes the same file."""
    return plain is not None and connections[rows.db].vendor == "postgresql"


def write_rows(
    resource,
    rows: QuerySet | Iterable,
    file_format: str,
    target,
    *,
    title: str = "export",
    progress: Callable[[int], None] | None = None,
    every: int = 2000,
    headers: str = ExportHeaders.LABELS,
    chunk_size: int | None = None,
) -> int:
    """Write a header (``headers``: for people or machine names) and every row of ``rows`` (a
    queryset, read ``chunk_size`` rows at a time, or any rows) to ``target`` (a binary file, or a
    path for XLSX). Returns the number of rows written."""
    fields, header = _export_fields(resource, headers)
    chunk_size = chunk_size or settings.REPORTS_EXPORT_CHUNK_SIZE
    plain = plain_columns(resource, rows)
    style = CSV_STYLES.get(file_format)
    if style is not None:
        if csv_by_copy(rows, plain):
            count = copy_csv(rows, plain, style, target, header=header)
        else:
            # The library's own text for plain CSV; native values where the file keeps numbers as numbers.
            exporters = _exporters(resource, fields, native=file_format != ExportFormat.CSV)
            cells = ([csv_cell(export(row), style) for export in exporters] for row in iter_rows(rows, chunk_size))
            count = _write_csv(cells, style, target, header=header, progress=progress, every=every)
    elif file_format == ExportFormat.XLSX:
        if plain is not None:
            cells = native_rows(rows, plain, chunk_size)
        else:
            exporters = _exporters(resource, fields, native=True)
            cells = ([export(row) for export in exporters] for row in iter_rows(rows, chunk_size))
        kinds = [column.kind for column in plain] if plain else None
        count = xlsx.xlsx_write(cells, target, header=header, title=title, kinds=kinds, progress=progress, every=every)
    else:
        raise InvalidInput.for_field("format", _("Export to CSV or XLSX."))
    if progress:
        progress(count)
    return count


def _write_csv(cells: Iterable[list], style: CsvStyle, target, *, header, progress, every) -> int:
    text = io.TextIOWrapper(target, encoding="utf-8-sig" if style.bom else "utf-8", newline="", write_through=False)
    writer = csv.writer(text, delimiter=style.delimiter)
    writer.writerow(header)
    count = 0
    for row in cells:
        writer.writerow(row)
        count += 1
        if progress and count % every == 0:
            progress(count)
    text.flush()
    text.detach()
    return count


def file_name(what: str, filters: ReportFilters, file_format: str) -> str:
    slug = what.replace(kinds.REPORT_PREFIX, "report-").replace("_", "-")
    return f"{slug}-{filters.date_from:%Y%m%d}-{filters.date_to:%Y%m%d}.{EXTENSIONS[file_format]}"


def row_count(rows) -> int:
    return rows.count() if isinstance(rows, QuerySet) else len(rows)


# --- At once, or as a job ---------------------------------------------------------------


def export_start(
    *, user, what: str, filters: ReportFilters, file_format: str, headers: str = ExportHeaders.LABELS
) -> tuple[bytes | None, ExportJob | None]:
    """Export at once when the rows fit ``REPORTS_ASYNC_EXPORT_ROWS``, else start a job; column
    names for people (in the active language) or machine names (``headers``).

    Returns (file content, None) or (None, the job).
    """
    _check_export(user, what, file_format, headers)
    resource, rows = export_source(what, filters)
    return _export_or_queue(
        user=user,
        what=what,
        stored=filters.as_query(),
        resource=resource,
        rows=rows,
        shape=FileShape(file_format, headers),
    )


def list_export_start(
    *, user, what: str, query: str, file_format: str, headers: str = ExportHeaders.LABELS
) -> tuple[bytes | None, ExportJob | None]:
    """Export an admin change list (``what`` is ``admin:<list key>``) with the list's query string
    (its filters, search and ordering), as the user sees it: at once when small, else as a job,
    which stores the query string and rebuilds the same rows (``omni.reports.exports.lists``).

    Returns (file content, None) or (None, the job).
    """
    _check_export(user, what, file_format, headers)
    if not kinds.is_admin_list(what):
        raise InvalidInput.for_field("what", _("There is no such export."))
    resource, rows = lists.list_source(user=user, what=what, query=query)
    return _export_or_queue(
        user=user,
        what=what,
        stored={"query": query},
        resource=resource,
        rows=rows,
        shape=FileShape(file_format, headers),
    )


@dataclass(frozen=True)
class FileShape:
    """What an export writes: its format and its column names (for people or machine names)."""

    file_format: str
    headers: str = ExportHeaders.LABELS


def _check_export(user, what: str, file_format: str, headers: str) -> None:
    if not kinds.can_export(user, what):
        raise ExportRefused(_("You may not export this."))
    if file_format not in ExportFormat.values:
        raise InvalidInput.for_field("format", _("Export to CSV or XLSX."))
    if headers not in ExportHeaders.values:
        raise InvalidInput.for_field("headers", _("Choose column names for people or for integrations."))


def _export_or_queue(
    *, user, what: str, stored: dict, resource, rows, shape: FileShape
) -> tuple[bytes | None, ExportJob | None]:
    total = row_count(rows)
    _check_fits(shape.file_format, total)
    if total <= settings.REPORTS_ASYNC_EXPORT_ROWS:
        buffer = io.BytesIO()
        write_rows(resource, rows, shape.file_format, buffer, title=what, headers=shape.headers)
        return buffer.getvalue(), None
    job = ExportJob.objects.create(
        user=user,
        what=what,
        filters=stored,
        file_format=shape.file_format,
        headers=shape.headers,
        language=translation.get_language() or "",
        rows_total=total,
    )
    enqueue_on_commit(
        registered_task(RUN_EXPORT_JOB), job.pk
    )  # a job the broker did not take waits for export_jobs_requeue
    return None, job


def export_jobs_requeue(*, older_than: datetime.timedelta = REQUEUE_AFTER) -> int:
    """Queue again every job left pending (the broker was down when it was started); return how many."""
    run_export_job = registered_task(RUN_EXPORT_JOB)
    ids = ExportJob.objects.filter(status=ExportStatus.PENDING, updated_at__lte=timezone.now() - older_than)
    return sum(enqueue(run_export_job, job_id) for job_id in ids.order_by("pk").values_list("pk", flat=True))


def job_filters(job: ExportJob) -> ReportFilters:
    """The job's filters, limited again to the locations its user works at now."""
    return filters_from_query(job.filters, job.user)


def job_source(job: ExportJob):
    """(resource, rows, file name) of a job: its rows rebuilt from its stored filters (or, for an
    admin change list, its stored query string) for its user as they are now."""
    if kinds.is_admin_list(job.what):
        resource, rows = lists.list_source(user=job.user, what=job.what, query=job.filters.get("query", ""))
        return resource, rows, lists.list_file_name(job.what, job.file_format)
    filters = job_filters(job)
    resource, rows = export_source(job.what, filters)
    return resource, rows, file_name(job.what, filters, job.file_format)


def export_job_run(*, job_id: int) -> ExportJob:
    """Write the job's file in chunks, in the language of whoever started it, recording progress;
    a failure is recorded with its reason."""
    job = ExportJob.objects.select_related("user").get(pk=job_id)
    with translation.override(job.language or settings.LANGUAGE_CODE):
        return _export_job_write(job)


def _export_job_write(job: ExportJob) -> ExportJob:
    # Claimed with a conditional update: a job queued twice (by the re-queue) is written once.
    claimed = (
        ExportJob.objects.filter(pk=job.pk)
        .exclude(status__in=[ExportStatus.DONE, ExportStatus.RUNNING])
        .update(status=ExportStatus.RUNNING, updated_at=timezone.now())
    )
    if not claimed:
        job.refresh_from_db()
        return job
    temp_path = None
    try:
        if not job.user.is_active or not kinds.can_export(job.user, job.what):
            raise PermissionDenied(_("%(user)s may no longer export this.") % {"user": job.user.get_username()})
        # The rows are read from the read replica when there is one; the job's own row stays on the
        # primary (it was written moments ago, and the replica may not have it yet).
        with reporting_reads():
            resource, rows, name = job_source(job)
            total = row_count(rows)
        ExportJob.objects.filter(pk=job.pk).update(rows_total=total, rows_done=0)
        _check_fits(job.file_format, total)  # rows added since the job was started

        def progress(done: int) -> None:
            ExportJob.objects.filter(pk=job.pk).update(rows_done=done, updated_at=timezone.now())

        chunk = settings.REPORTS_EXPORT_CHUNK_SIZE
        handle, temp_path = tempfile.mkstemp(suffix=f".{job.file_format}")
        with os.fdopen(handle, "wb") as target, reporting_reads():
            written = write_rows(
                resource,
                rows,
                job.file_format,
                target,
                title=job.what,
                progress=progress,
                every=chunk,
                headers=job.headers,
                chunk_size=chunk,
            )
        with open(temp_path, "rb") as source:
            stored = default_storage.save(f"exports/{timezone.now():%Y/%m}/{job.pk}-{name}", File(source))
        job.file.name = stored
        job.rows_done = written
        job.rows_total = max(written, total)
        job.status = ExportStatus.DONE
        job.error = ""
    except Exception as exc:  # any failure is recorded on the job for the user to read
        logger.exception("Export job %s failed", job.pk)
        job.status = ExportStatus.FAILED
        job.error = _export_error(exc)
        job.rows_done = ExportJob.objects.filter(pk=job.pk).values_list("rows_done", flat=True).first() or 0
    finally:
        if temp_path and os.path.exists(temp_path):
            os.remove(temp_path)
    job.finished_at = timezone.now()
    job.save(update_fields=["file", "rows_done", "rows_total", "status", "error", "finished_at", "updated_at"])
    return job


def _export_error(exc: Exception) -> str:
    if isinstance(exc, DomainError):
        return str(exc.message)
    if isinstance(exc, PermissionDenied):
        return str(exc) or _("Permission denied.")
    return _("The export failed: %(error)s") % {"error": f"{type(exc).__name__}: {exc}"[:500]}


def export_files_delete_old(*, now: datetime.datetime | None = None) -> int:
    """Delete export jobs older than ``REPORTS_EXPORT_RETENTION_DAYS`` and their files."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(days=settings.REPORTS_EXPORT_RETENTION_DAYS)
    count = 0
    for job in ExportJob.objects.filter(created_at__lt=cutoff).exclude(status=ExportStatus.RUNNING).iterator():
        if job.file and default_storage.exists(job.file.name):
            default_storage.delete(job.file.name)
        job.delete()
        count += 1
    return count
