"""Bar charts drawn on the server as SVG geometry (no script, no inline style: the CSP holds)."""

from __future__ import annotations

from dataclasses import dataclass

#: The drawing's size in SVG user units (it scales with the page through its viewBox).
WIDTH, HEIGHT = 640, 240
#: Room under the bars for their labels, and above the tallest for its value.
LABEL_ROOM, VALUE_ROOM = 24, 20
GAP = 0.25  # share of each slot left empty between bars


@dataclass(frozen=True)
class Bar:
    """One bar: its label and value, and where it is drawn."""

    label: str
    value: int
    x: float
    y: float
    width: float
    height: float

    @property
    def middle(self) -> float:
        """The horizontal middle of the bar (where its label and value are written)."""
        return self.x + self.width / 2


@dataclass(frozen=True)
class BarChart:
    """The bars of a chart, in the coordinates of a ``WIDTH`` x ``HEIGHT`` viewBox."""

    bars: list[Bar]
    width: int = WIDTH
    height: int = HEIGHT
    baseline: float = HEIGHT - LABEL_ROOM


def bars(values: list[tuple[str, int]]) -> BarChart:
    """Lay out one bar per (label, value), heights proportional to the largest value."""
    if not values:
        return BarChart(bars=[])
    top = max(1, *(v for _, v in values))
    slot = WIDTH / len(values)
    room = HEIGHT - LABEL_ROOM - VALUE_ROOM
    laid = []
    for index, (label, value) in enumerate(values):
        height = room * value / top
        laid.append(
            Bar(
                label=label,
                value=value,
                x=index * slot + slot * GAP / 2,
                y=HEIGHT - LABEL_ROOM - height,
                width=slot * (1 - GAP),
                height=height,
            )
        )
    return BarChart(bars=laid)
