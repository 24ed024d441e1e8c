"""Line and bar charts as inline SVG, drawn on the server: no script, no CDN, no network.

Each point or bar carries a ``<title>`` with its label and value, shown on hover; the table next
to the chart holds the same figures.
"""

from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 520, 220
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 48, 12, 12, 48
COLOUR = "#417690"


def _number(value) -> float:
    if value is None:
        return 0.0
    return float(Decimal(value))


def _label(value) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _short(value: float) -> str:
    """An axis value in few characters: 12.9M, 850k, 42."""
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            return f"{value / limit:.1f}{suffix}"
    return f"{value:g}"


def _axis(top: float) -> str:
    """Horizontal grid lines with their values at 0, ½ and the top."""
    parts = []
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    for share in (0, 0.5, 1):
        y = PAD_TOP + plot_h * (1 - share)
        parts.append(
            f'<line x1="{PAD_LEFT}" y1="{y:.1f}" x2="{WIDTH - PAD_RIGHT}" y2="{y:.1f}" stroke="#ccc" stroke-width="1"/>'
            f'<text x="{PAD_LEFT - 4}" y="{y + 4:.1f}" text-anchor="end" font-size="10" fill="#666">'
            f"{escape(_short(round(top * share, 2)))}</text>"
        )
    return "".join(parts)


def _svg(title: str, body: str) -> SafeString:
    return mark_safe(
        f'<svg class="report-chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title>{body}</svg>"
    )


def bar_chart(title: str, items: list[tuple[str, object]]) -> SafeString:
    """Vertical bars, one per (label, value)."""
    values = [_number(value) for _label_text, value in items]
    top = max([*values, 0.0]) or 1.0
    plot_w = WIDTH - PAD_LEFT - PAD_RIGHT
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    step = plot_w / max(len(items), 1)
    bar_w = max(step * 0.7, 1)
    parts = [_axis(top)]
    for index, ((label, raw), value) in enumerate(zip(items, values, strict=True)):
        height = plot_h * max(value, 0) / top
        x = PAD_LEFT + index * step + (step - bar_w) / 2
        y = PAD_TOP + plot_h - height
        text = escape(f"{label}: {_label(raw) if raw is not None else '—'}")
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{height:.1f}" fill="{COLOUR}">'
            f"<title>{text}</title></rect>"
        )
        short = str(label)[:14]
        parts.append(
            f'<text x="{x + bar_w / 2:.1f}" y="{HEIGHT - PAD_BOTTOM + 14}" text-anchor="middle" font-size="10" '
            f'fill="#333">{escape(short)}</text>'
        )
    return _svg(title, "".join(parts))


def line_chart(title: str, items: list[tuple[str, object]]) -> SafeString:
    """A line through (label, value) points, in order, with a dot per point."""
    values = [_number(value) for _label_text, value in items]
    top = max([*values, 0.0]) or 1.0
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
        text = escape(f"{label}: {_label(raw) if raw is not None else '—'}")
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{COLOUR}"><title>{text}</title></circle>')
        if index % every == 0:
            parts.append(
                f'<text x="{x:.1f}" y="{HEIGHT - PAD_BOTTOM + 14}" text-anchor="middle" font-size="10" fill="#333">'
                f"{escape(str(label)[:10])}</text>"
            )
    return _svg(title, "".join(parts))


def chart_for(table) -> SafeString | None:
    """The chart a report table asks for (``Table.chart``), or None."""
    if not table.chart or not table.rows:
        return None
    kind, label_key, value_key = table.chart
    items = [(row.get(label_key), row.get(value_key)) for row in table.rows]
    column = next((c.label for c in table.columns if c.key == value_key), value_key)
    title = f"{table.title}: {column}"
    return line_chart(title, items) if kind == "line" else bar_chart(title, items)
