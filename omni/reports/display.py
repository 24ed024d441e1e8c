"""The dashboard's tables as the page shows them: every cell written for people
(``omni.core.formats``), runs of days without sales folded into one line, and the chart."""

from django.utils.translation import gettext as _

from omni.core import formats
from omni.reports.charts import chart_for
from omni.reports.figures import Table

#: A run of at least this many rows without a figure is folded into one line.
FOLD_AT_LEAST = 2


def table_display(table: Table) -> dict:
    """A table for the dashboard's template: ``rows`` of ``{"cells": [(numeric, text)]}`` or of
    ``{"folded": text}`` for a run of empty days."""
    return {"table": table, "chart": chart_for(table), "rows": _display_rows(table)}


def _cells(table: Table, row: dict) -> list[tuple[bool, str]]:
    return [(column.numeric, formats.format_number(row.get(column.text_key or column.key))) for column in table.columns]


def _is_empty(table: Table, row: dict) -> bool:
    return not any(row.get(column.key) for column in table.columns if column.numeric)


def _display_rows(table: Table) -> list[dict]:
    if not table.fold_empty:
        return [{"cells": _cells(table, row)} for row in table.rows]
    shown: list[dict] = []
    run: list[dict] = []
    for row in [*table.rows, None]:
        if row is not None and _is_empty(table, row):
            run.append(row)
            continue
        if len(run) >= FOLD_AT_LEAST:
            shown.append({"folded": _folded_text(run)})
        else:
            shown += [{"cells": _cells(table, empty)} for empty in run]
        run = []
        if row is not None:
            shown.append({"cells": _cells(table, row)})
    return shown


def _folded_text(run: list[dict]) -> str:
    first, last = run[0], run[-1]
    if "first_day" in first:
        start, end = first["first_day"], last["last_day"]
        days = formats.format_days(start, end, year=start.year != end.year)
    else:
        days = f"{first.get('label')} – {last.get('label')}"
    return _("%(days)s: no sales") % {"days": days}
