"""Who may call what: every endpoint for the public, a link's holder (its token as a
bearer token too), an alliance's coordinator, and the Servicebüro (admin)."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI

from lobu.shared.auth import Role
from lobu.shared.contracts.surveys import INVITATION_ISSUED
from tests.surveys.conftest import ADMIN, START, Seeder, bearer, link_token, outbox, survey_body

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

LATER = (START + timedelta(days=60)).isoformat()
ANSWERS = {"answers": {"themen": ["migration"], "social-media": "ja"}, "submit": True}


def admin_requests(survey_id: str, draft_id: str) -> list[tuple[str, str, object]]:
    """Every admin-only operation, with a body that would succeed for an admin."""
    return [
        ("POST", f"/surveys/{draft_id}/open", None),
        ("POST", "/surveys", survey_body()),
        ("GET", "/surveys", None),
        ("GET", f"/surveys/{survey_id}", None),
        ("PATCH", f"/surveys/{survey_id}", {"closes_at": LATER}),
        ("POST", f"/surveys/{survey_id}/copy", {"year": 2027, "closes_at": LATER}),
        ("GET", f"/surveys/{survey_id}/results", None),
        ("POST", f"/surveys/{survey_id}/close", None),
        ("POST", f"/surveys/{survey_id}/results/publish", None),
    ]


async def test_the_authorization_matrix_of_every_endpoint(
    client: httpx.AsyncClient, surveys_app: FastAPI, seeder: Seeder
) -> None:
    own, _other = await seeder.alliance(), await seeder.alliance()
    survey = (await client.post("/surveys", json=survey_body(), headers=ADMIN)).json()
    opened = await client.post(f"/surveys/{survey['id']}/open", headers=ADMIN)
    assert opened.status_code == 200
    draft = (await client.post("/surveys", json=survey_body(year=2027), headers=ADMIN)).json()
    tokens = {
        m.data["alliance_id"]: link_token(m) for m in await outbox(surveys_app, INVITATION_ISSUED)
    }
    token = tokens[own]
    callers = {
        "public": {},
        "token holder": {"Authorization": f"Bearer {token}"},
        "alliance": bearer(Role.ALLIANCE, alliance_id=own),
    }
    # Admin-only operations: 401 without a valid JWT, 403 for a coordinator.
    for method, path, body in admin_requests(survey["id"], draft["id"]):
        for name, headers in callers.items():
            response = await client.request(method, path, json=body, headers=headers)
            expected = 403 if name == "alliance" else 401
            assert response.status_code == expected, (name, method, path, response.text)
            assert response.headers["content-type"].startswith("application/problem+json")
    # The admin may do each (in this order the survey ends closed and published).
    for method, path, body in admin_requests(survey["id"], draft["id"]):
        headers = {**ADMIN, "If-Match": "*"} if method == "PATCH" else ADMIN
        response = await client.request(method, path, json=body, headers=headers)
        assert response.is_success, (method, path, response.text)


async def test_the_answer_endpoints_need_the_link_and_refuse_another_alliance(
    client: httpx.AsyncClient, surveys_app: FastAPI, seeder: Seeder
) -> None:
    own, other = await seeder.alliance(), await seeder.alliance()
    survey = (await client.post("/surveys", json=survey_body(), headers=ADMIN)).json()
    await client.post(f"/surveys/{survey['id']}/open", headers=ADMIN)
    tokens = {
        m.data["alliance_id"]: link_token(m) for m in await outbox(surveys_app, INVITATION_ISSUED)
    }
    path = f"/answers/{tokens[own]}"
    expected = {
        "public with the link": ({}, 200),
        "the alliance with its link": (bearer(Role.ALLIANCE, alliance_id=own), 200),
        "another alliance with this link": (bearer(Role.ALLIANCE, alliance_id=other), 403),
        "the Servicebüro (answers taken by phone)": (ADMIN, 200),
    }
    for name, (headers, status) in expected.items():
        for method, body in (("GET", None), ("PUT", ANSWERS)):
            response = await client.request(method, path, json=body, headers=headers)
            assert response.status_code == status, (name, method, response.text)
    # Without a link there is nothing to answer, whoever asks.
    for headers in ({}, bearer(Role.ALLIANCE, alliance_id=own), ADMIN):
        assert (await client.get("/answers/" + "A" * 43, headers=headers)).status_code == 404
