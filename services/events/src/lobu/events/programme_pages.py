"""The Aktionstag programme for people: the list with its filters and each action's page.

German, server-rendered, no JavaScript. Every filter is a GET parameter (`q`, `land`,
`ort` with `umkreis`, `zielgruppe`, `tag`, `ab`, `bis`, `seite`); "near a place" goes
through the shared gazetteer (`lobu.shared.places`), namesakes come as a choice. Wrong
values give the page again with a message next to the field (422).
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse

from lobu.events.domain import BERLIN, end_of_day, start_of_day
from lobu.events.errors import ActionNotFoundError, EditionNotFoundError
from lobu.events.page_support import feed_urls, render, state_of
from lobu.events.programme import Near, Programme, ProgrammeQuery
from lobu.events.programme_form import (
    MAX_PLACE,
    MAX_TEXT,
    RADII,
    ProgrammeForm,
    read_programme_form,
)
from lobu.events.registration_pages import action_page_response
from lobu.events.schemas import ActionPublic, EditionPublic
from lobu.events.service import Editions
from lobu.events.service.views import public_view
from lobu.shared import ServiceRouter
from lobu.shared.germany_map import GermanyMap, MapPoint, render_germany_map
from lobu.shared.places import Gazetteer, PlaceMatch, place_notice

router = ServiceRouter(include_in_schema=False)
PER_PAGE = 50
MAX_CHOICES = 20
LIMITS = {"q": MAX_TEXT, "ort": MAX_PLACE}


def _window(form: ProgrammeForm, edition: EditionPublic) -> tuple[dt.datetime | None, ...]:
    """The start window in UTC: the day chosen (or the edition's, with a time) and times."""
    day = form.day or (edition.date if form.time_from or form.time_until else None)
    if day is None:
        return None, None
    starts_from = (
        dt.datetime.combine(day, form.time_from, BERLIN).astimezone(dt.UTC)
        if form.time_from else start_of_day(day)
    )  # fmt: skip
    starts_until = (
        dt.datetime.combine(day, form.time_until, BERLIN).astimezone(dt.UTC)
        if form.time_until else end_of_day(day) - dt.timedelta(microseconds=1)
    )  # fmt: skip
    return starts_from, starts_until


def _map_of(items: list[ActionPublic]) -> GermanyMap:
    """This page's actions with a place as linked dots on the shared map of Germany."""
    points = [
        MapPoint(a.latitude, a.longitude, f"{a.title} ({a.city or 'vor Ort'})",
                 f"/aktionstag/{a.edition_year}/{a.id}")
        for a in items
        if a.latitude is not None and a.longitude is not None
    ]  # fmt: skip
    count = {0: "Keine Aktion", 1: "Eine Aktion"}.get(len(points), f"{len(points)} Aktionen")
    return render_germany_map(
        points,
        title="Karte der Aktionen auf dieser Seite",
        description=f"{count} mit Ort auf der Karte von Deutschland; dieselben Aktionen "
        "stehen als Liste unter der Karte (Online-Aktionen nur dort).",
        id_prefix="karte",
    )


@router.get("/aktionstag/{year}", response_class=HTMLResponse)
async def programme_page(request: Request, year: int) -> HTMLResponse:
    """The programme of a year's Aktionstag, filtered by the GET parameters."""
    editions: Editions = state_of(request, "editions")
    try:
        edition = await editions.get(year)
    except EditionNotFoundError:
        return render(
            request, "not_found.html", {"what": f"Den Aktionstag {year}"}, status_code=404
        )
    form = read_programme_form(request.query_params, year=year)
    gazetteer: Gazetteer = state_of(request, "gazetteer")
    ort = form.text("ort") or ""
    match = gazetteer.resolve(ort) if ort else PlaceMatch(None)
    place = match.place
    notice = place_notice(ort, match)
    starts_from, starts_until = _window(form, edition)
    query = ProgrammeQuery(
        year=year, land=form.choice("land"), target_group=form.choice("zielgruppe"),
        text=form.text("q"), starts_from=starts_from, starts_until=starts_until,
        near=Near(place.latitude, place.longitude, float(form.radius_km)) if place else None,
    )  # fmt: skip
    found = None
    if not form.errors and notice is None:
        programme: Programme = state_of(request, "programme")
        found = await programme.find(query)
    kept = form.kept()
    items = []
    next_url = back_url = None
    if found is not None:
        first = (form.page - 1) * PER_PAGE
        items = [public_view(f.action, f.alliance, distance_km=f.distance_km)
                 for f in found[first:first + PER_PAGE]]  # fmt: skip
        if len(found) > first + PER_PAGE:
            next_url = f"/aktionstag/{year}?" + urlencode(kept | {"seite": str(form.page + 1)})
        if form.page > 1:
            back_url = f"/aktionstag/{year}?" + urlencode(kept | {"seite": str(form.page - 1)})
    choices = [
        (other.label, f"/aktionstag/{year}?" + urlencode(kept | {"ort": other.label}))
        for other in match.alternatives[:MAX_CHOICES]
    ]
    return render(
        request, "programme.html",
        {"edition": edition, "form": form.values, "errors": form.errors, "radius": form.radius_km,
         "radii": RADII, "limits": LIMITS, "place": place, "notice": notice, "choices": choices,
         "total": len(found) if found is not None else None, "items": items,
         "next_url": next_url, "back_url": back_url, "feeds": feed_urls(year, query),
         "karte": _map_of(items) if items else None},
        status_code=422 if form.errors else 200,
    )  # fmt: skip


@router.get("/aktionstag/{year}/{action_id}", response_class=HTMLResponse)
async def action_page(request: Request, year: int, action_id: str) -> HTMLResponse:
    """One action: when, where, for whom, by whom, and its registration form."""
    try:
        return await action_page_response(request, year, action_id)
    except ActionNotFoundError:
        return render(request, "not_found.html", {"what": "Diese Aktion"}, status_code=404)
