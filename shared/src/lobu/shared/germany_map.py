"""A map of Germany drawn on the server as inline SVG: points that link, no JavaScript.

The outline is Natural Earth's (public domain), reduced to a few kilobytes by
`scripts/generate_germany_outline.py` into `data/germany.json`. The projection is
equirectangular, its x axis shrunk by the cosine of Germany's middle latitude, which at
this size is indistinguishable from a conformal one. Labels and links go through
Jinja2's autoescape, so a hostile alliance name stays text.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from typing import NamedTuple

from jinja2 import Environment
from markupsafe import Markup

__all__ = ["GermanyMap", "MapPoint", "render_germany_map"]

WIDTH = 300.0  # viewBox units; the page scales the SVG with CSS
MARGIN_DEGREES = 0.15
SAFE_LINKS = ("/", "https://", "http://")  # never javascript: or data: behind a dot
TEMPLATE = """\
<svg xmlns="http://www.w3.org/2000/svg" class="germany-map" viewBox="0 0 {{ width }} {{ height }}" \
role="group" aria-labelledby="{{ prefix }}-titel {{ prefix }}-beschreibung">
<title id="{{ prefix }}-titel">{{ title }}</title>
<desc id="{{ prefix }}-beschreibung">{{ description }}</desc>
<path class="land" aria-hidden="true" d="{{ outline }}" fill="#e6eff5" stroke="#0b5c8a" \
stroke-width="0.8" stroke-linejoin="round"/>
{% for point in points %}<a href="{{ point.href }}" aria-label="{{ point.label }}">\
<circle class="punkt" cx="{{ point.x }}" cy="{{ point.y }}" r="{{ radius }}" fill="#a4000f" \
stroke="#fff" stroke-width="0.8"><title>{{ point.label }}</title></circle></a>
{% endfor %}</svg>"""


class MapPoint(NamedTuple):
    """One place to mark: WGS 84 latitude and longitude, the text it stands for, its link."""

    latitude: float
    longitude: float
    label: str
    href: str


@dataclass(frozen=True)
class GermanyMap:
    """The rendered map: safe SVG markup, and the points it could not place."""

    svg: Markup
    shown: int
    skipped: tuple[MapPoint, ...] = field(default=())

    def __html__(self) -> Markup:
        """Jinja2 inserts the map as markup: `{{ karte }}`."""
        return self.svg


class _Frame(NamedTuple):
    west: float
    east: float
    south: float
    north: float
    x_scale: float  # viewBox units per degree of longitude
    y_scale: float  # viewBox units per degree of latitude

    def project(self, latitude: float, longitude: float) -> tuple[float, float]:
        return (
            round((longitude - self.west) * self.x_scale, 1),
            round((self.north - latitude) * self.y_scale, 1),
        )

    def contains(self, latitude: float, longitude: float) -> bool:
        return self.south <= latitude <= self.north and self.west <= longitude <= self.east


@cache
def _outline() -> tuple[tuple[tuple[float, float], ...], ...]:
    """Germany's rings as (longitude, latitude), read once from the package data."""
    document = json.loads(files("lobu.shared").joinpath("data/germany.json").read_text("utf-8"))
    return tuple(tuple((x, y) for x, y in ring) for ring in document["rings"])


@cache
def _frame() -> _Frame:
    """The outline's bounding box with a margin, and the scales that fit it to WIDTH."""
    points = [point for ring in _outline() for point in ring]
    west = min(x for x, _ in points) - MARGIN_DEGREES
    east = max(x for x, _ in points) + MARGIN_DEGREES
    south = min(y for _, y in points) - MARGIN_DEGREES
    north = max(y for _, y in points) + MARGIN_DEGREES
    shrink = math.cos(math.radians((south + north) / 2))
    x_scale = WIDTH / (east - west)
    return _Frame(west, east, south, north, x_scale, x_scale / shrink)


@cache
def _outline_path() -> str:
    """The SVG path data of the outline (one closed sub-path per ring)."""
    frame = _frame()
    parts = []
    for ring in _outline():
        coordinates = (frame.project(latitude, longitude) for longitude, latitude in ring)
        parts.append("M" + "L".join(f"{x:g},{y:g}" for x, y in coordinates) + "Z")
    return "".join(parts)


_environment = Environment(autoescape=True, keep_trailing_newline=False)
_template = _environment.from_string(TEMPLATE)


def render_germany_map(
    points: Sequence[MapPoint | tuple[float, float, str, str]],
    *,
    title: str = "Karte von Deutschland",
    description: str | None = None,
    id_prefix: str = "karte",
) -> GermanyMap:
    """Draw Germany with one linked dot per point; points outside its box are skipped.

    `description` is the text alternative read out with the map (default: how many
    places it shows); `id_prefix` keeps the element ids unique when a page has two maps.
    """
    frame = _frame()
    placed, skipped = [], []
    for raw in points:
        point = MapPoint(*raw)
        if not point.href.startswith(SAFE_LINKS):
            raise ValueError(f"a map link must start with one of {SAFE_LINKS}: {point.href!r}")
        if not frame.contains(point.latitude, point.longitude):
            skipped.append(point)
            continue
        x, y = frame.project(point.latitude, point.longitude)
        placed.append({"x": f"{x:g}", "y": f"{y:g}", "label": point.label, "href": point.href})
    if description is None:
        description = _count(len(placed))
    svg = _template.render(
        width=f"{WIDTH:g}",
        height=f"{round((frame.north - frame.south) * frame.y_scale, 1):g}",
        prefix=id_prefix,
        title=title,
        description=description,
        outline=_outline_path(),
        points=placed,
        radius=4,
    )
    safe = Markup(svg)  # noqa: S704  # rendered by a template with autoescape on
    return GermanyMap(svg=safe, shown=len(placed), skipped=tuple(skipped))


def _count(shown: int) -> str:
    """'Keine Orte', 'Ein Ort' or 'N Orte' eingezeichnet (German plural)."""
    if shown == 0:
        return "Die Karte zeigt keine Orte."
    return "Die Karte zeigt einen Ort." if shown == 1 else f"Die Karte zeigt {shown} Orte."
