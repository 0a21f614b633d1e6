"""Pages for people: the alliance search and each alliance's page (German, no JavaScript)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from lobu.directory.contact_form import FIELDS as CONTACT_FIELDS
from lobu.directory.contact_form import HONEYPOT, MAX_EMAIL, MAX_MESSAGE, MAX_NAME, ContactForm
from lobu.directory.errors import AllianceNotFoundError
from lobu.directory.places import Gazetteer, PlaceMatch
from lobu.directory.search import AllianceQuery, AllianceSearch, Near
from lobu.directory.search_form import MAX_CURSOR, MAX_PLACE, MAX_TEXT, RADII, read_search_form
from lobu.directory.service import AllianceDirectory
from lobu.shared.contracts.vocabulary import (
    AWARDS,
    PARTNER_TYPES,
    SOCIAL_PLATFORMS,
    STAFFING,
    STATES,
    STATUSES,
    TOPICS,
)
from lobu.shared.germany_map import GermanyMap, MapPoint, render_germany_map
from lobu.shared.pagination import CursorError
from lobu.shared.places import place_notice
from lobu.shared.web_sessions import page_templates

if TYPE_CHECKING:
    from lobu.directory.schemas import AllianceHit, AlliancePrivate

router = APIRouter(include_in_schema=False)
templates = page_templates("lobu.directory")
templates.env.globals.update(
    states=STATES, topics=TOPICS, partner_types=PARTNER_TYPES, statuses=STATUSES,
    staffing=STAFFING, awards=AWARDS, platforms=SOCIAL_PLATFORMS,
)  # fmt: skip
MAX_CHOICES = 20
MAX_EARLIER = 30
LIMITS = {"q": MAX_TEXT, "ort": MAX_PLACE}
CONTACT_LIMITS = {"name": MAX_NAME, "email": MAX_EMAIL, "nachricht": MAX_MESSAGE}


@router.get("/", response_class=HTMLResponse)
async def search_page(request: Request) -> HTMLResponse:
    """The search form with its results; every filter is a plain GET parameter.

    Wrong values give this page again with a message next to the field (422); a `weiter`
    link that is not valid gives the first page of results with a notice (400).
    """
    form = read_search_form(request.query_params)
    gazetteer: Gazetteer = request.app.state.gazetteer
    search: AllianceSearch = request.app.state.search
    ort = form.values["ort"] if "ort" not in form.errors else ""
    match = gazetteer.resolve(ort) if ort.strip() else PlaceMatch(None)
    place = match.place
    notice = place_notice(ort, match)
    query = AllianceQuery(
        text=form.values["q"] if "q" not in form.errors and form.values["q"] else None,
        state=form.choice("land"),
        topic=form.choice("handlungsfeld"),
        partner_type=form.choice("partnertyp"),
        status=form.choice("status"),
        award=form.choice("auszeichnung"),
        near=Near(place.latitude, place.longitude, float(form.radius_km)) if place else None,
        include_dissolved=False,  # unless Status names them
    )
    page = None
    status_code = 422 if form.errors else 200
    # A wrong field or an unknown place would otherwise list everything, unfiltered.
    if notice is None and not form.errors:
        try:
            if form.cursor and len(form.cursor) > MAX_CURSOR:
                raise CursorError("too long")
            page = await search.page(query, cursor=form.cursor, limit=20)
        except CursorError:  # a stale or altered 'weiter' link: start again, and say so
            notice = (
                "Der Link zur nächsten Seite war nicht mehr gültig; "
                "die Ergebnisse beginnen wieder von vorn."
            )
            status_code = 400
            page = await search.page(query, cursor=None, limit=20)
    kept = form.kept()
    # "zurück": the cursors of the pages before travel along, newest last.
    earlier = [part for part in form.earlier if part] if form.cursor else []
    here = [*earlier, form.cursor] if form.cursor else []
    next_url = back_url = None
    if page and page.next_cursor:
        next_url = "/?" + urlencode(kept | {"weiter": page.next_cursor} | _earlier(here))
    if page and form.cursor and status_code == 200:
        back = kept | ({"weiter": earlier[-1]} | _earlier(earlier[:-1]) if earlier else {})
        back_url = "/?" + urlencode(back)
    # Each Land facet narrows the current search; it keeps every other filter.
    state_urls = {code: "/?" + urlencode(kept | {"land": code}) for code in STATES}
    # Namesakes ("Neustadt"): each a link with its Land, the rest of the search kept.
    choices = [
        (other.label, "/?" + urlencode(kept | {"ort": other.label}))
        for other in match.alternatives[:MAX_CHOICES]
    ]
    unplaced = await _unplaced(search, query) if place and page else 0
    karte = _map_of(page.items) if page and page.items else None
    return templates.TemplateResponse(
        request,
        "search.html",
        {"page": page, "form": form.values, "errors": form.errors, "radius": form.radius_km,
         "place": place, "notice": notice, "radii": RADII, "limits": LIMITS,
         "next_url": next_url, "back_url": back_url, "state_urls": state_urls,
         "choices": choices, "unplaced": unplaced, "karte": karte, "exports": _export_urls(query),
         "site": request.app.state.site_links},
        status_code=status_code,
    )  # fmt: skip


def _map_of(hits: Sequence[AllianceHit]) -> GermanyMap:
    """This page's results with coordinates as linked dots on the map of Germany."""
    points = [
        MapPoint(hit.latitude, hit.longitude, f"{hit.name} ({hit.city})", f"/buendnisse/{hit.slug}")
        for hit in hits
        if hit.latitude is not None and hit.longitude is not None
    ]
    return render_germany_map(
        points,
        title="Karte der Bündnisse auf dieser Seite",
        description=f"{_places(len(points))} auf der Karte von Deutschland; "
        "dieselben Bündnisse stehen als Liste unter der Karte.",
        id_prefix="karte",
    )


def _places(count: int) -> str:
    """'Kein Bündnis', 'Ein Bündnis', 'N Bündnisse' (German plural)."""
    return {0: "Kein Bündnis", 1: "Ein Bündnis"}.get(count, f"{count} Bündnisse")


def _earlier(cursors: list[str]) -> dict[str, str]:
    """The `vorher` parameter for these cursors (at most the last MAX_EARLIER pages)."""
    return {"vorher": ",".join(cursors[-MAX_EARLIER:])} if cursors else {}


def _export_urls(query: AllianceQuery) -> dict[str, str]:
    """The CSV and GeoJSON exports of exactly this search (the API's parameter names)."""
    params: dict[str, str] = {"include_dissolved": "false"}
    for name in ("text", "state", "topic", "partner_type", "status", "award"):
        if value := getattr(query, name):
            params["q" if name == "text" else name] = value
    if query.near:
        params["near"] = f"{query.near.latitude},{query.near.longitude}"
        params["radius_km"] = f"{query.near.radius_km:g}"
    return {kind: f"/alliances/export.{kind}?" + urlencode(params) for kind in ("csv", "geojson")}


async def _unplaced(search: AllianceSearch, query: AllianceQuery) -> int:
    """How many alliances match the other filters but have no place (so no distance)."""
    count = 0
    async for view, _distance in search.every(replace(query, near=None)):
        count += view.latitude is None
    return count


@router.get("/buendnisse/{slug}", response_class=HTMLResponse)
async def alliance_page(request: Request, slug: str) -> HTMLResponse:
    """One alliance's public page (never its contacts)."""
    directory: AllianceDirectory = request.app.state.directory
    try:
        alliance = await directory.get_by_slug(slug)
    except AllianceNotFoundError:
        site = request.app.state.site_links
        return templates.TemplateResponse(
            request, "not_found.html", {"slug": slug, "site": site}, status_code=404
        )
    return render_alliance_page(request, alliance, sent=request.query_params.get("gesendet") == "1")


def render_alliance_page(
    request: Request,
    alliance: AlliancePrivate,
    *,
    form: ContactForm | None = None,
    sent: bool = False,
    status_code: int = 200,
) -> HTMLResponse:
    """An alliance's public page with its contact form (the contacts never reach it)."""
    public = alliance.model_copy(update={"contacts": []})
    form = form or ContactForm(values=dict.fromkeys(CONTACT_FIELDS, ""))
    return templates.TemplateResponse(
        request,
        "alliance.html",
        {"alliance": public, "site": request.app.state.site_links, "contact": form,
         "sent": sent, "contact_limits": CONTACT_LIMITS, "honeypot": HONEYPOT},
        status_code=status_code,
    )  # fmt: skip
