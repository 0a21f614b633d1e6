"""The alliance endpoints: who may do what, validation, concurrency, listing."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest

from lobu.shared.auth import Role
from lobu.shared.pagination import encode_cursor
from tests.directory.conftest import ADMIN, bearer

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


def alliance_body(**overrides: Any) -> dict[str, Any]:
    """A valid alliance with one contact."""
    body: dict[str, Any] = {
        "name": "Lokales Bündnis für Familie Lüneburg",
        "state": "NI",
        "postal_code": "21335",
        "city": "Lüneburg",
        "topics": ["kinderbetreuung", "kinderarmut"],
        "contacts": [
            {"name": "Grete Müller", "email": "grete.mueller@example.org", "phone": "+49 4131 1234"}
        ],
    }
    body.update(overrides)
    return body


async def create(client: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
    response = await client.post("/alliances", json=alliance_body(**overrides), headers=ADMIN)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_admin_creates_an_alliance_with_id_version_etag_and_location(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/alliances", json=alliance_body(), headers=ADMIN)

    assert response.status_code == 201
    body = response.json()
    assert uuid.UUID(body["id"])
    assert body["version"] == 1
    assert response.headers["ETag"] == '"1"'
    assert response.headers["Location"] == f"/alliances/{body['id']}"
    assert body["contacts"][0]["email"] == "grete.mueller@example.org"


async def test_public_reads_never_contain_personal_data(client: httpx.AsyncClient) -> None:
    alliance = await create(client)

    single = await client.get(f"/alliances/{alliance['id']}")
    listing = await client.get("/alliances")

    assert single.status_code == 200
    assert single.headers["ETag"] == '"1"'
    for text in (single.text, listing.text):
        assert "@" not in text
        assert "Grete" not in text
        assert "4131" not in text
    assert "contacts" not in single.json()


async def test_writes_without_a_token_get_401_problem_json(client: httpx.AsyncClient) -> None:
    alliance = await create(client)
    attempts = [
        client.post("/alliances", json=alliance_body()),
        client.patch(
            f"/alliances/{alliance['id']}", json={"city": "X"}, headers={"If-Match": '"1"'}
        ),
        client.delete(f"/alliances/{alliance['id']}"),
        client.get(f"/alliances/{alliance['id']}/private"),
    ]
    for response in await asyncio.gather(*attempts):
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


async def test_a_forged_token_gets_401(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/alliances", json=alliance_body(), headers={"Authorization": "Bearer not.a.jwt"}
    )
    assert response.status_code == 401
    assert "Invalid bearer token" in response.json()["detail"]


async def test_authorization_matrix(client: httpx.AsyncClient) -> None:
    own = await create(client)
    other = await create(client, name="Bündnis Anderswo")
    owner = bearer(Role.ALLIANCE, own["id"])
    stranger = bearer(Role.ALLIANCE, other["id"])

    # Creating and deleting are for the Servicebüro only.
    refused = await client.post("/alliances", json=alliance_body(), headers=owner)
    assert refused.status_code == 403
    assert (await client.delete(f"/alliances/{own['id']}", headers=owner)).status_code == 403
    # Another alliance's coordinator may neither read contacts nor edit.
    assert (
        await client.get(f"/alliances/{own['id']}/private", headers=stranger)
    ).status_code == 403
    patch = await client.patch(
        f"/alliances/{own['id']}", json={"city": "Celle"}, headers={**stranger, "If-Match": '"1"'}
    )
    assert patch.status_code == 403
    assert patch.headers["content-type"] == "application/problem+json"
    # The alliance's own coordinator may.
    private = await client.get(f"/alliances/{own['id']}/private", headers=owner)
    assert private.status_code == 200
    assert private.json()["contacts"][0]["name"] == "Grete Müller"
    edited = await client.patch(
        f"/alliances/{own['id']}", json={"city": "Celle"}, headers={**owner, "If-Match": '"1"'}
    )
    assert edited.status_code == 200
    # Admin may do everything.
    assert (await client.delete(f"/alliances/{own['id']}", headers=ADMIN)).status_code == 204
    assert (await client.get(f"/alliances/{own['id']}")).status_code == 404


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", ""),
        ("state", "XX"),
        ("state", "DE-NI"),
        ("postal_code", "1234"),
        ("postal_code", "ABCDE"),
        ("city", "   "),
        ("topics", "kinderarmut"),
        ("topics", ["Golf"]),  # labels are accepted ("Kinderarmut"), unknown words not
        ("contacts", [{"name": "Ohne Mail"}]),
        ("contacts", [{"name": "Falsche Mail", "email": "nicht-gueltig"}]),
        ("contacts", [{"name": "Telefon", "email": "t@example.org", "phone": "abc"}]),
        ("unknown_field", 1),
    ],
)
async def test_invalid_input_gets_422_problem_json_naming_the_field(
    client: httpx.AsyncClient, field: str, value: object
) -> None:
    response = await client.post("/alliances", json=alliance_body(**{field: value}), headers=ADMIN)

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "validation_error"
    assert any(error["field"].startswith(field) for error in problem["errors"]), problem
    assert field in problem["detail"]


async def test_a_missing_required_field_is_named(client: httpx.AsyncClient) -> None:
    body = alliance_body()
    del body["postal_code"]
    response = await client.post("/alliances", json=body, headers=ADMIN)
    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == ["postal_code"]


async def test_patch_needs_if_match_and_refuses_a_stale_version(client: httpx.AsyncClient) -> None:
    alliance = await create(client)
    url = f"/alliances/{alliance['id']}"

    missing = await client.patch(url, json={"city": "Celle"}, headers=ADMIN)
    assert missing.status_code == 428

    first = await client.patch(url, json={"city": "Celle"}, headers={**ADMIN, "If-Match": '"1"'})
    assert first.status_code == 200
    assert first.json()["version"] == 2
    assert first.headers["ETag"] == '"2"'

    stale = await client.patch(url, json={"city": "Uelzen"}, headers={**ADMIN, "If-Match": '"1"'})
    assert stale.status_code == 412
    assert stale.json()["current_version"] == 2
    assert (await client.get(url)).json()["city"] == "Celle"


async def test_delete_takes_an_optional_if_match_and_refuses_a_stale_one(
    client: httpx.AsyncClient,
) -> None:
    first, second = await create(client), await create(client, name="Bündnis Celle")
    await client.patch(
        f"/alliances/{first['id']}", json={"city": "Celle"}, headers={**ADMIN, "If-Match": '"1"'}
    )

    stale = await client.delete(f"/alliances/{first['id']}", headers={**ADMIN, "If-Match": '"1"'})
    current = await client.delete(f"/alliances/{first['id']}", headers={**ADMIN, "If-Match": '"2"'})
    without = await client.delete(f"/alliances/{second['id']}", headers=ADMIN)

    assert stale.status_code == 412
    assert stale.json()["current_version"] == 2
    assert (current.status_code, without.status_code) == (204, 204)
    assert (await client.get(f"/alliances/{first['id']}")).status_code == 404


async def test_concurrent_edits_of_one_version_let_exactly_one_win(
    client: httpx.AsyncClient,
) -> None:
    alliance = await create(client)
    url = f"/alliances/{alliance['id']}"

    results = await asyncio.gather(
        *[
            client.patch(url, json={"city": f"Stadt {n}"}, headers={**ADMIN, "If-Match": '"1"'})
            for n in range(5)
        ]
    )

    statuses = sorted(response.status_code for response in results)
    assert statuses.count(200) == 1
    assert set(statuses) <= {200, 412}
    assert (await client.get(url)).json()["version"] == 2


async def test_patch_with_nothing_changed_keeps_the_version(client: httpx.AsyncClient) -> None:
    alliance = await create(client)
    response = await client.patch(
        f"/alliances/{alliance['id']}",
        json={"city": alliance["city"]},
        headers={**ADMIN, "If-Match": '"1"'},
    )
    assert response.status_code == 200
    assert response.json()["version"] == 1


async def test_patch_refuses_null_for_a_required_field(client: httpx.AsyncClient) -> None:
    alliance = await create(client)
    response = await client.patch(
        f"/alliances/{alliance['id']}", json={"name": None}, headers={**ADMIN, "If-Match": '"1"'}
    )
    assert response.status_code == 422
    assert "name" in response.json()["detail"]


async def test_unknown_alliance_is_404_problem_json(client: httpx.AsyncClient) -> None:
    response = await client.get(f"/alliances/{uuid.uuid4()}")
    assert response.status_code == 404
    assert response.json()["code"] == "alliance_not_found"


async def test_list_filters_by_state_and_topic(client: httpx.AsyncClient) -> None:
    marker = uuid.uuid4().hex[:6]
    await create(client, name=f"A {marker}", state="BY", topics=["kinderarmut"])
    await create(client, name=f"B {marker}", state="BY", topics=["flucht-migration"])
    await create(client, name=f"C {marker}", state="SN", topics=["kinderarmut"])

    bavaria = (await client.get("/alliances", params={"state": "BY", "limit": 200})).json()
    poverty = (await client.get("/alliances", params={"topic": "kinderarmut", "limit": 200})).json()

    assert {item["name"] for item in bavaria["items"] if marker in item["name"]} == {
        f"A {marker}",
        f"B {marker}",
    }
    assert {item["name"] for item in poverty["items"] if marker in item["name"]} == {
        f"A {marker}",
        f"C {marker}",
    }
    assert (await client.get("/alliances", params={"state": "ZZ"})).status_code == 422


async def test_pagination_has_no_duplicates_or_gaps_while_alliances_are_added(
    client: httpx.AsyncClient,
) -> None:
    names = [f"Bündnis {n:02d}" for n in range(12)]
    for name in names:
        await create(client, name=name, state="HB")

    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"state": "HB", "limit": 5}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get("/alliances", params=params)).json()
        seen += [item["name"] for item in page["items"]]
        if len(seen) == 5:  # an alliance sorting before the cursor appears meanwhile
            await create(client, name="Bündnis 00a", state="HB")
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert len(seen) == len(set(seen))
    assert set(names) <= set(seen)
    assert seen == sorted(seen)


async def test_a_garbage_cursor_is_422(client: httpx.AsyncClient) -> None:
    response = await client.get("/alliances", params={"cursor": "bm90LWEtY3Vyc29y"})
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_cursor"


async def test_metrics_count_requests_by_route_template(client: httpx.AsyncClient) -> None:
    alliance = await create(client)
    await client.get(f"/alliances/{alliance['id']}")

    metrics = (await client.get("/metrics")).text

    assert 'route="/alliances/{alliance_id}"' in metrics
    assert any(
        line.startswith("lobu_http_requests_total{")
        and 'route="/alliances/{alliance_id}"' in line
        and 'status="200"' in line
        for line in metrics.splitlines()
    )
    assert alliance["id"] not in metrics


async def test_responses_carry_a_correlation_id(client: httpx.AsyncClient) -> None:
    response = await client.get("/alliances", headers={"X-Correlation-ID": "trace-123"})
    assert response.headers["X-Correlation-ID"] == "trace-123"


async def test_the_asyncapi_document_names_the_published_topics(client: httpx.AsyncClient) -> None:
    response = await client.get("/asyncapi.json")

    assert response.status_code == 200
    document = response.json()
    assert document["asyncapi"].startswith("3.")
    addresses = {channel["address"] for channel in document["channels"].values()}
    assert {"directory.alliance", "directory.alliance-contacts"} <= addresses


async def test_the_openapi_document_describes_the_bearer_scheme(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    assert "HTTPBearer" in document["components"]["securitySchemes"]
    assert "/alliances/{alliance_id}" in document["paths"]


@pytest.mark.parametrize("sort_key", [[1, 2], ["name"], ["a", None], "not a list"])
async def test_a_well_formed_cursor_with_the_wrong_key_is_422(
    client: httpx.AsyncClient, sort_key: object
) -> None:
    cursor = encode_cursor(sort_key)  # type: ignore[arg-type]
    response = await client.get("/alliances", params={"cursor": cursor})
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_cursor"


async def test_the_openapi_document_describes_errors_as_problem_json(
    client: httpx.AsyncClient,
) -> None:
    document = (await client.get("/openapi.json")).json()
    patch = document["paths"]["/alliances/{alliance_id}"]["patch"]["responses"]

    for status in ("401", "403", "404", "412", "422", "428"):
        assert list(patch[status]["content"]) == ["application/problem+json"], status
    assert "HTTPValidationError" not in document["components"]["schemas"]
    assert "code" in document["components"]["schemas"]["Problem"]["required"]
