"""The directory's HTTP edge: the token before the body on every write, bounded bodies."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from lobu.directory.api import IMPORT_MAX_BODY_BYTES
from lobu.directory.main import create_app
from lobu.directory.settings import DirectorySettings
from lobu.shared.auth import Role
from lobu.shared.routing import DEFAULT_MAX_BODY_BYTES
from tests.support.tokens import TEST_AUTH, bearer

pytestmark = [pytest.mark.unit]
served = pytest.mark.asyncio(loop_scope="session")

ADMIN = bearer(Role.ADMIN)
WRITES = {"POST", "PUT", "PATCH", "DELETE"}


def _write_operations() -> list[tuple[str, str]]:
    """Every write operation the directory documents (building the app connects nothing)."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        settings = DirectorySettings(
            database_url="sqlite+aiosqlite://", kafka_bootstrap_servers="127.0.0.1:1", **TEST_AUTH
        )
        document = create_app(settings).openapi()
    finally:
        root.handlers[:], root.level = handlers, level
    return sorted(
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method.upper() in WRITES
    )


WRITE_OPERATIONS = _write_operations()


def test_the_write_operations_are_all_there() -> None:
    assert {
        ("POST", "/alliances"),
        ("POST", "/alliances/import"),
        ("PATCH", "/alliances/{alliance_id}"),
        ("DELETE", "/alliances/{alliance_id}"),
        ("POST", "/admin/republish"),
    } <= set(WRITE_OPERATIONS)


@pytest_asyncio.fixture(loop_scope="session")
async def directory(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """The directory on SQLite, started; Kafka is unreachable (nothing here publishes)."""
    app: FastAPI = create_app(
        DirectorySettings(
            database_url=f"sqlite+aiosqlite:///{tmp_path}/d.db",
            kafka_bootstrap_servers="127.0.0.1:1",
            log_json=False,
            **TEST_AUTH,
        )
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://directory") as client:
            yield client


@served
@pytest.mark.parametrize(("method", "path"), WRITE_OPERATIONS)
@pytest.mark.parametrize("body", [b"{", b'{"name": 5}', b"name;land\n\x00;"])
async def test_an_anonymous_write_gets_401_before_its_body_is_looked_at(
    directory: httpx.AsyncClient, method: str, path: str, body: bytes
) -> None:
    # Defect 7: POST /alliances with a bad body answered 422 to anyone.
    url = path.replace("{alliance_id}", "some-alliance")
    headers = {"Content-Type": "application/json", "If-Match": '"1"'}

    response = await directory.request(method, url, content=body, headers=headers)

    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"


@served
async def test_a_coordinator_gets_403_not_422_on_an_admin_write(
    directory: httpx.AsyncClient,
) -> None:
    coordinator = bearer(Role.ALLIANCE, "a-1")

    response = await directory.post(
        "/alliances", content=b"{", headers={**coordinator, "Content-Type": "application/json"}
    )

    assert response.status_code == 403


async def _chunks(size: int, chunk: int = 256 * 1024) -> AsyncIterator[bytes]:
    while size > 0:
        yield b" " * min(chunk, size)
        size -= chunk


@served
@pytest.mark.parametrize("with_length", [True, False], ids=["content-length", "chunked"])
@pytest.mark.parametrize(
    ("path", "limit", "content_type"),
    [
        ("/alliances", DEFAULT_MAX_BODY_BYTES, "application/json"),
        ("/alliances/import?dry_run=true", IMPORT_MAX_BODY_BYTES, "text/csv"),
    ],
)
async def test_a_body_over_the_limit_gets_413_problem_json(
    directory: httpx.AsyncClient, path: str, limit: int, content_type: str, with_length: bool
) -> None:
    size = limit + 1
    content = b" " * size if with_length else _chunks(size)

    response = await directory.post(
        path, content=content, headers={**ADMIN, "Content-Type": content_type}
    )

    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "request_too_large"
    assert response.json()["max_bytes"] == limit


@served
async def test_an_import_larger_than_a_json_body_is_still_read(
    directory: httpx.AsyncClient,
) -> None:
    header = b"name;land;plz;ort\n"
    line = "Lokales Bündnis für Familie Goslar;NI;38640;Goslar\n".encode()
    body = header + line * (2 * DEFAULT_MAX_BODY_BYTES // len(line))

    response = await directory.post(
        "/alliances/import?dry_run=true",
        content=body,
        headers={**ADMIN, "Content-Type": "text/csv"},
    )

    assert response.status_code != 413
    assert response.status_code < 500
