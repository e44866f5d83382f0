"""Server-rendered SVG bar charts: no JavaScript, crisp on paper (A4), readable on a phone.

Charts scale with their container (viewBox, width 100%); colours also differ in lightness so a
black-and-white printout still tells the bars apart. No inline styles (strict CSP).
"""
from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 680
LABEL_W = 190
VALUE_W = 110
BAR_W = WIDTH - LABEL_W - VALUE_W - 10
ROW_H = 26
TOP = 8
CURRENT = "#0b6bcb"
PREVIOUS = "#b8c4cf"
SEGMENT_COLOURS = ("#0b6bcb", "#c62828", "#6a1b9a", "#2e7d32")


@dataclass
class Bar:
    label: str
    segments: list[float]  # this month, stacked (one segment for a simple bar)
    previous: float | None = None  # the month before, drawn as a thin grey bar underneath
    text: str = ""  # the value printed at the bar's end


def _trim(label: str, limit: int = 14) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def bar_chart(bars: list[Bar], *, title: str, max_value: float | None = None, legend: list[str] | None = None,
              previous_label: str | None = None) -> Markup:
    """A horizontal bar chart; one row per bar, the previous month's value as a thin bar below; the
    legend (``legend`` then ``previous_label``) as an HTML list after the SVG."""
    peak = max_value or max([sum(b.segments) for b in bars] + [b.previous or 0 for b in bars] + [1])
    legend_items = list(legend or [])
    if previous_label:
        legend_items.append(previous_label)
    height = TOP + ROW_H * max(len(bars), 1) + 6
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {height}" '
        f'width="100%" role="img" aria-label="{escape(title)}" preserveAspectRatio="xMinYMin meet">',
        f"<title>{escape(title)}</title>",
    ]
    if not bars:
        out.append(f'<text x="{LABEL_W}" y="{TOP + 16}" font-size="13" fill="#5b6670">—</text>')
    for i, b in enumerate(bars):
        y = TOP + i * ROW_H
        out.append(
            f'<text x="{LABEL_W - 8}" y="{y + 13}" font-size="13" text-anchor="end" fill="#1b1f24">'
            f"{escape(_trim(b.label))}</text>"
        )
        # Grid line at 100 % of the scale so short bars still read against the full width.
        out.append(f'<rect x="{LABEL_W}" y="{y + 2}" width="{BAR_W}" height="13" fill="#f1f3f5"/>')
        x = float(LABEL_W)
        for j, seg in enumerate(b.segments):
            w = BAR_W * (seg / peak) if peak else 0
            if w > 0:
                out.append(
                    f'<rect x="{x:.1f}" y="{y + 2}" width="{w:.1f}" height="13" '
                    f'fill="{SEGMENT_COLOURS[j % len(SEGMENT_COLOURS)]}"/>'
                )
            x += w
        if b.previous is not None:
            w = BAR_W * (b.previous / peak) if peak else 0
            out.append(f'<rect x="{LABEL_W}" y="{y + 17}" width="{w:.1f}" height="5" fill="{PREVIOUS}"/>')
        out.append(
            f'<text x="{LABEL_W + BAR_W + 6}" y="{y + 13}" font-size="12" fill="#1b1f24">{escape(b.text)}</text>'
        )
    out.append("</svg>")
    if legend_items:
        # The legend is HTML below the drawing, so it wraps at the screen's width (a phone) instead
        # of running off the SVG's fixed width; colours by class (strict CSP: no inline styles).
        out.append('<ul class="chart-legend">')
        for j, name in enumerate(legend_items):
            swatch = "prev" if previous_label and j == len(legend_items) - 1 else str(j % len(SEGMENT_COLOURS))
            out.append(f'<li><span class="swatch swatch-{swatch}" aria-hidden="true"></span>{escape(name)}</li>')
        out.append("</ul>")
    return Markup("".join(out))
