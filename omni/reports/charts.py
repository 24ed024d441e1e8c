"""Line and bar charts as inline SVG, drawn on the server: no script, no CDN, no network.

Bars lie horizontally, one line each, so that a store's or a product's name has room on the left
(a name too long is cut with "…" and shown whole on hover) and the value is written at the right.
The line chart's axis is rounded to a readable top (``3 000``, ``1,5 млн``). Every point or bar
carries a ``<title>`` with its label and value, shown on hover; the table next to the chart holds
the same figures. Numbers are written for the active language (``omni.core.formats``).
"""

import datetime
from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from omni.core import formats

WIDTH, HEIGHT = 520, 220
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 64, 16, 12, 40
COLOUR = "#417690"
# Horizontal bars: the label column, the value column, one line per bar.
LABEL_W, VALUE_W, BAR_LINE, BAR_PAD = 200, 96, 24, 8
# About this many characters of an 11-px label (Cyrillic is wide) fit in the label column.
LABEL_CHARS = 26


def _number(value) -> float:
    if value is None:
        return 0.0
    return float(Decimal(value))


def _label(value) -> str:
    if isinstance(value, datetime.date):
        return formats.format_day_short(value)
    return "" if value is None else str(value)


def _value(value) -> str:
    return formats.format_number(value)


def _cut(text: str, chars: int) -> str:
    return text if len(text) <= chars else text[: chars - 1].rstrip() + "…"


def nice_top(value: float) -> float:
    """The smallest of 1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × 10ⁿ at or above ``value``: an axis people
    read at a glance (its middle line is a round number too)."""
    if value <= 0:
        return 1.0
    scale = 10 ** (len(str(int(value))) - 1) if value >= 1 else 1
    for step in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if step * scale >= value:
            return step * scale
    return 10 * scale


def _axis(top: float) -> str:
    """Horizontal grid lines with their values at 0, ½ and the top."""
    parts = []
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    for share in (0, 0.5, 1):
        y = PAD_TOP + plot_h * (1 - share)
        parts.append(
            f'<line x1="{PAD_LEFT}" y1="{y:.1f}" x2="{WIDTH - PAD_RIGHT}" y2="{y:.1f}" stroke="#ccc" stroke-width="1"/>'
            f'<text x="{PAD_LEFT - 4}" y="{y + 4:.1f}" text-anchor="end" font-size="10" fill="#666">'
            f"{escape(formats.format_compact(Decimal(str(top * share))))}</text>"
        )
    return "".join(parts)


def _svg(title: str, body: str, height: int = HEIGHT) -> SafeString:
    return mark_safe(
        f'<svg class="report-chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title>{body}</svg>"
    )


def bar_chart(title: str, items: list[tuple[object, object]]) -> SafeString:
    """Horizontal bars, one line per (label, value): the label left, the value right."""
    values = [_number(value) for _label_text, value in items]
    top = max([*values, 0.0]) or 1.0
    bar_area = WIDTH - LABEL_W - VALUE_W - BAR_PAD
    height = BAR_PAD * 2 + BAR_LINE * max(len(items), 1)
    parts = []
    for index, ((label, raw), value) in enumerate(zip(items, values, strict=True)):
        y = BAR_PAD + index * BAR_LINE
        text, shown = _label(label), _value(raw)
        width = bar_area * max(value, 0) / top
        parts.append(
            f"<g><title>{escape(f'{text}: {shown}')}</title>"
            f'<text x="{LABEL_W - 6}" y="{y + 16}" text-anchor="end" font-size="11" fill="#333">'
            f"{escape(_cut(text, LABEL_CHARS))}</text>"
            f'<rect x="{LABEL_W}" y="{y + 4}" width="{width:.1f}" height="{BAR_LINE - 8}" fill="{COLOUR}"/>'
            f'<text x="{WIDTH - 4}" y="{y + 16}" text-anchor="end" font-size="11" fill="#333">{escape(shown)}</text>'
            "</g>"
        )
    return _svg(title, "".join(parts), height)


def line_chart(title: str, items: list[tuple[object, object]]) -> SafeString:
    """A line through (label, value) points, in order, with a dot per point."""
    values = [_number(value) for _label_text, value in items]
    top = nice_top(max([*values, 0.0]))
    plot_w = WIDTH - PAD_LEFT - PAD_RIGHT
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    step = plot_w / max(len(items) - 1, 1)
    points = [
        (PAD_LEFT + index * step, PAD_TOP + plot_h * (1 - max(value, 0) / top)) for index, value in enumerate(values)
    ]
    parts = [_axis(top)]
    if points:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{COLOUR}" stroke-width="2"/>')
    every = max(-(-len(items) // 6), 1)  # about six labels under the axis
    for index, ((label, raw), (x, y)) in enumerate(zip(items, points, strict=True)):
        text = escape(f"{_label(label)}: {_value(raw)}")
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{COLOUR}"><title>{text}</title></circle>')
        if index % every == 0:
            parts.append(
                f'<text x="{x:.1f}" y="{HEIGHT - PAD_BOTTOM + 16}" text-anchor="middle" font-size="10" fill="#333">'
                f"{escape(_cut(_label(label), 14))}</text>"
            )
    return _svg(title, "".join(parts))


def chart_for(table) -> SafeString | None:
    """The chart a report table asks for (``Table.chart``), or None when it has no figure to draw."""
    if not table.chart or not table.rows:
        return None
    kind, label_key, value_key = table.chart
    items = [(row.get(label_key), row.get(value_key)) for row in table.rows]
    if not any(_number(value) > 0 for _label_text, value in items):
        return None
    column = next((c.label for c in table.columns if c.key == value_key), value_key)
    title = f"{table.title}: {column}"
    return line_chart(title, items) if kind == "line" else bar_chart(title, items)
