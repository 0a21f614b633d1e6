"""Who may see and post every surveys page, by session cookie or bearer token: a visitor
is sent to sign in (303), a coordinator is refused the staff pages (403) and staff the
coordinator's page, the personal link's pages stay public; a refused form changes
nothing (the staff's posts, last, then succeed)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI

from lobu.shared.auth import Role
from lobu.shared.contracts.surveys import INVITATION_ISSUED
from lobu.surveys.settings import SurveySettings
from tests.surveys.conftest import (
    ADMIN,
    FORM,
    START,
    Seeder,
    bearer,
    link_token,
    outbox,
    signed_in,
    survey_body,
)

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]
SIGN_IN = "http://127.0.0.1:8001/anmelden"
STAFF, COORDINATOR, PUBLIC = "staff", "coordinator", "public"


@dataclass(frozen=True)
class PageRoute:
    """One page route: who it is for, what staff/coordinator get, and a form if it posts."""

    method: str
    path: str
    audience: str  # STAFF, COORDINATOR or PUBLIC
    form: str = ""
    allowed: int = 200  # the status for its audience (303 after an action)


def every_page(ids: dict[str, str], token: str) -> list[PageRoute]:
    """Every page route of the service; GETs first, then the posts that change things."""
    ends = (START + timedelta(days=40)).date().isoformat()
    return [
        PageRoute("GET", "/umfragen", STAFF),
        PageRoute("GET", "/umfragen/vergleich?years=2025,2026", STAFF),
        PageRoute("GET", f"/umfragen/{ids['closed']}/ergebnisse", STAFF),
        PageRoute("GET", f"/umfragen/{ids['draft']}/oeffnen", STAFF),
        PageRoute("GET", f"/umfragen/{ids['open']}/schliessen", STAFF),
        PageRoute("GET", f"/umfragen/{ids['closed']}/veroeffentlichen", STAFF),
        PageRoute("GET", "/mein-buendnis/umfrage", COORDINATOR),
        PageRoute("GET", f"/umfrage/{token}", PUBLIC),
        PageRoute("GET", "/ergebnisse", PUBLIC),
        PageRoute("POST", "/mein-buendnis/umfrage", COORDINATOR,
                  f"themen=migration&aktion=speichern&_umfrage={ids['open']}"),
        PageRoute("POST", f"/umfrage/{token}", PUBLIC, "themen=migration&aktion=speichern"),
        PageRoute("POST", "/umfragen/neu", STAFF,
                  f"quelle={ids['closed']}&jahr=2027&ende={ends}", 303),
        PageRoute("POST", f"/umfragen/{ids['draft']}/oeffnen", STAFF, "", 303),
        PageRoute("POST", f"/umfragen/{ids['open']}/schliessen", STAFF, "", 303),
        PageRoute("POST", f"/umfragen/{ids['closed']}/veroeffentlichen", STAFF, "", 303),
    ]  # fmt: skip


async def _surveys(client: httpx.AsyncClient) -> dict[str, str]:
    ids = {}
    for name, year in (("closed", 2025), ("open", 2026), ("draft", 2027)):
        body = survey_body(year=year, title=f"Bündnisumfrage {year}")
        ids[name] = (await client.post("/surveys", json=body, headers=ADMIN)).json()["id"]
    for name in ("closed", "open"):
        assert (await client.post(f"/surveys/{ids[name]}/open", headers=ADMIN)).is_success
    assert (await client.post(f"/surveys/{ids['closed']}/close", headers=ADMIN)).is_success
    return ids


async def _states(client: httpx.AsyncClient, ids: dict[str, str]) -> dict[str, object]:
    listed = (await client.get("/surveys", headers=ADMIN)).json()["items"]
    published = {
        name: (await client.get(f"/surveys/{survey_id}", headers=ADMIN)).json()[
            "results_published_at"
        ]
        for name, survey_id in ids.items()
    }
    return {"surveys": sorted((s["year"], s["state"]) for s in listed), "published": published}


async def test_every_page_by_who_asks(
    client: httpx.AsyncClient, surveys_app: FastAPI, seeder: Seeder,
    surveys_settings: SurveySettings,
) -> None:  # fmt: skip
    own = await seeder.alliance()
    ids = await _surveys(client)
    token = next(
        link_token(m) for m in await outbox(surveys_app, INVITATION_ISSUED)
        if m.data["survey_id"] == ids["open"]
    )  # fmt: skip
    staff = signed_in(surveys_settings, Role.ADMIN, email="amt@example.org")
    coordinator = signed_in(surveys_settings, Role.ALLIANCE, own)
    routes = every_page(ids, token)
    before = await _states(client, ids)

    async def ask(route: PageRoute, headers: dict[str, str], csrf: str) -> httpx.Response:
        if route.method == "GET":
            return await client.get(route.path, headers=headers)
        content = f"{route.form}&csrf_token={csrf}" if csrf else route.form
        return await client.post(route.path, content=content, headers={**headers, **FORM})

    for route in routes:
        if route.audience == PUBLIC:
            for headers in ({}, staff.headers, coordinator.headers):
                response = await ask(route, headers, "")
                assert response.status_code == 200, (route, response.text)
            continue
        anonymous = await ask(route, {}, "")
        assert anonymous.status_code == 303, route
        assert anonymous.headers["location"].startswith(SIGN_IN), route
        if route.method == "GET":
            assert "weiter=" in anonymous.headers["location"]  # and back afterwards
        wrong = coordinator if route.audience == STAFF else staff
        wrong_bearer = bearer(Role.ALLIANCE, own) if wrong is coordinator else ADMIN
        for headers in (wrong.headers, wrong_bearer):
            refused = await ask(route, headers, wrong.csrf)
            assert refused.status_code == 403, (route, refused.text)
            assert "Kein Zugriff" in refused.text
    assert await _states(client, ids) == before  # nothing refused changed anything

    for route in routes:  # now as the page's own audience, by session (and by bearer)
        if route.audience == PUBLIC:
            continue
        who = staff if route.audience == STAFF else coordinator
        response = await ask(route, who.headers, who.csrf)
        assert response.status_code == route.allowed, (route, response.text)
        if route.method == "GET":
            token_headers = ADMIN if route.audience == STAFF else bearer(Role.ALLIANCE, own)
            assert (await ask(route, token_headers, "")).status_code == 200, route
    after = await _states(client, ids)
    assert after["surveys"] == [(2025, "closed"), (2026, "closed"), (2027, "draft"), (2027, "open")]
