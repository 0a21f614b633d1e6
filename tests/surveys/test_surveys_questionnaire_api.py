"""The questionnaire API: create, list, read, edit drafts, copy, open and close, by hand
and by the clock; questions frozen once open; problem+json for 404/409/412/422/428."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI

from lobu.shared.contracts.surveys import INVITATION_ISSUED, SURVEY_CLOSED, SURVEY_OPENED
from tests.surveys.conftest import ADMIN, START, FakeClock, Seeder, outbox, survey_body

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


async def _create(client: httpx.AsyncClient, **overrides: object) -> dict[str, object]:
    response = await client.post("/surveys", json=survey_body(**overrides), headers=ADMIN)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_a_created_survey_is_a_draft_listed_with_its_questions(
    client: httpx.AsyncClient,
) -> None:
    created = await _create(client)
    assert created["state"] == "draft"
    assert [q["key"] for q in created["questions"]] == [  # type: ignore[attr-defined]
        "themen", "social-media", "kanal-warum-nicht", "zufriedenheit", "partner",
    ]  # fmt: skip
    assert created["reminder_days"] == [14, 3]
    listed = (await client.get("/surveys", headers=ADMIN)).json()
    assert [(s["id"], s["year"], s["title"], s["state"]) for s in listed["items"]] == [
        (created["id"], 2026, "Bündnisumfrage 2026", "draft")
    ]
    one = await client.get(f"/surveys/{created['id']}", headers=ADMIN)
    assert one.json()["questions"] == created["questions"]
    assert one.headers["ETag"] == '"1"'


async def test_the_list_pages_newest_year_first_without_gaps(client: httpx.AsyncClient) -> None:
    for year in (2021, 2023, 2022, 2024):
        await _create(client, year=year)
    first = (await client.get("/surveys?limit=3", headers=ADMIN)).json()
    second = (
        await client.get(f"/surveys?limit=3&cursor={first['next_cursor']}", headers=ADMIN)
    ).json()
    assert [s["year"] for s in first["items"] + second["items"]] == [2024, 2023, 2022, 2021]
    assert second["next_cursor"] is None


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"questions": []}, "no questions"),
        ({"closes_at": "2026-04-01T00:00:00"}, "a time without zone"),
        ({"year": 1999}, "year out of range"),
        ({"questions": [{"key": "a", "text": "?", "type": "single", "options": []}]}, "no options"),
        ({"questions": [{"key": "a", "text": "?", "type": "number", "options": [
            {"code": "x", "label": "x"}]}]}, "options on a number"),
        ({"questions": [{"key": "a", "text": "?", "type": "multiple", "max_choices": 3,
                         "options": [{"code": "x", "label": "x"}, {"code": "y", "label": "y"}]}]},
         "max above the options"),
        ({"questions": [{"key": "a", "text": "?", "type": "number", "min": 5, "max": 1}]},
         "min above max"),
        ({"questions": [{"key": "A b", "text": "?", "type": "text"}]}, "a key with a space"),
        ({"questions": [{"key": "a", "text": "?", "type": "text"},
                        {"key": "a", "text": "?", "type": "text"}]}, "a key twice"),
        ({"questions": [{"key": "b", "text": "?", "type": "text",
                         "show_if": {"question": "a", "any_of": ["x"]}},
                        {"key": "a", "text": "?", "type": "single",
                         "options": [{"code": "x", "label": "x"}, {"code": "y", "label": "y"}]}]},
         "skip logic on a later question"),
        ({"questions": [{"key": "a", "text": "?", "type": "single",
                         "options": [{"code": "x", "label": "x"}, {"code": "y", "label": "y"}]},
                        {"key": "b", "text": "?", "type": "text",
                         "show_if": {"question": "a", "any_of": ["z"]}}]},
         "skip logic on an unknown code"),
        ({"colour": "blue"}, "an unknown field"),
    ],
)  # fmt: skip
async def test_an_invalid_questionnaire_is_refused_with_422_problem_json(
    client: httpx.AsyncClient, change: dict[str, object], reason: str
) -> None:
    response = await client.post("/surveys", json=survey_body(**change), headers=ADMIN)
    assert response.status_code == 422, reason
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_a_draft_is_edited_with_if_match_and_a_stale_edit_is_refused(
    client: httpx.AsyncClient,
) -> None:
    survey = await _create(client)
    path = f"/surveys/{survey['id']}"
    missing = await client.patch(path, json={"title": "Neu"}, headers=ADMIN)
    assert missing.status_code == 428
    edited = await client.patch(
        path, json={"title": "Umfrage 2026", "reminder_days": [3, 7]},
        headers={**ADMIN, "If-Match": '"1"'},
    )  # fmt: skip
    assert edited.status_code == 200, edited.text
    assert (edited.json()["title"], edited.json()["reminder_days"]) == ("Umfrage 2026", [7, 3])
    assert edited.headers["ETag"] == '"2"'
    stale = await client.patch(path, json={"title": "X"}, headers={**ADMIN, "If-Match": '"1"'})
    assert stale.status_code == 412
    assert stale.json()["code"] == "stale_version"


async def test_opening_invites_the_active_alliances_and_freezes_the_questions(
    client: httpx.AsyncClient, surveys_app: FastAPI, seeder: Seeder
) -> None:
    active = [await seeder.alliance(), await seeder.alliance()]
    await seeder.alliance(status="dormant")
    survey = await _create(client)
    opened = await client.post(f"/surveys/{survey['id']}/open", headers=ADMIN)
    assert opened.status_code == 200, opened.text
    assert (opened.json()["state"], opened.json()["invited"]) == ("open", 2)
    invitations = await outbox(surveys_app, INVITATION_ISSUED)
    assert sorted(m.data["alliance_id"] for m in invitations) == sorted(active)
    assert all(m.data["title"] == "Bündnisumfrage 2026" for m in invitations)
    assert [m.data["invited"] for m in await outbox(surveys_app, SURVEY_OPENED)] == [2]

    path = f"/surveys/{survey['id']}"
    frozen = await client.patch(
        path, json={"questions": survey["questions"]}, headers={**ADMIN, "If-Match": "*"}
    )
    assert frozen.status_code == 409
    assert frozen.headers["content-type"].startswith("application/problem+json")
    later = (START + timedelta(days=40)).isoformat()
    moved = await client.patch(path, json={"closes_at": later}, headers={**ADMIN, "If-Match": "*"})
    assert moved.status_code == 200, moved.text
    again = await client.post(f"{path}/open", headers=ADMIN)
    assert again.status_code == 409


async def test_closing_by_hand_and_what_a_closed_survey_refuses(
    client: httpx.AsyncClient, surveys_app: FastAPI
) -> None:
    survey = await _create(client)
    path = f"/surveys/{survey['id']}"
    assert (await client.post(f"{path}/close", headers=ADMIN)).status_code == 409  # a draft
    await client.post(f"{path}/open", headers=ADMIN)
    closed = await client.post(f"{path}/close", headers=ADMIN)
    assert closed.json()["state"] == "closed"
    assert len(await outbox(surveys_app, SURVEY_CLOSED)) == 1
    for change in ({"title": "X"}, {"closes_at": (START + timedelta(days=60)).isoformat()}):
        refused = await client.patch(path, json=change, headers={**ADMIN, "If-Match": "*"})
        assert refused.status_code == 409
    assert (await client.post(f"{path}/close", headers=ADMIN)).status_code == 409


async def test_a_survey_opens_and_closes_by_the_clock(
    client: httpx.AsyncClient, surveys_app: FastAPI, clock: FakeClock, seeder: Seeder
) -> None:
    await seeder.alliance()
    survey = await _create(
        client, opens_at=(START + timedelta(days=1)).isoformat(),
        closes_at=(START + timedelta(days=10)).isoformat(),
    )  # fmt: skip
    path = f"/surveys/{survey['id']}"
    await surveys_app.state.scheduler.tick()
    assert (await client.get(path, headers=ADMIN)).json()["state"] == "draft"
    clock.advance(days=1)
    await surveys_app.state.scheduler.tick()
    assert (await client.get(path, headers=ADMIN)).json()["state"] == "open"
    clock.advance(days=9)
    await surveys_app.state.scheduler.tick()
    body = (await client.get(path, headers=ADMIN)).json()
    assert (body["state"], body["invited"]) == ("closed", 1)
    assert len(await outbox(surveys_app, SURVEY_CLOSED)) == 1


async def test_a_survey_whose_closing_time_passed_cannot_be_opened(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    survey = await _create(client)
    clock.advance(days=31)
    response = await client.post(f"/surveys/{survey['id']}/open", headers=ADMIN)
    assert response.status_code == 409


async def test_copying_last_years_survey_makes_a_new_draft_with_the_same_keys(
    client: httpx.AsyncClient,
) -> None:
    old = await _create(client, year=2025, title="Bündnisumfrage 2025")
    await client.post(f"/surveys/{old['id']}/open", headers=ADMIN)
    copy = await client.post(
        f"/surveys/{old['id']}/copy",
        json={"year": 2026, "closes_at": (START + timedelta(days=300)).isoformat()},
        headers=ADMIN,
    )
    assert copy.status_code == 201, copy.text
    body = copy.json()
    # The title follows the year unless the copy names one (it names none here).
    assert (body["state"], body["year"], body["title"], body["copied_from"]) == (
        "draft", 2026, "Bündnisumfrage 2026", old["id"],
    )  # fmt: skip
    assert body["questions"] == old["questions"]
    assert body["id"] != old["id"]


async def test_an_unknown_survey_is_404_problem_json(client: httpx.AsyncClient) -> None:
    for method, suffix in (("GET", ""), ("POST", "/open"), ("POST", "/close"), ("GET", "/results")):
        response = await client.request(method, f"/surveys/nope{suffix}", headers=ADMIN)
        assert response.status_code == 404, suffix
        assert response.json()["code"] == "survey_not_found"
