"""The XLSX writer (``omni.reports.exports.xlsx``): what a spreadsheet reads back from it."""

import datetime
import io
import zipfile
from decimal import Decimal
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from django.utils import timezone

from omni.reports.exports import columns, xlsx

MOSCOW = ZoneInfo("Europe/Moscow")
MOMENT = datetime.datetime(2026, 3, 8, 9, 30, 15, tzinfo=datetime.UTC)


def written(rows, *, header=("a", "b", "c"), kinds=None, title="export") -> openpyxl.Workbook:
    target = io.BytesIO()
    with timezone.override(MOSCOW):
        count = xlsx.xlsx_write(rows, target, header=header, title=title, kinds=kinds)
    assert count == len(rows)
    return openpyxl.load_workbook(io.BytesIO(target.getvalue()))


def values(sheet) -> list[list]:
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


KINDS = [columns.TEXT, columns.INTEGER, columns.DECIMAL, columns.MOMENT, columns.DATE]


@pytest.mark.parametrize("kinds", [None, KINDS])
def test_numbers_dates_and_moments_stay_what_they_are(kinds):
    row = ("Кофе «Арабика»", 3, Decimal("1499.90"), MOMENT, datetime.date(2026, 3, 8))

    sheet = written([row], header=("name", "qty", "total", "at", "day"), kinds=kinds).active

    assert values(sheet) == [
        ["name", "qty", "total", "at", "day"],
        ["Кофе «Арабика»", 3, 1499.9, datetime.datetime(2026, 3, 8, 12, 30, 15), datetime.datetime(2026, 3, 8)],
    ]
    name, qty, total, at, day = sheet[2]
    assert (name.data_type, qty.data_type, total.data_type, at.data_type, day.data_type) == ("s", "n", "n", "d", "d")
    assert (at.number_format, day.number_format) == ("yyyy-mm-dd hh:mm:ss", "yyyy-mm-dd")


def test_text_keeps_what_xml_can_hold_and_drops_the_rest():
    tricky = ["<b>&amp;</b>", "  padded ", "bell\x07here", True, None, ""]

    sheet = written([tricky], header=list("abcdef")).active

    assert values(sheet)[1] == ["<b>&amp;</b>", "  padded ", "bellhere", True, None, None]


def test_text_that_reads_as_an_escape_is_escaped_itself():
    target = io.BytesIO()
    xlsx.xlsx_write([["_x0041_ stays"]], target, header=["a"], title="t")

    with zipfile.ZipFile(target) as package:
        sheet = package.read("xl/worksheets/sheet1.xml").decode()
    assert "<t>_x005F_x0041_ stays</t>" in sheet  # a spreadsheet shows "_x0041_ stays", not "A stays"


def test_what_a_spreadsheet_cannot_hold_as_a_number_is_written_as_text():
    row = (Decimal("NaN"), float("inf"), datetime.date(1899, 1, 1), "x" * 40_000)

    sheet = written([row], header=list("abcd")).active

    assert values(sheet)[1] == ["NaN", "inf", "1899-01-01", "x" * xlsx.MAX_TEXT]


def test_the_sheet_is_named_after_the_export_within_the_rules_of_a_sheet_name():
    book = written([], title="Продажи: март/апрель [2026] и ещё много слов")

    assert book.sheetnames == ["Продажи- март-апрель -2026- и е"]


def test_rows_past_the_last_row_of_a_sheet_are_not_written(monkeypatch):
    monkeypatch.setattr(xlsx, "MAX_ROWS", 4)  # the header and three rows
    target = io.BytesIO()

    count = xlsx.xlsx_write(([n] for n in range(10)), target, header=["n"], title="t")

    assert count == 3
    assert values(openpyxl.load_workbook(target).active) == [["n"], [0], [1], [2]]


def test_progress_is_reported_as_rows_are_written():
    seen = []

    xlsx.xlsx_write(([n] for n in range(5)), io.BytesIO(), header=["n"], title="t", progress=seen.append, every=2)

    assert seen == [2, 4]


def test_the_package_holds_the_parts_a_spreadsheet_needs():
    target = io.BytesIO()
    xlsx.xlsx_write([[1]], target, header=["n"], title="t")

    with zipfile.ZipFile(target) as package:
        assert package.testzip() is None
        assert sorted(package.namelist()) == [
            "[Content_Types].xml",
            "_rels/.rels",
            "xl/_rels/workbook.xml.rels",
            "xl/styles.xml",
            "xl/workbook.xml",
            "xl/worksheets/sheet1.xml",
        ]


def test_a_spreadsheet_opens_it_readable():
    row = ("S-000123", 3, Decimal("1499.90"), MOMENT, datetime.date(2026, 3, 8), "a long product name " * 5)

    sheet = written([row], header=("Заказ", "Кол-во", "Сумма", "Создан", "День", "Товар")).active

    assert [cell.font.b for cell in sheet[1]] == [True] * 6  # the columns' names in bold
    assert sheet.freeze_panes == "A2"  # and kept in view while scrolling
    widths = [sheet.column_dimensions[letter].width for letter in "ABCDEF"]
    assert widths == [12, 12, 12, 20, 12, 50]  # a moment is not shown as "###"; long text is capped


def test_a_column_empty_in_the_first_row_is_as_wide_as_its_kind():
    rows = [("S-1", None), ("S-2", MOMENT)]  # an order not completed yet, then one completed

    sheet = written(rows, header=("Заказ", "Завершён"), kinds=[columns.TEXT, columns.MOMENT]).active

    assert sheet.column_dimensions["B"].width == 20
