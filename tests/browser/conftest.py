"""The directory's pages in a real headless Chromium (Debian's, driven by Playwright).

The directory runs as `make run` runs it (uvicorn in its own process, real Kafka); the
browser is /usr/bin/chromium from `scripts/ensure-chromium.sh`, never one downloaded by
`playwright install`. Without that browser the tests skip themselves, except under
`make test` (LOBU_REQUIRE_ALL=1), where they fail: see tests/support/prerequisites.py.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import pytest_asyncio

from lobu.shared.auth import Role, create_token
from lobu.shared.settings import DEVELOPMENT_JWT_SECRET
from tests.support.kafka_server import KafkaServer
from tests.support.ports import free_port
from tests.support.prerequisites import missing
from tests.support.service_process import ServiceProcess

if TYPE_CHECKING:
    from playwright.async_api import Browser, Page

CHROMIUM = Path("/usr/bin/chromium")
# Debian's Chromium, headless, as a container allows it: no sandbox, no GPU, and none
# of the calls home (updates, sync, safe browsing lists) that would only time out here.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def chromium_path() -> str | None:
    """Where the browser is: /usr/bin/chromium, else `chromium` on PATH, else None."""
    if CHROMIUM.is_file():
        return str(CHROMIUM)
    return shutil.which("chromium")


def unique(word: str) -> str:
    """`word` with a short random suffix, so that each test finds only its own alliances."""
    return f"{word}{uuid.uuid4().hex[:8]}"


class Directory:
    """The running directory service, and a way to add alliances through its API."""

    def __init__(self, service: ServiceProcess) -> None:
        self.service = service
        self.url = service.url

    @property
    def admin_headers(self) -> dict[str, str]:
        """Authorization for Servicebüro staff."""
        token = create_token(secret=DEVELOPMENT_JWT_SECRET, role=Role.ADMIN)
        return {"Authorization": f"Bearer {token}"}

    async def add_alliance(
        self,
        name: str,
        *,
        state: str,
        postal_code: str,
        city: str,
        coordinates: tuple[float, float] | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """Create an alliance as an admin would (POST /alliances); returns what the API says."""
        body: dict[str, Any] = {
            "name": name,
            "state": state,
            "postal_code": postal_code,
            "city": city,
            **fields,
        }
        if coordinates is not None:
            body["latitude"], body["longitude"] = coordinates
        async with httpx.AsyncClient(base_url=self.url, timeout=10) as client:
            response = await client.post("/alliances", json=body, headers=self.admin_headers)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created


@pytest.fixture(scope="module")
def directory(kafka: KafkaServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Directory]:
    """The directory as a process on its own SQLite database, publishing to real Kafka."""
    folder = tmp_path_factory.mktemp("browser-directory")
    service = ServiceProcess(
        app="lobu.directory.main:create_app",
        port=free_port(),
        env={
            "LOBU_DIRECTORY_DATABASE_URL": f"sqlite+aiosqlite:///{folder}/d.db",
            "LOBU_DIRECTORY_KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
            "LOBU_DIRECTORY_ENVIRONMENT": "development",  # as make run
            "LOBU_DIRECTORY_JWT_SECRET": DEVELOPMENT_JWT_SECRET,
        },
        log_file=folder / "directory.log",
    )
    service.start()
    try:
        yield Directory(service)
    finally:
        service.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def browser() -> AsyncIterator[Browser]:
    """One headless Chromium for the module; each test opens its own context."""
    from playwright.async_api import async_playwright

    executable = chromium_path()
    if executable is None:
        missing(
            "Chromium (/usr/bin/chromium or `chromium` on PATH)",
            provide="run scripts/ensure-chromium.sh as root, or apt-get install -y chromium",
        )
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()


@pytest_asyncio.fixture(loop_scope="session")
async def page(browser: Browser, directory: Directory) -> AsyncIterator[Page]:
    """A fresh page (own cookies and cache) whose relative URLs go to the directory."""
    context = await browser.new_context(base_url=directory.url, locale="de-DE")
    context.set_default_timeout(10_000)
    try:
        yield await context.new_page()
    finally:
        await context.close()
