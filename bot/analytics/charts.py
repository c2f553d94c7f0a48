"""Chart geometry for the analytics page, drawn by the template as inline SVG.

Why server-side SVG and not a JavaScript chart library: the page works without scripts and without any
CDN or npm step, the charts are in the HTML the tests read (and in the CSV's numbers), and four chart
kinds (stacked bars per day, a line, horizontal bars) are a few rectangles each. Every bar has a <title>
tooltip; the template adds a table with the same numbers beside each chart for screen readers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date

WIDTH, HEIGHT = 720, 220
LEFT, RIGHT, TOP, BOTTOM = 44, 8, 10, 28
HBAR_LEFT = 180  # room for the labels of horizontal bars ("Kunde möchte einen Menschen")


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float
    css: str
    title: str


@dataclass(frozen=True)
class Tick:
    at: float
    text: str


@dataclass
class Chart:
    width: int = WIDTH
    height: int = HEIGHT
    groups: list[tuple[str, list[Rect]]] = field(default_factory=list)
    """One group per bar (a day): its key and its stacked segments."""
    x_ticks: list[Tick] = field(default_factory=list)
    y_ticks: list[Tick] = field(default_factory=list)
    points: list[tuple[float, float, str]] = field(default_factory=list)
    """Line charts: (x, y, tooltip) per point with a value."""

    @property
    def polyline(self) -> str:
        return " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in self.points)


def nice_max(value: float) -> float:
    """A round upper end for the y axis: 1, 2, 5 × 10ⁿ at or above `value`."""
    if value <= 0:
        return 1
    magnitude = 10 ** math.floor(math.log10(value))
    return next(step * magnitude for step in (1, 2, 5, 10) if step * magnitude >= value)


def day_label(day: date) -> str:
    return day.strftime("%d.%m.")


def x_ticks(days: list[date], slot: float, width: int) -> list[Tick]:
    every = max(1, math.ceil(len(days) / (width // 70)))  # labels ~70 units apart
    return [Tick(LEFT + i * slot + slot / 2, day_label(day)) for i, day in enumerate(days) if i % every == 0]


def y_ticks(top: float, scale: float) -> list[Tick]:
    return [Tick(HEIGHT - BOTTOM - top * f * scale, f"{top * f:g}") for f in (0, 0.5, 1)]


def stacked_bars(
    days: list[date], series: dict[str, list[int]], unit: str, width: int = WIDTH, names: dict[str, str] | None = None
) -> Chart:
    """One bar per day, a segment per series (channel); tooltips say day, series (its name in `names`) and count."""
    plot_height = HEIGHT - TOP - BOTTOM
    slot = (width - LEFT - RIGHT) / max(len(days), 1)
    totals = [sum(values[i] for values in series.values()) for i in range(len(days))]
    top = nice_max(max(totals, default=0))
    scale = plot_height / top
    chart = Chart(width=width, x_ticks=x_ticks(days, slot, width), y_ticks=y_ticks(top, scale))
    for i, day in enumerate(days):
        y = HEIGHT - BOTTOM
        segments = []
        for name, values in series.items():
            height = values[i] * scale
            y -= height
            title = f"{day_label(day)} {(names or {}).get(name, name)}: {values[i]} {unit}"
            segments.append(Rect(LEFT + i * slot + slot * 0.15, y, slot * 0.7, height, f"series-{name}", title))
        chart.groups.append((day.isoformat(), segments))
    return chart


def line(
    days: list[date], values: list[float | None], low: float, high: float, label: str, width: int = WIDTH
) -> Chart:
    """A line through the days with a value (gaps are skipped), on a fixed axis [low, high]."""
    plot_height = HEIGHT - TOP - BOTTOM
    slot = (width - LEFT - RIGHT) / max(len(days), 1)
    scale = plot_height / (high - low)
    chart = Chart(width=width, x_ticks=x_ticks(days, slot, width))
    chart.y_ticks = [Tick(HEIGHT - BOTTOM - (v - low) * scale, f"{v:g}") for v in range(int(low), int(high) + 1)]
    for i, (day, value) in enumerate(zip(days, values, strict=True)):
        if value is not None:
            x, y = LEFT + i * slot + slot / 2, HEIGHT - BOTTOM - (value - low) * scale
            chart.points.append((x, y, f"{day_label(day)}: {label} {value:.2f}".replace(".", ",")))
    return chart


def horizontal_bars(items: list[tuple[str, int]], unit: str, width: int = 420) -> Chart:
    """One bar per item (handoff reasons, scores), longest = full width; the label sits left of the bar."""
    row = 24
    left = HBAR_LEFT
    chart = Chart(width=width, height=max(len(items), 1) * row + 8)
    top = max((value for _, value in items), default=0) or 1
    for i, (name, value) in enumerate(items):
        length = (width - left - 40) * value / top
        rect = Rect(left, 4 + i * row, length, row - 8, "series-bar", f"{name}: {value} {unit}")
        chart.groups.append((name, [rect]))
        chart.y_ticks.append(Tick(4 + i * row + (row - 8) / 2, name))
    return chart
