"""Exports of search results: CSV for German Excel, GeoJSON for maps."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from lobu.directory.csv_format import COLUMNS, PUBLIC_COLUMNS, format_row
from lobu.directory.schemas import AlliancePrivate
from lobu.shared.spreadsheet_csv import ExcelCsv


async def csv_lines(
    alliances: AsyncIterator[tuple[AlliancePrivate, float | None]], *, with_contacts: bool
) -> AsyncIterator[str]:
    """The export as CSV text, a line at a time (`;`, CRLF, BOM first)."""
    writer = ExcelCsv()  # the BOM first; no cell may start a formula (OWASP CSV injection)
    yield writer.line(list(COLUMNS) if with_contacts else PUBLIC_COLUMNS)
    async for view, _distance in alliances:
        yield writer.line(format_row(view, with_contacts=with_contacts))


async def geojson_chunks(
    alliances: AsyncIterator[tuple[AlliancePrivate, float | None]],
    *,
    with_contacts: bool,
    base_url: str,
) -> AsyncIterator[str]:
    """A GeoJSON FeatureCollection; alliances without coordinates are listed in `unlocated`.

    `unlocated` is a foreign member (RFC 7946, 6.1): maps ignore it, readers learn what
    the map cannot show. Approximate coordinates (the town's) carry
    `coordinates_approximate: true` in their properties.
    """
    yield '{"type": "FeatureCollection", "features": ['
    first = True
    unlocated: list[dict[str, str]] = []
    async for view, distance in alliances:
        url = f"{base_url}/buendnisse/{view.slug}"
        if view.latitude is None or view.longitude is None:
            unlocated.append({"id": view.id, "name": view.name, "city": view.city, "url": url})
            continue
        exclude = set() if with_contacts else {"contacts"}
        properties: dict[str, Any] = view.model_dump(mode="json", exclude=exclude)
        properties["url"] = url
        if distance is not None:
            properties["distance_km"] = round(distance, 3)
        feature = {
            "type": "Feature",
            "id": view.id,
            "geometry": {"type": "Point", "coordinates": [view.longitude, view.latitude]},
            "properties": properties,
        }
        yield ("" if first else ",") + json.dumps(feature, ensure_ascii=False)
        first = False
    yield '], "unlocated": ' + json.dumps(unlocated, ensure_ascii=False) + "}"
