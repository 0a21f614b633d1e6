"""Who may do what on every endpoint, the audit trail, field validation and republishing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from lobu.shared.auth import Role
from lobu.shared.outbox import OutboxMessage
from tests.directory.conftest import ADMIN, bearer

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

BODY: dict[str, Any] = {
    "name": "Lokales Bündnis für Familie Jena",
    "state": "TH",
    "postal_code": "07743",
    "city": "Jena",
    "latitude": 50.9271,
    "longitude": 11.5892,
    "topics": ["vereinbarkeit"],
    "partners": [{"name": "Stadt Jena", "type": "kommune"}],
    "contacts": [{"name": "Ilse Brandt", "email": "ilse.brandt@example.org"}],
}


async def create(client: httpx.AsyncClient, **changes: Any) -> dict[str, Any]:
    response = await client.post("/alliances", json=BODY | changes, headers=ADMIN)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_every_endpoint_answers_each_kind_of_caller_as_it_should(
    client: httpx.AsyncClient,
) -> None:
    own = await create(client)
    other = await create(client, name="Bündnis Weimar")
    callers = {
        "public": {},
        "owner": bearer(Role.ALLIANCE, own["id"]),
        "other alliance": bearer(Role.ALLIANCE, other["id"]),
        "admin": ADMIN,
    }
    url = f"/alliances/{own['id']}"
    # (method, path, body, expected status for public, owner, other alliance, admin)
    matrix: list[tuple[str, str, Any, tuple[int, int, int, int]]] = [
        ("GET", "/alliances", None, (200, 200, 200, 200)),
        ("GET", url, None, (200, 200, 200, 200)),
        ("GET", "/alliances/export.csv", None, (200, 200, 200, 200)),
        ("GET", "/alliances/export.geojson", None, (200, 200, 200, 200)),
        ("GET", f"{url}/private", None, (401, 200, 403, 200)),
        ("GET", f"{url}/audit", None, (401, 403, 403, 200)),
        ("POST", "/alliances", BODY | {"name": "Neu"}, (401, 403, 403, 201)),
        ("PATCH", url, {"street": "Markt 1"}, (401, 200, 403, 200)),
        ("PATCH", url, {"status": "dormant"}, (401, 403, 403, 200)),
        ("POST", "/admin/republish", None, (401, 403, 403, 202)),
        ("POST", "/alliances/import?dry_run=true", "name;land;plz;ort\r\n", (401, 403, 403, 200)),
        ("DELETE", url, None, (401, 403, 403, 204)),
    ]
    for method, path, body, expected in matrix:
        for (who, headers), status in zip(callers.items(), expected, strict=True):
            version = (await client.get(url)).headers.get("ETag", '"1"')
            request_headers = {**headers, "If-Match": version}
            if isinstance(body, str):
                response = await client.request(
                    method, path, content=body.encode(),
                    headers={**request_headers, "Content-Type": "text/csv"},
                )  # fmt: skip
            else:
                response = await client.request(method, path, json=body, headers=request_headers)
            assert response.status_code == status, (method, path, who, response.text)
            if who != "admin" and path in ("/alliances", url) and method == "GET":
                assert "@" not in response.text


async def test_a_coordinator_edits_the_profile_but_not_status_awards_or_slug(
    client: httpx.AsyncClient,
) -> None:
    alliance = await create(client)
    owner = {**bearer(Role.ALLIANCE, alliance["id"]), "If-Match": '"1"'}
    url = f"/alliances/{alliance['id']}"

    for field, value in [
        ("status", "dissolved"),
        ("awards", [{"award": "ausgezeichnet-in-die-zukunft", "year": 2020}]),
        ("slug", "mein-buendnis"),
    ]:
        refused = await client.patch(url, json={field: value}, headers=owner)
        assert refused.status_code == 403
        assert refused.json()["code"] == "field_not_editable"
        assert field in refused.json()["detail"]

    edited = await client.patch(
        url,
        json={
            "website": "https://example.org/jena",
            "partners": [{"name": "Stadt Jena", "type": "kommune"},
                         {"name": "Ernst-Abbe-Hochschule", "type": "hochschule"}],
            "contacts": [{"name": "Ilse Brandt", "email": "ilse@example.org"}],
        },
        headers=owner,
    )  # fmt: skip
    assert edited.status_code == 200, edited.text
    assert edited.json()["version"] == 2


async def test_the_audit_trail_says_who_changed_which_fields_and_when(
    client: httpx.AsyncClient,
) -> None:
    alliance = await create(client)
    url = f"/alliances/{alliance['id']}"
    coordinator = {**bearer(Role.ALLIANCE, alliance["id"]), "If-Match": '"1"'}
    await client.patch(url, json={"street": "Löbdergraben 1", "topics": []}, headers=coordinator)
    await client.patch(url, json={"status": "dormant"}, headers={**ADMIN, "If-Match": '"2"'})
    await client.delete(url, headers=ADMIN)

    trail = (await client.get(f"{url}/audit", headers=ADMIN)).json()

    assert [(entry["version"], entry["action"]) for entry in trail] == [
        (1, "lobu.directory.alliance.created"),
        (2, "lobu.directory.alliance.updated"),
        (3, "lobu.directory.alliance.updated"),
        (4, "lobu.directory.alliance.deleted"),
    ]
    assert trail[1]["changed_fields"] == ["street", "topics"]
    assert trail[1]["actor_role"] == "alliance"
    assert trail[2] | {"at": None} == {
        "version": 3, "action": "lobu.directory.alliance.updated", "actor": "developer",
        "actor_role": "admin", "changed_fields": ["status"], "at": None,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("latitude", 40.0),
        ("longitude", 20.5),
        ("website", "ftp://example.org"),
        ("website", "keine adresse"),
        ("founded_on", "2999-01-01"),
        ("founded_on", "1970-01-01"),
        ("status", "closed"),
        ("staffing", "teilweise"),
        ("social_media", [{"platform": "myspace", "url": "https://myspace.com/x"}]),
        ("social_media", [{"platform": "instagram", "url": "instagram.com/x"}]),
        ("partners", [{"name": "Firma", "type": "firma"}]),
        ("partners", [{"name": "", "type": "unternehmen"}]),
        ("awards", [{"award": "ausgezeichnet-in-die-zukunft", "year": 1800}]),
        ("awards", [{"award": "goldene-ehrennadel", "year": 2020}]),
        ("topics", ["unbekannt"]),
        ("slug", "Mit Leerzeichen"),
        ("district", "x" * 201),
    ],
)
async def test_each_field_is_validated_with_a_message_naming_it(
    client: httpx.AsyncClient, field: str, value: object
) -> None:
    response = await client.post("/alliances", json=BODY | {field: value}, headers=ADMIN)
    assert response.status_code == 422, response.text
    assert any(error["field"].startswith(field) for error in response.json()["errors"])


async def test_a_latitude_needs_its_longitude(client: httpx.AsyncClient) -> None:
    body = {key: value for key, value in BODY.items() if key != "longitude"}
    response = await client.post("/alliances", json=body, headers=ADMIN)
    assert response.status_code == 422
    assert "latitude and longitude" in response.json()["detail"]


async def test_a_taken_slug_is_a_conflict_and_names_get_unique_slugs(
    client: httpx.AsyncClient,
) -> None:
    first = await create(client)
    second = await create(client)
    clash = await client.post("/alliances", json=BODY | {"slug": first["slug"]}, headers=ADMIN)

    assert first["slug"] == "lokales-buendnis-fuer-familie-jena"
    assert second["slug"] == "lokales-buendnis-fuer-familie-jena-2"
    assert clash.status_code == 409
    assert clash.json()["code"] == "slug_taken"


async def test_republish_queues_every_snapshot_in_order_with_contacts_on_the_internal_topic(
    client: httpx.AsyncClient, directory_app: FastAPI
) -> None:
    first = await create(client)
    second = await create(client, name="Bündnis Gera")
    await client.patch(
        f"/alliances/{second['id']}",
        json={"street": "Markt 5"},
        headers={**ADMIN, "If-Match": '"1"'},
    )

    response = await client.post("/admin/republish", headers=ADMIN)

    assert response.status_code == 202
    assert response.json() == {"republished": 2}
    async with directory_app.state.runtime.sessions() as session:
        rows = (
            await session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.event_type == "lobu.directory.alliance.snapshot.v1")
                .order_by(OutboxMessage.position)
            )
        ).all()
    assert sorted(row.subject for row in rows) == sorted([first["id"], second["id"]])
    assert [row.subject for row in rows] == sorted(row.subject for row in rows)  # id order
    by_id = {row.subject: row.data for row in rows}
    assert by_id[second["id"]]["version"] == 2
    assert by_id[second["id"]]["street"] == "Markt 5"
    assert all("contacts" not in row.data for row in rows)


async def test_the_updated_event_names_the_changed_fields_but_never_contacts(
    client: httpx.AsyncClient, directory_app: FastAPI
) -> None:
    alliance = await create(client)
    await client.patch(
        f"/alliances/{alliance['id']}",
        json={"partners": [], "contacts": [], "website": "https://example.org"},
        headers={**ADMIN, "If-Match": '"1"'},
    )
    async with directory_app.state.runtime.sessions() as session:
        updated = await session.scalar(
            select(OutboxMessage).where(
                OutboxMessage.event_type == "lobu.directory.alliance.updated.v1",
                OutboxMessage.subject == alliance["id"],
            )
        )
    assert updated is not None
    assert updated.data["changed_fields"] == ["partners", "website"]


async def test_a_coordinator_may_send_admin_only_fields_unchanged(
    client: httpx.AsyncClient,
) -> None:
    alliance = await create(client)
    owner = {**bearer(Role.ALLIANCE, alliance["id"]), "If-Match": '"1"'}
    whole = {key: alliance[key] for key in ("status", "awards", "slug", "name")}

    response = await client.patch(
        f"/alliances/{alliance['id']}", json=whole | {"street": "Markt 2"}, headers=owner
    )

    assert response.status_code == 200, response.text
    assert response.json()["street"] == "Markt 2"
