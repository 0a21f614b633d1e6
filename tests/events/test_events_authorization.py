"""Who may call what: every endpoint with no token, the admin, the coordinator of the
action's alliance and the coordinator of another alliance."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
import pytest

from tests.events.conftest import (
    ADMIN,
    ALLIANCE,
    COORDINATOR,
    OTHER_COORDINATOR,
    PUBLIC_URL,
    YEAR,
    action_body,
    create_edition,
    published_action,
)

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

CALLERS: dict[str, dict[str, str]] = {
    "anonymous": {},
    "admin": ADMIN,
    "own": COORDINATOR,
    "other": OTHER_COORDINATOR,
}
Call = Callable[[httpx.AsyncClient, dict[str, str]], Awaitable[httpx.Response]]


async def _draft(client: httpx.AsyncClient) -> str:
    response = await client.post(
        f"/editions/{YEAR}/actions", json=action_body(), headers=COORDINATOR
    )
    return str(response.json()["id"])


async def _submitted(client: httpx.AsyncClient) -> str:
    action_id = await _draft(client)
    await client.post(f"/actions/{action_id}/submit", headers=COORDINATOR)
    return action_id


async def _open(client: httpx.AsyncClient) -> str:
    return await published_action(client, capacity=50, registration_required=True)


def _case(prepare: Callable[[httpx.AsyncClient], Awaitable[str]] | None, method: str,
          path: str, json: object = None) -> Call:  # fmt: skip
    async def call(client: httpx.AsyncClient, headers: dict[str, str]) -> httpx.Response:
        action_id = await prepare(client) if prepare else ""
        return await client.request(
            method, path.format(id=action_id, year=YEAR), json=json, headers=headers
        )

    return call


async def _own_link(
    client: httpx.AsyncClient, method: str, headers: dict[str, str]
) -> httpx.Response:
    action_id = await _open(client)
    receipt = await client.post(
        f"/actions/{action_id}/registrations",
        json={"name": "Anna Schmidt", "email": "anna@example.org", "seats": 1},
    )
    path = str(receipt.json()["cancel_url"]).removeprefix(PUBLIC_URL)
    return await client.request(method, path, headers=headers)


REGISTRATION = {"name": "Anna Schmidt", "email": "anna@example.org", "seats": 1}

# endpoint -> expected status for anonymous, admin, own coordinator, other coordinator
MATRIX: dict[str, tuple[Call, tuple[int, int, int, int]]] = {
    "POST /editions": (_case(None, "POST", "/editions", {"year": 2030}), (401, 201, 403, 403)),
    "GET /editions": (_case(None, "GET", "/editions"), (200, 200, 200, 200)),
    "GET /editions/{year}": (_case(None, "GET", "/editions/{year}"), (200, 200, 200, 200)),
    "PATCH /editions/{year}": (
        _case(None, "PATCH", "/editions/{year}", {"motto": "Zeit für Familie"}),
        (401, 200, 403, 403),
    ),
    "POST /editions/{year}/actions (own alliance)": (
        _case(None, "POST", "/editions/{year}/actions", action_body(alliance_id=ALLIANCE)),
        (401, 201, 201, 403),
    ),
    "GET /editions/{year}/actions": (
        _case(_open, "GET", "/editions/{year}/actions"), (200, 200, 200, 200),
    ),
    "GET /editions/{year}/actions?state=draft": (
        _case(_draft, "GET", "/editions/{year}/actions?state=draft"), (403, 200, 200, 200),
    ),
    "GET /editions/{year}/actions.geojson": (
        _case(_open, "GET", "/editions/{year}/actions.geojson"), (200, 200, 200, 200),
    ),
    "GET /editions/{year}/programme.ics": (
        _case(_open, "GET", "/editions/{year}/programme.ics"), (200, 200, 200, 200),
    ),
    "GET /editions/{year}/alliances/{alliance_id}/programme.ics": (
        _case(_open, "GET", f"/editions/{{year}}/alliances/{ALLIANCE}/programme.ics"),
        (200, 200, 200, 200),
    ),
    "GET /actions/{id} (published)": (_case(_open, "GET", "/actions/{id}"), (200, 200, 200, 200)),
    "GET /actions/{id} (draft)": (_case(_draft, "GET", "/actions/{id}"), (404, 404, 404, 404)),
    "GET /actions/{id}/private": (
        _case(_draft, "GET", "/actions/{id}/private"), (401, 200, 200, 403),
    ),
    "PATCH /actions/{id}": (
        _case(_draft, "PATCH", "/actions/{id}", {"title": "Neu"}), (401, 200, 200, 403),
    ),
    "POST /actions/{id}/submit": (
        _case(_draft, "POST", "/actions/{id}/submit"), (401, 200, 200, 403),
    ),
    "POST /actions/{id}/publish": (
        _case(_submitted, "POST", "/actions/{id}/publish"), (401, 200, 403, 403),
    ),
    "POST /actions/{id}/reject": (
        _case(_submitted, "POST", "/actions/{id}/reject", {"reason": "Bitte ergänzen"}),
        (401, 200, 403, 403),
    ),
    "POST /actions/{id}/cancel": (
        _case(_open, "POST", "/actions/{id}/cancel"), (401, 200, 200, 403),
    ),
    "POST /actions/{id}/registrations": (
        _case(_open, "POST", "/actions/{id}/registrations", REGISTRATION), (201, 201, 201, 201),
    ),
    "GET /actions/{id}/registrations": (
        _case(_open, "GET", "/actions/{id}/registrations"), (401, 200, 200, 403),
    ),
    "GET /registrations/{id}/{token}": (
        lambda client, headers: _own_link(client, "GET", headers), (200, 200, 200, 200),
    ),
    "DELETE /registrations/{id}/{token}": (
        lambda client, headers: _own_link(client, "DELETE", headers), (200, 200, 200, 200),
    ),
}  # fmt: skip


async def test_every_endpoint_answers_each_kind_of_caller_as_the_matrix_says(
    client: httpx.AsyncClient,
) -> None:
    await create_edition(client)
    wrong = []
    for endpoint, (call, expected) in MATRIX.items():
        for (caller, headers), status in zip(CALLERS.items(), expected, strict=True):
            response = await call(client, headers)
            if response.status_code != status:
                wrong.append(f"{endpoint} as {caller}: {response.status_code}, expected {status}")

    assert wrong == []


async def test_a_coordinator_cannot_enter_an_action_for_another_alliance(
    client: httpx.AsyncClient,
) -> None:
    await create_edition(client)

    response = await client.post(
        f"/editions/{YEAR}/actions", json=action_body(alliance_id=ALLIANCE),
        headers=OTHER_COORDINATOR,
    )  # fmt: skip
    no_alliance = await client.post(f"/editions/{YEAR}/actions", json=action_body(), headers=ADMIN)

    assert response.status_code == 403
    assert no_alliance.status_code == 422


async def test_a_forged_token_is_refused(client: httpx.AsyncClient) -> None:
    await create_edition(client)
    forged = {"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.e30.x"}

    response = await client.post(f"/editions/{YEAR}/actions", json=action_body(), headers=forged)

    assert response.status_code == 401
