"""Exports: small ones at once, large ones through a job, with the filters and the user's stores applied."""

import csv
import datetime
import io
from unittest import mock

import openpyxl
import pytest
from django.utils import timezone

from omni.reports.exports import services
from omni.reports.models import ExportJob, ExportStatus
from tests.reports.conftest import march

pytestmark = pytest.mark.django_db

EXPORT = "/admin/reports/dashboard/export/"
MARCH_QUERY = {"date_from": "2026-03-01", "date_to": "2026-03-31"}


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def read_csv(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def test_report_table_exports_to_csv_at_once(client, shop, manager_of):
    client.force_login(manager_of(role="Head office"))

    response = client.get(EXPORT, {**MARCH_QUERY, "what": "report:sales_by_channel", "format": "csv"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="report-sales-by-channel-20260301-20260331.csv"' in response["Content-Disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")  # Excel reads UTF-8 with its byte order mark
    rows = read_csv(response.content)
    assert rows[0] == ["Channel", "Revenue", "Orders", "Average check", "Units sold", "Items per order"]
    assert ["store", "250.00", "2", "125.00", "3", "1.50"] in rows
    assert len(rows) == 4


def test_key_figures_export_to_xlsx(client, shop, manager_of):
    client.force_login(manager_of(role="Head office"))

    response = client.get(EXPORT, {**MARCH_QUERY, "what": "report:figures", "format": "xlsx"})

    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("Section", "Figure", "Value", "Unit", "Previous period", "Definition")
    revenue = next(row for row in rows if row[1] == "Revenue")
    assert revenue[2] == 650 and revenue[4] == 100


def test_orders_list_export_has_lines_and_filters(client, shop, manager_of):
    client.force_login(manager_of(role="Head office"))

    response = client.get(EXPORT, {**MARCH_QUERY, "channel": "site", "what": "orders", "format": "csv"})

    rows = read_csv(response.content)
    header, body = rows[0], rows[1:]
    assert header[:3] == ["Order", "Created at", "Completed at"]
    assert "SKU" in header and "Line total" in header
    assert sorted({row[0] for row in body}) == ["W-000002", "W-000004", "W-000005", "W-000008"]


def test_store_manager_exports_their_store_only(client, shop, manager_of):
    client.force_login(manager_of(shop.store_a))

    response = client.get(EXPORT, {**MARCH_QUERY, "what": "orders", "format": "csv"})

    orders = {row[0] for row in read_csv(response.content)[1:]}
    assert orders == {"S-000001", "W-000002", "S-000009"}


def test_store_manager_cannot_export_another_store(client, shop, manager_of):
    client.force_login(manager_of(shop.store_a))

    response = client.get(EXPORT, {**MARCH_QUERY, "store": shop.store_b.pk, "what": "orders", "format": "csv"})

    assert response.status_code == 403


def test_store_staff_cannot_export(client, shop, manager_of):
    client.force_login(manager_of(shop.store_a, role="Store staff"))

    response = client.get(EXPORT, {**MARCH_QUERY, "what": "orders", "format": "csv"})

    assert response.status_code == 403


@pytest.mark.parametrize("what", ["returns", "customers", "stock", "ledger", "points"])
def test_every_list_exports(client, shop, manager_of, what):
    client.force_login(manager_of(role="Administrator"))

    response = client.get(EXPORT, {**MARCH_QUERY, "what": what, "format": "xlsx"})

    assert response.status_code == 200
    rows = list(openpyxl.load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert rows[0]  # a header
    if what == "returns":
        assert rows[1][0] == "R-000001"
    if what == "stock":
        assert len(rows) == 4


def test_large_export_runs_as_a_job_with_progress(
    client, shop, manager_of, settings, django_capture_on_commit_callbacks
):
    settings.REPORTS_ASYNC_EXPORT_ROWS = 2
    settings.REPORTS_EXPORT_CHUNK_SIZE = 2
    user = manager_of(role="Head office")
    client.force_login(user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(EXPORT, {**MARCH_QUERY, "what": "orders", "format": "csv"})

    job = ExportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/admin/reports/exportjob/{job.pk}/progress/"
    assert (job.user, job.what, job.status) == (user, "orders", ExportStatus.DONE)
    assert job.filters["date_from"] == "2026-03-01"
    assert job.rows_done == job.rows_total == 8  # lines of orders placed in March
    page = client.get(response["Location"])
    assert b"<progress" in page.content
    status = client.get(f"/admin/reports/exportjob/{job.pk}/status/").json()
    assert status["status"] == "done" and status["percent"] == 100 and status["download_url"]
    download = client.get(status["download_url"])
    rows = read_csv(b"".join(download.streaming_content))
    assert len(rows) == 9
    assert job.file.name.startswith("exports/")


def test_export_started_while_the_broker_is_down_answers_and_the_requeue_runs_it(
    client, shop, manager_of, settings, django_capture_on_commit_callbacks
):
    from kombu.exceptions import OperationalError

    settings.REPORTS_ASYNC_EXPORT_ROWS = 2
    client.force_login(manager_of(role="Head office"))
    broker_down = mock.patch(
        "omni.reports.tasks.run_export_job.delay",
        side_effect=OperationalError("Error 111 connecting to 127.0.0.1:6379"),
    )

    # when: the export is started while the broker cannot be reached
    with broker_down, django_capture_on_commit_callbacks(execute=True):
        response = client.get(EXPORT, {**MARCH_QUERY, "what": "orders", "format": "csv"})

    # then: the page answers with the job's progress page, and the job waits
    job = ExportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/admin/reports/exportjob/{job.pk}/progress/"
    assert job.status == ExportStatus.PENDING

    # when: the broker is back, the periodic re-queue queues the job left pending, once
    from omni.reports.tasks import requeue_pending_exports

    assert requeue_pending_exports.delay().get() == 0  # too recent to be called stuck
    ExportJob.objects.update(updated_at=timezone.now() - datetime.timedelta(minutes=10))
    assert requeue_pending_exports.delay().get() == 1

    job.refresh_from_db()
    assert job.status == ExportStatus.DONE
    assert job.rows_done == 8
    assert requeue_pending_exports.delay().get() == 0


def test_a_job_already_claimed_is_not_run_again(shop, manager_of):
    job = ExportJob.objects.create(user=manager_of(role="Head office"), what="stock", filters={}, file_format="csv")
    ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.RUNNING)

    assert services.export_job_run(job_id=job.pk).status == ExportStatus.RUNNING
    job.refresh_from_db()
    assert (job.status, job.file.name) == (ExportStatus.RUNNING, "")


def test_job_in_xlsx_streams_chunks(shop, manager_of, settings):
    settings.REPORTS_EXPORT_CHUNK_SIZE = 3
    user = manager_of(shop.store_a)
    job = ExportJob.objects.create(user=user, what="orders", filters={**MARCH_QUERY}, file_format="xlsx")

    job = services.export_job_run(job_id=job.pk)

    assert job.status == ExportStatus.DONE
    rows = list(openpyxl.load_workbook(job.file.path).active.iter_rows(values_only=True))
    assert {row[0] for row in rows[1:]} == {"S-000001", "W-000002", "S-000009"}  # the manager's store only


def test_another_users_job_is_not_shown(client, shop, manager_of):
    job = ExportJob.objects.create(user=manager_of(shop.store_b), what="orders", filters={}, file_format="csv")
    client.force_login(manager_of(shop.store_a))

    assert client.get(f"/admin/reports/exportjob/{job.pk}/status/").status_code == 404
    assert client.get(f"/admin/reports/exportjob/{job.pk}/download/").status_code == 404


def test_failed_job_says_why(shop, manager_of, monkeypatch):
    job = ExportJob.objects.create(
        user=manager_of(role="Head office"), what="orders", filters={**MARCH_QUERY}, file_format="csv"
    )

    def broken(*args, **kwargs):
        raise OSError("No space left on device")

    monkeypatch.setattr(services, "write_rows", broken)
    job = services.export_job_run(job_id=job.pk)

    assert job.status == ExportStatus.FAILED
    assert "No space left on device" in job.error
    assert job.finished_at is not None


def test_job_of_a_user_who_lost_the_permission_fails(shop, manager_of):
    job = ExportJob.objects.create(
        user=manager_of(shop.store_a, role="Store staff"), what="orders", filters={}, file_format="csv"
    )

    job = services.export_job_run(job_id=job.pk)

    assert job.status == ExportStatus.FAILED
    assert "may no longer export" in job.error


def test_job_with_a_store_the_user_no_longer_sees_fails(shop, manager_of):
    job = ExportJob.objects.create(
        user=manager_of(shop.store_a), what="orders", filters={"store": shop.store_b.pk}, file_format="csv"
    )

    job = services.export_job_run(job_id=job.pk)

    assert job.status == ExportStatus.FAILED
    assert "store" in job.error


def test_old_exports_are_deleted_with_their_files(shop, manager_of, media):
    user = manager_of(role="Head office")
    old = services.export_job_run(
        job_id=ExportJob.objects.create(user=user, what="stock", filters={}, file_format="csv").pk
    )
    recent = ExportJob.objects.create(user=user, what="stock", filters={}, file_format="csv")
    ExportJob.objects.filter(pk=old.pk).update(created_at=timezone.now() - datetime.timedelta(days=8))
    path = old.file.path

    from omni.reports.tasks import delete_old_exports

    assert delete_old_exports() == 1

    assert not ExportJob.objects.filter(pk=old.pk).exists()
    assert ExportJob.objects.filter(pk=recent.pk).exists()
    import os

    assert not os.path.exists(path)


def test_write_rows_keeps_memory_flat_by_streaming(shop):
    """The writer takes an iterator: rows are never gathered in a list."""
    resource, rows = services.export_source("orders", march())
    seen = []

    def rows_once():
        for row in services.iter_rows(rows, 2):
            seen.append(row.pk)
            yield row

    buffer = io.BytesIO()
    count = services.write_rows(resource, rows_once(), "csv", buffer, progress=lambda done: None, every=2)
    assert count == len(seen) == 8


def test_export_jobs_list_shows_own_jobs_with_progress_and_errors(client, shop, manager_of):
    user = manager_of(shop.store_a)
    done = services.export_job_run(
        job_id=ExportJob.objects.create(user=user, what="stock", filters={}, file_format="csv").pk
    )
    ExportJob.objects.create(
        user=user, what="orders", filters={}, file_format="xlsx", status="failed", error="Disk full."
    )
    ExportJob.objects.create(user=manager_of(shop.store_b), what="ledger", filters={}, file_format="csv")
    client.force_login(user)

    response = client.get("/admin/reports/exportjob/")

    assert response.status_code == 200
    html = response.content.decode()
    assert f"/admin/reports/exportjob/{done.pk}/download/" in html
    assert "Disk full." in html
    assert [job.what for job in response.context["cl"].result_list] == ["orders", "stock"]


def test_store_manager_exports_the_customers_of_their_store(client, shop, manager_of):
    client.force_login(manager_of(shop.store_a))

    response = client.get(EXPORT, {**MARCH_QUERY, "what": "customers", "format": "csv"})

    ids = {int(row[0]) for row in read_csv(response.content)[1:]}
    c1, _c2, _c3, c4 = shop.customers
    assert ids == {c1.pk, c4.pk}  # they bought at store A; c2 and c3 bought elsewhere


def test_an_xlsx_export_longer_than_a_sheet_is_refused_and_csv_offered(client, shop, manager_of, monkeypatch):
    # given a sheet that holds 7 rows, and 8 order lines in March
    monkeypatch.setattr(services.xlsx, "MAX_DATA_ROWS", 7)
    client.force_login(manager_of(role="Head office"))

    # when the lines are exported to XLSX, then to CSV
    refused = client.get(EXPORT, {**MARCH_QUERY, "what": "orders", "format": "xlsx"}, follow=True)
    written = client.get(EXPORT, {**MARCH_QUERY, "what": "orders", "format": "csv"})

    # then the XLSX export is refused with the reason, and nothing is started; CSV has every line
    assert "An Excel sheet holds at most 7 rows and this export has 8. Export to CSV" in refused.content.decode()
    assert not ExportJob.objects.exists()
    assert len(read_csv(written.content)) == 9


def test_an_xlsx_job_whose_rows_outgrew_a_sheet_fails_and_says_why(shop, manager_of, monkeypatch):
    # given an XLSX job started when it fitted, and a sheet now shorter than its rows
    job = ExportJob.objects.create(
        user=manager_of(role="Head office"), what="orders", filters={**MARCH_QUERY}, file_format="xlsx"
    )
    monkeypatch.setattr(services.xlsx, "MAX_DATA_ROWS", 7)

    # when it runs
    job = services.export_job_run(job_id=job.pk)

    # then it fails with the reason, and no file is kept
    assert job.status == ExportStatus.FAILED
    assert "holds at most 7 rows and this export has 8" in job.error
    assert not job.file
