"""Web clients on configured origins may call the API from the browser (CORS)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from lobu.directory.main import create_app
from lobu.directory.settings import DirectorySettings
from tests.support.tokens import TEST_AUTH

pytestmark = [pytest.mark.unit, pytest.mark.asyncio(loop_scope="session")]

ALLOWED = "https://familie.example.org"


@pytest_asyncio.fixture(loop_scope="session")
async def cors_client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(
        DirectorySettings(
            database_url=f"sqlite+aiosqlite:///{tmp_path}/d.db",
            kafka_bootstrap_servers="127.0.0.1:1",
            cors_origins=[ALLOWED],
            log_json=False,
            **TEST_AUTH,
        )
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://directory") as client:
            yield client


async def test_a_configured_origin_may_read_and_send_edits(cors_client: httpx.AsyncClient) -> None:
    preflight = await cors_client.options(
        "/alliances/some-id",
        headers={
            "Origin": ALLOWED,
            "Access-Control-Request-Method": "PATCH",
            "Access-Control-Request-Headers": "authorization, if-match, content-type",
        },
    )
    read = await cors_client.get("/alliances", headers={"Origin": ALLOWED})

    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == ALLOWED
    assert "PATCH" in preflight.headers["access-control-allow-methods"]
    assert "if-match" in preflight.headers["access-control-allow-headers"].lower()
    assert read.headers["access-control-allow-origin"] == ALLOWED
    assert "ETag" in read.headers["access-control-expose-headers"]


async def test_another_origin_gets_no_cors_permission(cors_client: httpx.AsyncClient) -> None:
    response = await cors_client.get("/alliances", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in response.headers
