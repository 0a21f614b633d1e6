"""Bar charts as data for the SVG the templates draw: pure geometry, no I/O.

Every chart is drawn on the server (no JavaScript) and carries its own text
alternative: a title, a description that reads out every bar, and the data table
the template prints beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from markupsafe import Markup, escape

WIDTH = 640
LABEL_WIDTH = 260  # room for the option's label left of the bars
VALUE_ROOM = 70  # room for "100 %" right of the longest bar
BAR_HEIGHT = 18
BAR_GAP = 4
ROW_GAP = 12
TOP = 8
# Colours of the years (contrast ≥ 4.5:1 against white, told apart by the legend too).
PALETTE = ("#0b5c8a", "#b35900", "#2e7d32", "#6a1b9a", "#a4161a", "#37474f")
MAX_LABEL = 34  # about what 13 px text fits into LABEL_WIDTH


def percent(share: float | None) -> str:
    """A share as the whole per cent a publication prints, half up (0.275 → "28 %")."""
    if share is None:
        return "–"
    whole = (Decimal(str(share)) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return f"{whole}\u00a0%"


def decimal_de(value: float | None, places: int = 1) -> str:
    """A number with a decimal comma, half up, trailing zeros dropped (2.50 → "2,5")."""
    if value is None:
        return "–"
    rounded = Decimal(str(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    text = f"{rounded:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(".", ",")


def _shortened(label: str) -> str:
    return label if len(label) <= MAX_LABEL else label[: MAX_LABEL - 1].rstrip() + "…"


@dataclass(frozen=True)
class Bar:
    """One bar: a share of one series (a year, or the only one), where it is drawn."""

    series: str
    share: float | None
    y: float
    width: float
    text: str
    colour: str


@dataclass(frozen=True)
class BarRow:
    """The bars of one answer option."""

    label: str
    short_label: str
    y: float  # where the label's baseline is
    bars: tuple[Bar, ...]


@dataclass(frozen=True)
class Chart:
    """A horizontal bar chart of shares (0 … 1), one row per option, a bar per series."""

    chart_id: str
    title: str
    description: str
    series: tuple[tuple[str, str], ...]  # (name, colour) for the legend; empty for one series
    rows: tuple[BarRow, ...]
    width: int
    height: float
    label_width: int
    bar_height: int


def bar_chart(
    *,
    chart_id: str,
    title: str,
    rows: Sequence[tuple[str, Sequence[tuple[str, float | None]]]],
    missing_text: str = "nicht gefragt",
) -> Chart:
    """A chart of `rows`: (option label, [(series, share or None), ...]).

    A share of None is drawn as no bar with `missing_text` beside it (an option that
    was not offered in that year), never as 0 %.
    """
    names = list(dict.fromkeys(series for _, values in rows for series, _ in values))
    colours = {name: PALETTE[index % len(PALETTE)] for index, name in enumerate(names)}
    scale = WIDTH - LABEL_WIDTH - VALUE_ROOM
    drawn: list[BarRow] = []
    spoken: list[str] = []
    y = float(TOP)
    for label, values in rows:
        bars = []
        for index, (series, share) in enumerate(values):
            top = y + index * (BAR_HEIGHT + BAR_GAP)
            text = percent(share) if share is not None else missing_text
            width = max(0.0, min(1.0, share)) * scale if share is not None else 0.0
            bars.append(Bar(series, share, top, round(width, 1), text, colours[series]))
        said = [f"{bar.series}: {bar.text}" if bar.series else bar.text for bar in bars]
        spoken.append(f"{label}: {', '.join(said)}")
        drawn.append(BarRow(label, _shortened(label), y + BAR_HEIGHT * 0.75, tuple(bars)))
        y += len(values) * (BAR_HEIGHT + BAR_GAP) - BAR_GAP + ROW_GAP
    return Chart(
        chart_id=chart_id,
        title=title,
        description="; ".join(spoken) + ".",
        series=tuple((name, colours[name]) for name in names) if len(names) > 1 else (),
        rows=tuple(drawn),
        width=WIDTH,
        height=y - ROW_GAP + TOP,
        label_width=LABEL_WIDTH,
        bar_height=BAR_HEIGHT,
    )


def render_svg(chart: Chart) -> Markup:
    """The chart as inline SVG: role img, named by its title and described by its desc.

    Written here rather than in a template: a page has dozens of charts, and a template
    escapes every coordinate; here only the texts are escaped (the rest are numbers).
    """
    ident = escape(chart.chart_id)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" id="{ident}" '
        f'viewBox="0 0 {chart.width} {chart.height:g}" width="{chart.width}" '
        f'height="{chart.height:g}" aria-labelledby="{ident}-titel {ident}-beschreibung">',
        f'<title id="{ident}-titel">{escape(chart.title)}</title>',
        f'<desc id="{ident}-beschreibung">{escape(chart.description)}</desc>',
        f'<line x1="{chart.label_width}" y1="0" x2="{chart.label_width}" '
        f'y2="{chart.height:g}" stroke="#888" aria-hidden="true"/>',
    ]
    for row in chart.rows:
        parts.append(
            f'<g><text x="{chart.label_width - 8}" y="{row.y:g}" text-anchor="end">'
            f"{escape(row.short_label)}</text>"
        )
        for bar in row.bars:
            said = f"{escape(bar.series)}: {escape(bar.text)}" if bar.series else escape(bar.text)
            parts.append(
                f'<rect x="{chart.label_width}" y="{bar.y:g}" width="{bar.width:g}" '
                f'height="{chart.bar_height}" fill="{bar.colour}"/>'
                f'<text x="{chart.label_width + bar.width + 6:g}" '
                f'y="{bar.y + chart.bar_height * 0.75:g}">{said}</text>'
            )
        parts.append("</g>")
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704  # every text above went through escape()
