"""An XLSX workbook of one sheet, streamed row by row into its zip.

XlsxWriter in constant-memory mode spent four fifths of an export's time building each cell's
XML through its generic cell machinery (``bench/exports.py``). Here a row's XML is one
f-string per cell, chosen per column once, and goes straight into the sheet's zip entry, so
memory stays flat however many rows there are. What it writes is what XlsxWriter wrote in that
mode: inline strings, numbers as numbers, dates and moments as serial numbers with a date
format, nothing for an empty value, and the fixed parts a spreadsheet needs to open the file.
"""

import datetime
import itertools
import math
import re
import zipfile
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from xml.sax.saxutils import escape, quoteattr

from django.utils import timezone

from omni.reports.exports import columns

# A sheet's last row (Excel's limit), the column names' row included. An export with more rows is
# refused before it starts (``omni.reports.exports.services``); rows past it are never written.
MAX_ROWS = 1_048_576
MAX_DATA_ROWS = MAX_ROWS - 1
MAX_TEXT = 32_767
# The cell styles of ``_STYLES``: 1 a moment, 2 a day, 3 a column's name (bold).
MOMENT_STYLE, DAY_STYLE, HEADER_STYLE = 1, 2, 3
# Column widths, in characters: wide enough for a moment, a day or a figure, and for text as long
# as the first row's (within bounds), so that nothing shows as "###" when the file is opened.
_WIDTHS = {columns.MOMENT: 20, columns.DATE: 12, columns.INTEGER: 12, columns.DECIMAL: 12}
_MIN_WIDTH, _MAX_WIDTH = 12, 50
# The first row (the columns' names) stays in view while scrolling.
_FROZEN_HEADER = (
    '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" '
    'state="frozen"/><selection pane="bottomLeft"/></sheetView></sheetViews>'
)

_ILLEGAL_XML = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")
# Text that reads as an escape (``_x0041_``) is escaped itself, or a spreadsheet would decode it.
_ESCAPE_LIKE = re.compile(r"(_x[0-9a-fA-F]{4}_)")
_EPOCH = datetime.datetime(1899, 12, 30)
_DAY_EPOCH = _EPOCH.date()
# Serial 60 is the 29th of February 1900, which never was: earlier days are written as text.
_FIRST_DAY = datetime.date(1900, 3, 1)
_FIRST_MOMENT = datetime.datetime.combine(_FIRST_DAY, datetime.time())
_ONE_DAY = datetime.timedelta(days=1)
_FLUSH_ROWS = 500

_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELATIONSHIPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PACKAGE_RELATIONSHIPS = "http://schemas.openxmlformats.org/package/2006/relationships"

_CONTENT_TYPES = (
    _XML + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    f'{_XML}<Relationships xmlns="{_PACKAGE_RELATIONSHIPS}">'
    f'<Relationship Id="rId1" Type="{_RELATIONSHIPS}/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
_WORKBOOK_RELS = (
    f'{_XML}<Relationships xmlns="{_PACKAGE_RELATIONSHIPS}">'
    f'<Relationship Id="rId1" Type="{_RELATIONSHIPS}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{_RELATIONSHIPS}/styles" Target="styles.xml"/>'
    "</Relationships>"
)
_STYLES = (
    f'{_XML}<styleSheet xmlns="{_MAIN}">'
    '<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy-mm-dd hh:mm:ss"/>'
    '<numFmt numFmtId="165" formatCode="yyyy-mm-dd"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


def xlsx_write(
    rows: Iterable[Sequence],
    target,
    *,
    header: Sequence[str],
    title: str,
    kinds: Sequence[str] | None = None,
    progress: Callable[[int], None] | None = None,
    every: int = 2000,
) -> int:
    """Write ``header`` and ``rows`` as the one sheet, named ``title``, of an XLSX workbook to
    ``target`` (a path or a binary file). ``kinds``: a plain column's kind each
    (``omni.reports.exports.columns``), when known, picks each column's cell writer once; any
    value is written by its type otherwise. Returns the number of rows written."""
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as package:
        package.writestr("[Content_Types].xml", _CONTENT_TYPES)
        package.writestr("_rels/.rels", _ROOT_RELS)
        package.writestr("xl/workbook.xml", _workbook(title))
        package.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        package.writestr("xl/styles.xml", _STYLES)
        with package.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            return _write_sheet(sheet, rows, header, kinds, progress, every)


def _workbook(title: str) -> str:
    name = re.sub(r"[\\/*?:\[\]]", "-", title)[:31].strip("'") or "export"
    return (
        f'{_XML}<workbook xmlns="{_MAIN}" xmlns:r="{_RELATIONSHIPS}">'
        f"<bookViews><workbookView/></bookViews>"
        f'<sheets><sheet name={quoteattr(name)} sheetId="1" r:id="rId1"/></sheets></workbook>'
    )


def _write_sheet(sheet, rows, header, kinds, progress, every) -> int:
    rows = iter(rows)
    first = next(rows, None)  # the columns' widths are written before the rows
    names = [str(name) for name in header]
    letters = _column_letters(len(names))
    sheet.write(
        f'{_XML}<worksheet xmlns="{_MAIN}">{_FROZEN_HEADER}{_columns(names, first, kinds)}<sheetData>'
        f"{_header_row(names, letters)}".encode()
    )
    if first is not None:
        rows = itertools.chain([first], rows)
    count = 0
    writers = _cell_writers(timezone.get_current_timezone())
    write_any = writers[None]
    by_column: list | None = None
    pending: list[str] = []
    for count, row in enumerate(rows, start=1):
        if count >= MAX_ROWS:
            count -= 1
            break
        if by_column is None:
            letters = _column_letters(len(row))
            by_column = [writers.get(kind, write_any) for kind in kinds] if kinds else [write_any] * len(row)
        pending.append(_row_xml(count + 1, row, letters, by_column))
        if count % _FLUSH_ROWS == 0:
            sheet.write("".join(pending).encode())
            pending.clear()
        if progress and count % every == 0:
            progress(count)
    sheet.write(("".join(pending) + "</sheetData></worksheet>").encode())
    return count


def _row_xml(number: int, values, letters, writers) -> str:
    cells = "".join(
        writer(f"{letter}{number}", value)
        for letter, writer, value in zip(letters, writers, values, strict=False)
        if value is not None and value != ""
    )
    return f'<row r="{number}">{cells}</row>'


def _header_row(names: Sequence[str], letters: Sequence[str]) -> str:
    cells = "".join(
        _text_cell(f"{letter}1", name, style=HEADER_STYLE) for letter, name in zip(letters, names, strict=True)
    )
    return f'<row r="1">{cells}</row>'


def _columns(names: Sequence[str], first: Sequence | None, kinds: Sequence[str] | None) -> str:
    """Each column's width: its kind's (known, or of the first row's value), else as long as the
    first row's text, and never narrower than its name."""
    if not names:
        return ""
    values = list(first or ())
    widths = []
    for index, name in enumerate(names):
        value = values[index] if index < len(values) else None
        width = _WIDTHS.get(kinds[index] if kinds else _kind_of(value))
        if width is None:
            width = len(str(value)) + 1 if value is not None else 0
        widths.append(min(max(width, len(name) + 2, _MIN_WIDTH), _MAX_WIDTH))
    cols = "".join(
        f'<col min="{n}" max="{n}" width="{width}" customWidth="1"/>' for n, width in enumerate(widths, start=1)
    )
    return f"<cols>{cols}</cols>"


def _kind_of(value) -> str:
    if isinstance(value, datetime.datetime):
        return columns.MOMENT
    if isinstance(value, datetime.date):
        return columns.DATE
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return columns.DECIMAL
    return columns.TEXT


def _column_letters(count: int) -> list[str]:
    letters = []
    for index in range(count):
        name = ""
        index += 1
        while index:
            index, rest = divmod(index - 1, 26)
            name = chr(65 + rest) + name
        letters.append(name)
    return letters


def _text_cell(ref: str, value: str, *, style: int | None = None) -> str:
    value = _ILLEGAL_XML.sub("", value[:MAX_TEXT])
    if "_x" in value:
        value = _ESCAPE_LIKE.sub(r"_x005F\1", value)
    space = ' xml:space="preserve"' if value[:1].isspace() or value[-1:].isspace() else ""
    styled = "" if style is None else f' s="{style}"'
    return f'<c r="{ref}"{styled} t="inlineStr"><is><t{space}>{escape(value)}</t></is></c>'


def _integer_cell(ref: str, value: int) -> str:
    return f'<c r="{ref}"><v>{value}</v></c>'


def _decimal_cell(ref: str, value: Decimal) -> str:
    if not value.is_finite():
        return _text_cell(ref, str(value))  # NaN has no number in a spreadsheet
    return f'<c r="{ref}"><v>{value}</v></c>'


def _float_cell(ref: str, value: float) -> str:
    if not math.isfinite(value):
        return _text_cell(ref, str(value))
    return f'<c r="{ref}"><v>{value!r}</v></c>'


def _day_cell(ref: str, value: datetime.date) -> str:
    if value < _FIRST_DAY:
        return _text_cell(ref, value.isoformat())
    return f'<c r="{ref}" s="{DAY_STYLE}"><v>{(value - _DAY_EPOCH).days}</v></c>'


def _cell_writers(zone) -> dict:
    """Each column kind's cell writer (None: any value, by its type), moments in ``zone``'s local
    time (a spreadsheet has no time zone)."""

    def moment(ref: str, value: datetime.datetime) -> str:
        if value.tzinfo is not None:
            value = value.astimezone(zone).replace(tzinfo=None)
        if value < _FIRST_MOMENT:
            return _text_cell(ref, value.isoformat(sep=" "))
        return f'<c r="{ref}" s="{MOMENT_STYLE}"><v>{(value - _EPOCH) / _ONE_DAY!r}</v></c>'

    def any_value(ref: str, value) -> str:
        if isinstance(value, str):
            return _text_cell(ref, value)
        if isinstance(value, bool):
            return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
        if isinstance(value, int):
            return _integer_cell(ref, value)
        if isinstance(value, Decimal):
            return _decimal_cell(ref, value)
        if isinstance(value, float):
            return _float_cell(ref, value)
        if isinstance(value, datetime.datetime):
            return moment(ref, value)
        if isinstance(value, datetime.date):
            return _day_cell(ref, value)
        return _text_cell(ref, str(value))

    return {
        None: any_value,
        columns.TEXT: _text_cell,
        columns.INTEGER: _integer_cell,
        columns.DECIMAL: _decimal_cell,
        columns.MOMENT: moment,
        columns.DATE: _day_cell,
    }
