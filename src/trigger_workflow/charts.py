"""Horizontal bar charts drawn on the server as accessible inline SVG (no script, no styles).

A chart is an image with a title and a description (``role="img"``, ``aria-labelledby``); each
bar carries its value as text at its end, so no colour is needed to read it, and the page gives
the same numbers in a table. Only presentation attributes are used, never ``style``: the pages'
Content-Security-Policy (``style-src 'self'``) allows them, and WeasyPrint draws them in a PDF.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 640
LABELS = 150  # the column of bar labels, left of the bars
ENDS = 140  # room right of the longest bar for its value
BAR = 20
GAP = 6
HEADING = 24  # a group's heading line
TOP = 36  # the category axis's label
AXIS = 52  # tick values and the value axis's label, under the bars
FONT = "Arial, Helvetica, sans-serif"
BLUE = "#1d70b8"  # GOV.UK blue: 5.2:1 against white (WCAG 1.4.11 asks 3:1)
INK = "#0b0c0c"
GRID = "#b1b4b6"


@dataclass(frozen=True)
class Bar:
    """One bar: its label, its value (None: nothing to draw) and the text said at its end."""

    label: str
    value: float | None
    text: str


@dataclass(frozen=True)
class Group:
    """Bars drawn together under a heading ("" for none)."""

    heading: str
    bars: list[Bar]


@dataclass(frozen=True)
class Axes:
    """What the bars' labels are (left) and what the values are (along the bottom)."""

    categories: str
    values: str
    percent: bool = False  # values from 0 to 1, the ticks in per cent


def bar_chart(ident: str, title: str, description: str, axes: Axes, groups: list[Group]) -> Markup:
    """Return an inline SVG horizontal bar chart; `ident` makes its element ids unique."""
    ticks = _ticks(axes, [b.value for g in groups for b in g.bars if b.value is not None])
    top, scale = ticks[-1] or 1, WIDTH - LABELS - ENDS
    parts, y = [], TOP
    for group in groups:
        if group.heading:  # on white, over the grid's lines
            parts.append(f'<rect x="0" y="{y}" width="{WIDTH}" height="{HEADING}" fill="#ffffff"/>')
            parts.append(_text(8, y + 16, group.heading, weight="bold"))
            y += HEADING
        for bar in group.bars:
            length = 0.0 if bar.value is None else scale * bar.value / top
            parts.append(_text(LABELS - 8, y + 15, bar.label, anchor="end"))
            if length > 0:
                parts.append(
                    f'<rect x="{LABELS}" y="{y}" width="{length:.1f}" height="{BAR}" fill="{BLUE}"/>'
                )
            parts.append(_text(LABELS + length + 6, y + 15, bar.text))
            y += BAR + GAP
    bottom = y + 4
    grid = [f'<line x1="{LABELS}" y1="{TOP - 4}" x2="{LABELS}" y2="{bottom}" stroke="{INK}"/>']
    for tick in ticks:
        x = LABELS + scale * tick / top
        grid.insert(
            0, f'<line x1="{x:.1f}" y1="{TOP - 4}" x2="{x:.1f}" y2="{bottom}" stroke="{GRID}"/>'
        )
        grid.append(_text(x, bottom + 18, _tick_text(tick, axes.percent), anchor="middle"))
    height = bottom + AXIS
    labels = [
        _text(8, TOP - 12, axes.categories, weight="bold"),
        _text(LABELS + scale / 2, height - 8, axes.values, anchor="middle", weight="bold"),
    ]
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="tw-chart" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" role="img" '
        f'aria-labelledby="{ident}-title {ident}-desc" font-family="{FONT}" font-size="14" '
        f'fill="{INK}"><title id="{ident}-title">{escape(title)}</title>'
        f'<desc id="{ident}-desc">{escape(description)}</desc>'
        + "".join(grid + parts + labels)
        + "</svg>"
    )


def _ticks(axes: Axes, values: list[float]) -> list[float]:
    """Return the value axis's ticks from 0: quarters of 100% for shares, else round steps."""
    if axes.percent:
        return [0, 0.25, 0.5, 0.75, 1]
    most = max(values, default=0) or 1
    step = 10 ** math.floor(math.log10(most))
    for multiple in (1, 2, 5, 10):
        if most / (step * multiple) <= 5:
            step *= multiple
            break
    step = max(step, 1)  # counts: whole numbers
    return [step * n for n in range(math.ceil(most / step) + 1)]


def _tick_text(tick: float, percent: bool) -> str:
    return f"{tick * 100:.0f}%" if percent else f"{tick:g}"


def _text(x: float, y: float, words: str, anchor: str = "start", weight: str = "normal") -> str:
    bold = ' font-weight="bold"' if weight == "bold" else ""
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"{bold}>{escape(words)}</text>'
