"""The privacy requests' API: who may use it, and times that say their zone."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from lobu.directory.main import create_app
from lobu.directory.settings import DirectorySettings
from lobu.shared.auth import Role
from tests.support.tokens import TEST_AUTH, bearer

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


@pytest_asyncio.fixture(loop_scope="session")
async def directory(database_url: str) -> AsyncIterator[FastAPI]:
    app = create_app(
        DirectorySettings(
            database_url=database_url, kafka_bootstrap_servers="127.0.0.1:1", **TEST_AUTH
        )
    )
    async with app.router.lifespan_context(app):
        yield app


async def test_a_request_is_admin_only_and_its_times_carry_their_zone(directory: FastAPI) -> None:
    transport = httpx.ASGITransport(app=directory)
    async with httpx.AsyncClient(transport=transport, base_url="http://directory") as http:
        body = {"email": "person@example.org", "kind": "access"}
        refused = await http.post(
            "/privacy-requests", json=body, headers=bearer(Role.ALLIANCE, "a-1")
        )
        assert refused.status_code == 403
        created = await http.post("/privacy-requests", json=body, headers=bearer(Role.ADMIN))
        assert created.status_code == 201, created.text
        shown = await http.get(
            f"/privacy-requests/{created.json()['id']}", headers=bearer(Role.ADMIN)
        )
    view = shown.json()
    assert view["state"] == "pending"
    assert set(view["services"]) == {"directory", "events", "notifications", "surveys"}
    assert datetime.fromisoformat(view["requested_at"]).utcoffset() is not None
    assert view["export_url"].startswith("http://directory/privacy-requests/")
    assert "person@example.org" not in shown.text
