"""What every page of the events service shares: the templates, German dates, the app's parts."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from lobu.events.domain import BERLIN
from lobu.events.programme import ProgrammeQuery
from lobu.shared import as_utc
from lobu.shared.contracts.events import TARGET_GROUPS
from lobu.shared.contracts.vocabulary import STATES
from lobu.shared.settings import ServiceSettings
from lobu.shared.web_sessions import browser_session
from lobu.shared.web_sessions import page_templates as shared_page_templates

WEEKDAYS = ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag")
MONTHS = ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August",
          "September", "Oktober", "November", "Dezember")  # fmt: skip


def german_day(moment: dt.datetime | dt.date) -> str:
    """ "Samstag, 15. Mai 2027" (Berlin time for a moment)."""
    day = as_utc(moment).astimezone(BERLIN).date() if isinstance(moment, dt.datetime) else moment
    return f"{WEEKDAYS[day.weekday()]}, {day.day}. {MONTHS[day.month - 1]} {day.year}"


def german_time(moment: dt.datetime) -> str:
    """ "14:30" in Berlin."""
    return as_utc(moment).astimezone(BERLIN).strftime("%H:%M")


def german_span(starts_at: dt.datetime, ends_at: dt.datetime) -> str:
    """ "Samstag, 15. Mai 2027, 11:00 bis 16:00 Uhr" (both days when they differ)."""
    start, end = as_utc(starts_at).astimezone(BERLIN), as_utc(ends_at).astimezone(BERLIN)
    if start.date() == end.date():
        return f"{german_day(start)}, {german_time(start)} bis {german_time(end)} Uhr"
    return (
        f"{german_day(start)}, {german_time(start)} Uhr bis "
        f"{german_day(end)}, {german_time(end)} Uhr"
    )


def german_number(value: float, places: int = 1) -> str:
    """ "12,5"."""
    return f"{value:.{places}f}".replace(".", ",")


def page_templates(settings: ServiceSettings) -> Jinja2Templates:
    """The service's templates over the shared ones (session nav, CSRF field), for main.py."""
    templates = shared_page_templates("lobu.events", settings)
    templates.env.globals.update(
        states=STATES, target_groups=TARGET_GROUPS, german_day=german_day,
        german_time=german_time, german_span=german_span, german_number=german_number,
    )  # fmt: skip
    return templates


# Pages holding a secret link or personal data must not travel on or be cached.
PRIVATE_HEADERS = {"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}


def render(
    request: Request,
    name: str,
    context: dict[str, Any],
    *,
    status_code: int = 200,
    private: bool = False,
) -> HTMLResponse:
    """A page from `templates/`; the templates add the session (nav) and its CSRF value."""
    templates: Jinja2Templates = state_of(request, "page_templates")
    # A page that names the signed-in person is theirs alone: not cached, not referred.
    private = private or browser_session(request) is not None
    return templates.TemplateResponse(
        request, name, context, status_code=status_code,
        headers=PRIVATE_HEADERS if private else None,
    )  # fmt: skip


def state_of(request: Request, name: str) -> Any:
    """One of the parts main.py put on the app."""
    return getattr(request.app.state, name)


def prefers_html(request: Request) -> bool:
    """Whether the client asks for a page (a browser following a mail's link) over JSON."""
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "application/json" not in accept.split(",")[0]


def feed_urls(year: int, query: ProgrammeQuery | None = None) -> dict[str, str]:
    """The iCal feed and the GeoJSON of the programme (GeoJSON of exactly this selection)."""
    params: dict[str, str] = {}
    if query is not None:
        for name, value in (("land", query.land), ("target_group", query.target_group),
                            ("q", query.text)):  # fmt: skip
            if value:
                params[name] = value
        if query.near:
            params["near"] = f"{query.near.latitude},{query.near.longitude}"
            params["radius_km"] = f"{query.near.radius_km:g}"
        if query.starts_from:
            params["from"] = query.starts_from.isoformat()
        if query.starts_until:
            params["until"] = query.starts_until.isoformat()
    suffix = "?" + urlencode(params) if params else ""
    return {
        "ics": f"/editions/{year}/programme.ics",
        "geojson": f"/editions/{year}/actions.geojson{suffix}",
    }
