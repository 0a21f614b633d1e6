"""Every error of an app answers as RFC 9457 problem+json, and never with a stack trace."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, ClassVar

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI, Query
from pydantic import BaseModel, Field

from lobu.shared.auth import CurrentCaller, Role, TokenVerifier, create_token
from lobu.shared.errors import PROBLEM_JSON, LobuError, install_problem_handlers
from lobu.shared.settings import ServiceSettings
from tests.support.tokens import TEST_AUTH, TEST_JWT_SECRET

pytestmark = pytest.mark.unit

SECRET_DETAIL = "password=hunter2 in /srv/lobu/secret.py"


class AllianceInput(BaseModel):
    name: str = Field(min_length=1)
    postal_code: str = Field(pattern=r"^[0-9]{5}$")


class VersionConflictError(LobuError):
    code: ClassVar[str] = "version_conflict"
    status: ClassVar[int] = 412
    title: ClassVar[str] = "Precondition failed"


def problem_app() -> FastAPI:
    app = FastAPI()
    app.state.token_verifier = TokenVerifier(ServiceSettings(**TEST_AUTH))
    install_problem_handlers(app)

    @app.post("/alliances")
    async def create(body: AllianceInput, caller: CurrentCaller) -> dict[str, str]:
        return {"name": body.name, "by": caller.subject}

    @app.get("/alliances")
    async def search(
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
        query: Annotated[str | None, Query(min_length=3)] = None,
    ) -> dict[str, int]:
        return {"limit": limit}

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError(SECRET_DETAIL)

    @app.get("/conflict")
    async def conflict() -> None:
        raise VersionConflictError("The alliance is at version 3, not 2.", current_version=3)

    return app


@pytest_asyncio.fixture(loop_scope="session")
async def client() -> AsyncIterator[httpx.AsyncClient]:
    # Starlette re-raises an unhandled error after sending the 500; the client must not.
    transport = httpx.ASGITransport(app=problem_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://shared") as http:
        yield http


ADMIN = {"Authorization": f"Bearer {create_token(secret=TEST_JWT_SECRET, role=Role.ADMIN)}"}


@pytest.mark.asyncio(loop_scope="session")
async def test_an_invalid_body_gets_422_naming_each_field(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/alliances", json={"name": "", "postal_code": "1234"}, headers=ADMIN
    )

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON
    body = response.json()
    assert body["code"] == "validation_error"
    assert body["status"] == 422
    assert body["type"].endswith("/problems/validation_error")
    assert {error["field"] for error in body["errors"]} == {"name", "postal_code"}
    assert all(error["message"] for error in body["errors"])
    assert "postal_code" in body["detail"]


@pytest.mark.asyncio(loop_scope="session")
async def test_a_missing_body_field_is_named(client: httpx.AsyncClient) -> None:
    response = await client.post("/alliances", json={"name": "Bündnis"}, headers=ADMIN)

    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == ["postal_code"]


@pytest.mark.asyncio(loop_scope="session")
async def test_an_invalid_query_parameter_is_named(client: httpx.AsyncClient) -> None:
    response = await client.get("/alliances", params={"limit": "0"})

    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == ["limit"]


@pytest.mark.asyncio(loop_scope="session")
async def test_a_parameter_named_like_a_location_is_still_named(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/alliances", params={"query": "ab"})

    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == ["query"]


@pytest.mark.asyncio(loop_scope="session")
async def test_an_unexpected_error_gets_500_problem_json_without_details(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/boom")

    assert response.status_code == 500
    assert response.headers["content-type"] == PROBLEM_JSON
    body = response.json()
    assert body["code"] == "internal_error"
    assert body["status"] == 500
    assert "Traceback" not in response.text
    assert "hunter2" not in response.text
    assert "RuntimeError" not in response.text
    assert "secret.py" not in response.text


@pytest.mark.asyncio(loop_scope="session")
async def test_a_domain_error_gets_its_status_code_and_extensions(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/conflict")

    assert response.status_code == 412
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json() == {
        "type": "https://lobu.lokale-buendnisse-fuer-familie.de/problems/version_conflict",
        "title": "Precondition failed",
        "status": 412,
        "detail": "The alliance is at version 3, not 2.",
        "code": "version_conflict",
        "current_version": 3,
    }


@pytest.mark.asyncio(loop_scope="session")
async def test_an_unknown_route_gets_404_problem_json(client: httpx.AsyncClient) -> None:
    response = await client.get("/nowhere")

    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["code"] == "http_404"
    assert response.json()["title"] == "Not found"


@pytest.mark.asyncio(loop_scope="session")
async def test_a_wrong_method_gets_405_problem_json(client: httpx.AsyncClient) -> None:
    response = await client.delete("/alliances")

    assert response.status_code == 405
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["code"] == "http_405"
    assert "allow" in response.headers
