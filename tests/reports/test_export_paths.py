"""The two ways a CSV export is written: by PostgreSQL's COPY (orders and returns on PostgreSQL)
and through the Resource a row at a time (SQLite, and the lists COPY does not fit). Each test of
the file's content runs on both paths; on PostgreSQL the two files are compared byte for byte."""

import csv
import io
from decimal import Decimal

import openpyxl
import pytest
from django.db import connection
from django.utils import translation

from omni.reports.exports import columns, kinds, services
from omni.reports.forms import filters_from_query
from omni.reports.models import ExportFormat, ExportJob, ExportStatus
from orders.models import Fulfilment, OrderStatus
from tests.inventory.factories import ProductFactory
from tests.reports.conftest import at, make_order, march

pytestmark = pytest.mark.django_db

MARCH = {"date_from": "2026-03-01", "date_to": "2026-03-31"}
TRICKY_NAME = 'Shirt, "red"; size\nXL — рубашка'


@pytest.fixture
def tricky(shop):
    """An order in March whose line's name needs quoting in either dialect, without a customer."""
    product = ProductFactory(sku="P3", name=TRICKY_NAME, price=Decimal("1234.50"))
    return make_order(
        "S-000010",
        channel="store",
        fulfilment=Fulfilment.IN_STORE,
        status=OrderStatus.SOLD,
        location=shop.store_a,
        lines=[(product, 1, 0, 0)],
        created=at(2026, 3, 30, 23, 59),
        completed_at=at(2026, 3, 30, 23, 59),
        paid="1234.50",
    )


@pytest.fixture(params=["copy", "stream"])
def path(request, monkeypatch):
    """Which writer writes the CSV: COPY (PostgreSQL only; checked that it did) or the Resource."""
    if request.param == "stream":
        monkeypatch.setattr(services, "csv_by_copy", lambda rows, columns: False)
        yield request.param
        return
    if connection.vendor != "postgresql":
        pytest.skip("COPY is PostgreSQL's")
    copied = []
    original = services.copy_csv

    def copy_csv(*args, **kwargs):
        copied.append(kwargs["header"])
        return original(*args, **kwargs)

    monkeypatch.setattr(services, "copy_csv", copy_csv)
    yield request.param
    assert copied, "the export did not go through COPY"


def export(user, what="orders", file_format="csv", headers="labels", language="ru", **filters) -> bytes:
    with translation.override(language):
        filters = filters_from_query({"date_from": "2026-03-01", "date_to": "2026-03-31", **filters}, user)
        content, job = services.export_start(
            user=user, what=what, filters=filters, file_format=file_format, headers=headers
        )
    assert job is None
    return content


def rows_of(content: bytes, delimiter=",") -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline=""), delimiter=delimiter))


def column(rows, name):
    index = rows[0].index(name)
    return [row[index] for row in rows[1:]]


def test_the_header_is_in_the_users_language_after_a_bom(path, shop, manager_of):
    content = export(manager_of(role="Head office"))

    assert content.startswith(b"\xef\xbb\xbf")
    header = rows_of(content)[0]
    assert header[:3] == ["Заказ", "Дата создания", "Дата завершения"] and header[-1] == "Сумма строки"


def test_integrations_get_machine_names(path, shop, manager_of):
    header = rows_of(export(manager_of(role="Head office"), headers="names"))[0]

    assert header[:3] == ["order", "created_at", "completed_at"] and header[-1] == "line_total"


def test_plain_csv_writes_numbers_with_a_point_and_local_times(path, shop, tricky, manager_of):
    rows = rows_of(export(manager_of(role="Head office"), headers="names"))

    s1 = dict(zip(rows[0], next(row for row in rows[1:] if row[0] == "S-000001"), strict=True))
    expected = {"created_at": "2026-03-05 12:00:00", "order_total": "200.00", "quantity": "2", "store": "a"}
    assert {name: s1[name] for name in expected} == expected  # Moscow time, as the order was placed
    s10 = next(row for row in rows[1:] if row[0] == "S-000010")
    named = dict(zip(rows[0], s10, strict=True))
    assert (named["name"], named["customer_id"], named["completed_at"]) == (TRICKY_NAME, "", "2026-03-30 23:59:00")
    assert named["unit_price"] == "1234.50"


def test_excel_in_russia_gets_semicolons_and_decimal_commas(path, shop, tricky, manager_of):
    content = export(manager_of(role="Head office"), file_format=ExportFormat.CSV_EXCEL_RU, headers="names")

    rows = rows_of(content, delimiter=";")
    assert content.startswith(b"\xef\xbb\xbf") and b";" in content.split(b"\r\n")[0]
    assert "1234,50" in column(rows, "unit_price") and "200,00" in column(rows, "order_total")
    assert "2026-03-05 12:00:00" in column(rows, "created_at")
    assert TRICKY_NAME in column(rows, "name")
    assert "" in column(rows, "completed_at")  # the expired order W-000004 never completed


def test_lines_end_as_csv_writers_end_them(path, shop, tricky, manager_of):
    content = export(manager_of(role="Head office"), headers="names")

    # Every record ends in CR LF; a line break inside a quoted name stays as it was typed.
    assert content.count(b"\r\n") == 1 + 9 and b"size\nXL" in content


def test_the_filters_and_the_users_stores_apply(path, shop, tricky, manager_of):
    site = rows_of(export(manager_of(role="Head office"), headers="names", channel="site"))
    store_a = rows_of(export(manager_of(shop.store_a), headers="names"))

    assert sorted(set(column(site, "order"))) == ["W-000002", "W-000004", "W-000005", "W-000008"]
    assert set(column(store_a, "order")) == {"S-000001", "W-000002", "S-000009", "S-000010"}


def test_returns_are_written_the_same_way(path, shop, manager_of):
    rows = rows_of(export(manager_of(role="Head office"), what="returns", headers="names", language="en"))

    assert rows[0][:3] == ["return", "at", "order"]
    assert rows[1][:3] == ["R-000001", "2026-03-12 12:00:00", "W-000002"] and column(rows, "amount") == ["50.00"]


def test_an_admin_list_export_goes_the_same_way(path, shop, manager_of):
    with translation.override("en"):
        content, _job = services.list_export_start(
            user=manager_of(role="Head office"),
            what="admin:orders",
            query="channel__exact=app",
            file_format="csv",
            headers="names",
        )

    rows = rows_of(content)
    assert [(row[0], row[11]) for row in rows[1:]] == [("A-000003", "P1"), ("A-000003", "P2")]


@pytest.mark.postgres
@pytest.mark.parametrize("what", ["orders", "returns"])
@pytest.mark.parametrize("file_format", [ExportFormat.CSV, ExportFormat.CSV_EXCEL_RU])
@pytest.mark.parametrize("headers", ["labels", "names"])
def test_copy_writes_the_same_file_as_the_resource(shop, tricky, manager_of, monkeypatch, what, file_format, headers):
    user = manager_of(role="Head office")
    by_copy = export(user, what=what, file_format=file_format, headers=headers)
    monkeypatch.setattr(services, "csv_by_copy", lambda rows, columns: False)

    by_resource = export(user, what=what, file_format=file_format, headers=headers)

    assert by_copy == by_resource and len(rows_of(by_copy)) > 1


def test_copy_applies_to_the_lists_of_plain_columns_only(shop):
    plain = {key for key, kind in kinds.LISTS.items() if columns.plain_columns(kind.resource(), kind.rows(march()))}

    # Customers (identities from a prefetch), stock (a computed "available"), the ledgers (who did it)
    # are computed in Python; report tables are not querysets.
    assert plain == {"orders", "returns"}


def test_xlsx_of_plain_columns_keeps_types_and_text_as_typed(shop, tricky, manager_of):
    content = export(manager_of(role="Head office"), file_format="xlsx", headers="names")

    rows = list(openpyxl.load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))
    named = dict(zip(rows[0], next(row for row in rows if row[0] == "S-000010"), strict=True))
    assert named["name"] == TRICKY_NAME and named["unit_price"] == 1234.5 and named["customer_id"] is None
    assert named["created_at"].isoformat() == "2026-03-30T23:59:00"


def test_a_job_records_its_rows_on_either_path(path, shop, tricky, manager_of, settings, tmp_path):
    # COPY holds the connection until it ends: progress in between would wait on it forever.
    settings.MEDIA_ROOT, settings.REPORTS_EXPORT_CHUNK_SIZE = tmp_path, 2
    job = ExportJob.objects.create(
        user=manager_of(role="Head office"), what="orders", filters={**MARCH}, file_format="csv", headers="names"
    )

    job = services.export_job_run(job_id=job.pk)

    assert (job.status, job.rows_done, job.rows_total) == (ExportStatus.DONE, 9, 9)
    with job.file.open("rb") as file:
        assert len(rows_of(file.read())) == 1 + 9
