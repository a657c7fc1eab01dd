"""Bar charts drawn on the server as plain SVG (no script, no library): the geometry is computed here, the
template only places the shapes. Each chart is shown with a table of the same numbers next to it."""

from dataclasses import dataclass

WIDTH = 300  # viewBox units; the SVG scales to the phone's width
BAR = 14
ROW = 40  # a label above each bar: long region names fit at 320 px
LABEL_Y = 14
LABEL_CHARS = 38  # what fits on one line of 12 px text in the viewBox; the table next to it has the whole name


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    total: int
    y: int  # top of the row
    width: float  # of the filled part

    @property
    def percent(self) -> int:
        return round(100 * self.value / self.total) if self.total else 0

    @property
    def label_y(self) -> int:
        return self.y + LABEL_Y

    @property
    def bar_y(self) -> int:
        return self.y + LABEL_Y + 6

    @property
    def short_label(self) -> str:
        return self.label if len(self.label) <= LABEL_CHARS else self.label[:LABEL_CHARS - 1].rstrip() + "…"

    @property
    def text(self) -> str:
        return f"{self.value} de {self.total} ({self.percent} %)"


@dataclass(frozen=True)
class Chart:
    key: str  # for the ids of its title and description
    title: str
    description: str
    bars: list[Bar]

    @property
    def height(self) -> int:
        return max(ROW, ROW * len(self.bars))

    @property
    def width(self) -> int:
        return WIDTH

    @property
    def bar_height(self) -> int:
        return BAR


def bars(key: str, title: str, rows: list[tuple[str, int, int]]) -> Chart:
    """``rows``: (label, value, total) — a bar filled in the share value/total."""
    drawn = [Bar(label, value, total, ROW * i, WIDTH * value / total if total else 0.0)
             for i, (label, value, total) in enumerate(rows)]
    description = "; ".join(f"{b.label}: {b.text}" for b in drawn) or "Sin datos todavía."
    return Chart(key, title, description, drawn)
