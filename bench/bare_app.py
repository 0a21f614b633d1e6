"""The baseline of bench/directory_search.py: a bare FastAPI app with one JSON endpoint.

No database, no middleware, no validation of the query: `GET /alliances` returns a
fixed page shaped like one page of the directory's search (20 hits with topics and
partners, a cursor, the total and the facets), so that the difference to the real
search is the work the directory does, not the bytes on the wire. It runs under the
same uvicorn, in its own process, started the same way as the directory:

    uvicorn bench.bare_app:create_app --factory --host 127.0.0.1 --port 8000
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

PAGE_SIZE = 20


def _hit(n: int) -> dict[str, Any]:
    return {
        "name": f"Lokales Bündnis für Familie Mühlhausen-Süd {n}",
        "state": "NI",
        "district": "Landkreis Göttingen",
        "municipality": "Mühlhausen",
        "postal_code": "37077",
        "city": "Göttingen",
        "street": "Rathausstraße 3",
        "latitude": 51.5413 + n / 1000,
        "longitude": 9.9158 + n / 1000,
        "founded_on": "2009-05-14",
        "status": "active",
        "staffing": "mixed",
        "website": f"https://www.familie-muehlhausen-sued-{n}.de",
        "social_media": [],
        "topics": ["kinderbetreuung", "vereinbarkeit", "generationen"],
        "partners": [
            {"name": "Stadtverwaltung Mühlhausen", "type": "kommune"},
            {"name": "AWO Ortsverein Mühlhausen e. V.", "type": "wohlfahrtsverband"},
            {"name": "Kita Sonnenblume", "type": "kita"},
            {"name": "Sparkasse Göttingen", "type": "unternehmen"},
        ],
        "awards": [],
        "coordinating_organisation": "Familienbüro Mühlhausen",
        "id": f"00000000-0000-4000-8000-{n:012d}",
        "slug": f"lokales-buendnis-fuer-familie-muehlhausen-sued-{n}",
        "version": 1,
        "created_at": "2026-11-22T09:00:00Z",
        "updated_at": "2026-11-22T09:00:00Z",
        "distance_km": None,
    }


PAGE: dict[str, Any] = {
    "items": [_hit(n) for n in range(PAGE_SIZE)],
    "next_cursor": "WyJMb2thbGVzIELDvG5kbmlzIiwgIjAwMDAwMDAwIl0",
    "total": 123,
    "facets": {
        "state": {"NI": 80, "HE": 23, "TH": 20},
        "topic": {"kinderbetreuung": 70, "vereinbarkeit": 61, "generationen": 40},
    },
}


def create_app() -> FastAPI:
    """The baseline app: /alliances (the fixed page) and /healthz (for ServiceProcess)."""
    app = FastAPI(title="bare baseline")

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/alliances")
    async def alliances() -> dict[str, Any]:
        return PAGE

    return app
