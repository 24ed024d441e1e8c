"""What an export file looks like: column names for people (in the user's language) or for
integrations, CSV that Excel opens (a byte order mark; ``;`` and a decimal comma for Excel in
Russian), XLSX that keeps numbers and dates as such; and the progress page of a large one."""

import csv
import io

import openpyxl
import pytest
from django.contrib.messages import get_messages
from django.utils import translation

from omni.reports.exports import services
from omni.reports.models import ExportJob, ExportStatus
from tests.reports.conftest import march

pytestmark = pytest.mark.django_db

EXPORT = "/admin/reports/dashboard/export/"
MARCH_QUERY = {"date_from": "2026-03-01", "date_to": "2026-03-31"}
API = "/api/v1/reports/orders.csv"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def head_office(client, manager_of):
    client.force_login(manager_of(role="Head office"))
    return client


def csv_rows(content: bytes, delimiter: str = ",") -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=delimiter))


def test_column_names_are_in_the_users_language(head_office, shop):
    response = head_office.get(EXPORT, {**MARCH_QUERY, "what": "orders", "format": "csv"}, HTTP_ACCEPT_LANGUAGE="ru")

    header = csv_rows(response.content)[0]
    assert header[:3] == ["Заказ", "Дата создания", "Дата завершения"]
    assert "Сумма строки" in header and "line_total" not in header


def test_integrations_ask_for_machine_names(head_office, shop):
    response = head_office.get(
        EXPORT, {**MARCH_QUERY, "what": "orders", "format": "csv", "headers": "names"}, HTTP_ACCEPT_LANGUAGE="ru"
    )

    header = csv_rows(response.content)[0]
    assert header[:3] == ["order", "created_at", "completed_at"] and "line_total" in header


def test_a_report_table_names_its_columns_by_their_keys_for_integrations(head_office, shop):
    response = head_office.get(
        EXPORT, {**MARCH_QUERY, "what": "report:sales_by_channel", "format": "csv", "headers": "names"}
    )

    assert csv_rows(response.content)[0] == ["label", "revenue", "orders", "average_check", "units", "items_per_order"]


def test_unknown_column_names_are_refused_with_a_message(head_office, shop):
    response = head_office.get(EXPORT, {**MARCH_QUERY, "what": "orders", "format": "csv", "headers": "fancy"})

    assert response.status_code == 302
    assert "Choose column names for people or for integrations." in [
        str(m) for m in get_messages(response.wsgi_request)
    ]


def test_csv_for_excel_in_russia_has_semicolons_a_bom_and_decimal_commas(head_office, shop):
    response = head_office.get(EXPORT, {**MARCH_QUERY, "what": "report:sales_by_channel", "format": "csv_ru"})

    assert response.status_code == 200
    assert response.content.startswith(b"\xef\xbb\xbf")
    assert 'filename="report-sales-by-channel-20260301-20260331.csv"' in response["Content-Disposition"]
    rows = csv_rows(response.content, delimiter=";")
    assert rows[0][:2] == ["Channel", "Revenue"]
    assert ["store", "250,00", "2", "125,00", "3", "1,50"] in rows


def test_xlsx_keeps_numbers_and_dates(head_office, shop):
    response = head_office.get(EXPORT, {**MARCH_QUERY, "what": "orders", "format": "xlsx", "headers": "names"})

    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    header = [cell.value for cell in sheet[1]]
    first = sheet[2]
    created, total, quantity = (first[header.index(name)] for name in ("created_at", "order_total", "quantity"))
    assert (created.data_type, total.data_type, quantity.data_type) == ("d", "n", "n")
    assert created.value.tzinfo is None  # local time: a spreadsheet has no time zones


def test_a_report_tables_days_are_dates_in_xlsx(head_office, shop):
    response = head_office.get(EXPORT, {**MARCH_QUERY, "what": "report:sales_by_period", "format": "xlsx"})

    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert [cell.value for cell in sheet[1]][:2] == ["Period", "Revenue"]
    assert sheet.max_row == 1 + 31  # every day, none folded
    assert (sheet["A2"].data_type, sheet["B2"].data_type) == ("d", "n")


def test_a_job_writes_the_column_names_in_the_language_it_was_asked_in(shop, manager_of, settings):
    settings.REPORTS_ASYNC_EXPORT_ROWS = 1
    with translation.override("ru"):
        content, job = services.export_start(
            user=manager_of(role="Head office"), what="orders", filters=march(), file_format="csv"
        )

    job = services.export_job_run(job_id=job.pk)  # the worker runs in the site's language

    assert content is None and (job.language, job.status) == ("ru", ExportStatus.DONE)
    with job.file.open("rb") as file:
        assert csv_rows(file.read())[0][0] == "Заказ"


def test_the_progress_page_shows_no_empty_error_box(head_office, shop, manager_of):
    user = head_office.get("/admin/").wsgi_request.user
    running = ExportJob.objects.create(user=user, what="orders", filters={}, file_format="csv")
    failed = ExportJob.objects.create(
        user=user, what="orders", filters={}, file_format="csv", status=ExportStatus.FAILED, error="Disk full."
    )

    quiet = head_office.get(f"/admin/reports/exportjob/{running.pk}/progress/").content.decode()
    loud = head_office.get(f"/admin/reports/exportjob/{failed.pk}/progress/").content.decode()

    # The admin's .errornote sets display, which would show an empty red box despite "hidden".
    assert '<p id="export-error" class="errornote" style="display: none"></p>' in quiet
    assert '<p id="export-error" class="errornote">Disk full.</p>' in loud


def api_rows(response, delimiter=","):
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig")), delimiter=delimiter))


def test_the_api_keeps_machine_names_and_no_bom_by_default(client_with_scopes, shop):
    response = client_with_scopes("reports:read").get(API, {**MARCH_QUERY}, HTTP_ACCEPT_LANGUAGE="ru")

    content = b"".join(response.streaming_content)
    assert not content.startswith(b"\xef\xbb\xbf")
    assert content.decode().split("\r\n")[0].startswith("order,created_at,")


def test_the_api_gives_names_for_people_and_excels_dialect_on_request(client_with_scopes, shop):
    response = client_with_scopes("reports:read").get(
        API, {**MARCH_QUERY, "headers": "labels", "dialect": "excel_ru"}, HTTP_ACCEPT_LANGUAGE="ru"
    )

    content = b"".join(response.streaming_content)
    assert content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:2] == ["Заказ", "Дата создания"]
    paid = rows[0].index("Оплачено по заказу")
    assert "150,00" in {row[paid] for row in rows[1:]}
