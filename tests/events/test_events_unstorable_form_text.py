"""Form fields holding text no database can store get a German 422 next to the field.

An audit found `POST /aktionstag/{year}/{id}` with `name=Eva\\x00Roth` answering 500 on
PostgreSQL (its text type refuses U+0000). The JSON API refuses such text at the edge
(lobu.shared.input_text); the forms check every field with the same `text_problem`.
On SQLite and PostgreSQL, since PostgreSQL is where it broke.
"""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI

from lobu.shared.auth import Role
from lobu.shared.web_sessions import SESSION_COOKIE, SessionIssuer
from tests.events.conftest import (
    ADMIN,
    ALLIANCE,
    COORDINATOR,
    YEAR,
    create_edition,
    published_action,
)

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

GERMAN = "Zeichen, das wir nicht speichern können"


async def test_a_nul_in_the_registration_form_is_a_german_422_not_a_500(
    client: httpx.AsyncClient,
) -> None:
    await create_edition(client)
    action = await published_action(client, registration_required=True, capacity=10)
    page = await client.get(f"/aktionstag/{YEAR}/{action}")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf
    answer = await client.post(
        f"/aktionstag/{YEAR}/{action}",
        data={"csrf": csrf[1], "name": "Eva\x00Roth", "email": "eva@example.org", "seats": "1"},
    )
    assert answer.status_code == 422
    assert 'aria-describedby="name-fehler"' in answer.text
    assert GERMAN in answer.text
    assert 'value="eva@example.org"' in answer.text
    listed = await client.get(f"/actions/{action}/registrations", headers=ADMIN)
    assert listed.json()["items"] == []


async def test_a_nul_in_the_action_form_and_the_rejection_reason_is_a_german_422(
    client: httpx.AsyncClient, events_app: FastAPI
) -> None:
    await create_edition(client)
    issuer = SessionIssuer(events_app.state.settings)
    token, session = issuer.issue(subject="person:c", role=Role.ALLIANCE, email="c@example.org",
                                  alliance_id=ALLIANCE, lifetime=timedelta(minutes=30))  # fmt: skip
    form = {
        "csrf_token": session.csrf_token, "jahr": str(YEAR), "title": "Fest\x00",
        "city": "Lüneburg",
        "starts_at": f"{YEAR}-05-15T11:00", "ends_at": f"{YEAR}-05-15T12:00",
        "accessibility": "Rampe\x00",
    }  # fmt: skip
    transport = httpx.ASGITransport(app=events_app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://events", cookies={SESSION_COOKIE: token}
    ) as browser:
        answer = await browser.post("/mein-buendnis/aktionen/neu", data=form)
        assert answer.status_code == 422
        assert 'aria-describedby="title-fehler"' in answer.text
        assert "accessibility-fehler" in answer.text
        assert GERMAN in answer.text
        assert "noch keine Aktion" in (await browser.get("/mein-buendnis/aktionen")).text

    staff_token, staff = issuer.issue(subject="person:s", role=Role.ADMIN, email="s@example.org",
                                      alliance_id=None, lifetime=timedelta(minutes=30))  # fmt: skip
    # A submitted action to reject: re-enter through the API.
    created = await client.post(f"/editions/{YEAR}/actions", headers=COORDINATOR, json={
        "title": "Zweites Fest", "starts_at": "2027-05-15T11:00:00+02:00",
        "ends_at": "2027-05-15T12:00:00+02:00", "city": "Lüneburg"})  # fmt: skip
    submitted = created.json()["id"]
    await client.post(f"/actions/{submitted}/submit", headers=COORDINATOR)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://events", cookies={SESSION_COOKIE: staff_token}
    ) as browser:
        answer = await browser.post(
            f"/verwaltung/aktionen/{submitted}/ablehnen",
            data={"csrf_token": staff.csrf_token, "jahr": str(YEAR), "reason": "Bitte\x00 nicht"},
        )
        assert answer.status_code == 422
        assert f'aria-describedby="reason-{submitted}-fehler"' in answer.text
        assert GERMAN in answer.text
    state = await client.get(f"/actions/{submitted}/private", headers=ADMIN)
    assert state.json()["state"] == "submitted"
