"""Every service's /docs and /redoc work offline: their assets come from the service.

The pages reference no URL outside the service (FastAPI's defaults load Swagger UI
and ReDoc from a CDN, so /docs was blank without a network), and each asset they
name answers 200. In-process, without the lifespan: the pages need no database.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from lobu.directory.main import create_app as directory_app
from lobu.directory.settings import DirectorySettings
from lobu.events.main import create_app as events_app
from lobu.events.settings import EventsSettings
from lobu.notifications.main import create_app as notifications_app
from lobu.notifications.settings import NotificationSettings
from lobu.surveys.main import create_app as surveys_app
from lobu.surveys.settings import SurveySettings
from tests.support.tokens import TEST_AUTH

pytestmark = pytest.mark.asyncio(loop_scope="session")

SERVICES: dict[str, tuple[Callable[..., FastAPI], Any]] = {
    "directory": (directory_app, DirectorySettings),
    "surveys": (surveys_app, SurveySettings),
    "events": (events_app, EventsSettings),
    "notifications": (notifications_app, NotificationSettings),
}
EXTERNAL = re.compile(r"""(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}""", re.IGNORECASE)
REFERENCE = re.compile(r"""(?:src|href)="([^"]+)"|(?:Url|url): ?['"]([^'"]+)['"]""")


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_the_docs_page_names_no_external_url_and_its_assets_answer(
    service: str, page: str, tmp_path: Path
) -> None:
    create_app, settings = SERVICES[service]
    app = create_app(
        settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/s.db", log_json=False, **TEST_AUTH)
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
        response = await client.get(page)
        assert response.status_code == 200
        assert EXTERNAL.findall(response.text) == []
        assets = [a or b for a, b in REFERENCE.findall(response.text)]
        assert any(asset.endswith(".js") for asset in assets), assets
        for asset in assets:
            answer = await client.get(asset)
            assert answer.status_code == 200, asset
            assert len(answer.content) > 100, asset
