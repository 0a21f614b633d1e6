"""Pages for people: the alliance search and each alliance's page (German, no JavaScript)."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, PackageLoader, select_autoescape

from lobu.directory.errors import AllianceNotFoundError
from lobu.directory.places import Gazetteer, PlaceMatch
from lobu.directory.search import AllianceQuery, AllianceSearch, Near
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
from lobu.shared.pagination import CursorError

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(
    env=Environment(
        loader=PackageLoader("lobu.directory", "templates"),
        autoescape=select_autoescape(["html"]),
    )
)
templates.env.globals.update(
    states=STATES, topics=TOPICS, partner_types=PARTNER_TYPES, statuses=STATUSES,
    staffing=STAFFING, awards=AWARDS, platforms=SOCIAL_PLATFORMS,
)  # fmt: skip
RADII = (5, 10, 25, 50, 100)
MAX_CHOICES = 20


def _choice(value: str | None, allowed: dict[str, str]) -> str | None:
    return value if value in allowed else None


@router.get("/", response_class=HTMLResponse)
async def search_page(
    request: Request,
    q: Annotated[str, Query(max_length=200)] = "",
    land: Annotated[str, Query(max_length=2)] = "",
    handlungsfeld: Annotated[str, Query(max_length=60)] = "",
    partnertyp: Annotated[str, Query(max_length=60)] = "",
    status: Annotated[str, Query(max_length=20)] = "",
    auszeichnung: Annotated[str, Query(max_length=60)] = "",
    ort: Annotated[str, Query(max_length=100)] = "",
    umkreis: Annotated[int, Query(ge=1, le=500)] = 25,
    weiter: Annotated[str | None, Query(max_length=500)] = None,
) -> HTMLResponse:
    """The search form with its results; every filter is a plain GET parameter."""
    gazetteer: Gazetteer = request.app.state.gazetteer
    search: AllianceSearch = request.app.state.search
    match = gazetteer.resolve(ort) if ort.strip() else PlaceMatch(None)
    place = match.place
    notice = None
    if ort.strip() and match.ambiguous:
        notice = f"Mehrere Orte heißen „{ort}“. Bitte wählen Sie einen aus:"
    elif ort.strip() and place is None:
        notice = f"Den Ort „{ort}“ kennen wir nicht. Bitte prüfen Sie die Schreibweise."
    query = AllianceQuery(
        text=q or None,
        state=_choice(land, STATES),
        topic=_choice(handlungsfeld, TOPICS),
        partner_type=_choice(partnertyp, PARTNER_TYPES),
        status=_choice(status, STATUSES),
        award=_choice(auszeichnung, AWARDS),
        near=Near(place.latitude, place.longitude, float(umkreis)) if place else None,
    )
    page = None
    if notice is None:  # an unknown place would otherwise list everything, unfiltered
        try:
            page = await search.page(query, cursor=weiter, limit=20)
        except CursorError:  # a stale or altered 'weiter' link: start again, and say so
            notice = (
                "Der Link zur nächsten Seite war nicht mehr gültig; "
                "die Ergebnisse beginnen wieder von vorn."
            )
            page = await search.page(query, cursor=None, limit=20)
    form = {
        "q": q, "land": land, "handlungsfeld": handlungsfeld, "partnertyp": partnertyp,
        "status": status, "auszeichnung": auszeichnung, "ort": ort, "umkreis": umkreis,
    }  # fmt: skip
    kept = {name: value for name, value in form.items() if value not in ("", None)}
    next_url = None
    if page and page.next_cursor:
        next_url = "/?" + urlencode(kept | {"weiter": page.next_cursor})
    # Each Land facet narrows the current search; it keeps every other filter.
    state_urls = {code: "/?" + urlencode(kept | {"land": code}) for code in STATES}
    # Namesakes ("Neustadt"): each a link with its Land, the rest of the search kept.
    choices = [
        (other.label, "/?" + urlencode(kept | {"ort": other.label}))
        for other in match.alternatives[:MAX_CHOICES]
    ]
    unplaced = await _unplaced(search, query) if place and page else 0
    return templates.TemplateResponse(
        request,
        "search.html",
        {"page": page, "form": form, "place": place, "notice": notice, "radii": RADII,
         "next_url": next_url, "state_urls": state_urls, "choices": choices,
         "unplaced": unplaced},
    )  # fmt: skip


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
        return templates.TemplateResponse(
            request, "not_found.html", {"slug": slug}, status_code=404
        )
    public = alliance.model_copy(update={"contacts": []})
    return templates.TemplateResponse(request, "alliance.html", {"alliance": public})
