"""Idempotency-Key on POST: a retry replays the first response, another body is refused.

Through the directory's `POST /alliances` in-process on SQLite (Kafka away: the
outbox keeps the events), and the concurrent same-key requests on PostgreSQL with two
app instances (two engines, as two processes) on one database.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlmodel import col

from lobu.directory.main import create_app
from lobu.directory.models import Alliance
from lobu.directory.settings import DirectorySettings
from lobu.shared.auth import Role, create_token
from lobu.shared.clock import utc_now
from lobu.shared.idempotency import (
    IdempotencyStore,
    InvalidIdempotencyKeyError,
    parse_idempotency_key,
)
from lobu.shared.idempotency_keys import IdempotencyKey
from lobu.shared.metrics import ServiceMetrics
from lobu.shared.retention import RetentionJob
from lobu.shared.retention_rules import declare_shared_rules
from lobu.shared.runtime import ServiceRuntime
from tests.support.postgres_server import PostgresServer
from tests.support.tokens import TEST_AUTH, TEST_JWT_SECRET

pytestmark = [pytest.mark.integration]
async_test = pytest.mark.asyncio(loop_scope="session")

# Now: the runtime's own retention job runs on the real clock beside the test's.
T0 = utc_now()


class FakeClock:
    """A clock the test moves."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def admin(subject: str = "staff-1") -> dict[str, str]:
    token = create_token(secret=TEST_JWT_SECRET, role=Role.ADMIN, subject=subject)
    return {"Authorization": f"Bearer {token}"}


def alliance(name: str = "Lokales Bündnis für Familie Celle") -> dict[str, Any]:
    return {"name": name, "state": "NI", "postal_code": "29221", "city": "Celle"}


@asynccontextmanager
async def directory(database_url: str) -> AsyncIterator[FastAPI]:
    settings = DirectorySettings(
        database_url=database_url,
        kafka_bootstrap_servers="127.0.0.1:1",  # away: the outbox keeps the events
        log_json=False,
        **TEST_AUTH,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app


@asynccontextmanager
async def client_of(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://directory") as http:
        yield http


def runtime_of(app: FastAPI) -> ServiceRuntime:
    runtime: ServiceRuntime = app.state.runtime
    return runtime


async def alliances_named(app: FastAPI, name: str) -> int:
    async with runtime_of(app).sessions() as session:
        count = await session.scalar(
            select(func.count()).select_from(Alliance).where(col(Alliance.name) == name)
        )
    return int(count or 0)


@pytest_asyncio.fixture(loop_scope="session")
async def app(tmp_path: Path) -> AsyncIterator[FastAPI]:
    async with directory(f"sqlite+aiosqlite:///{tmp_path}/directory.db") as started:
        yield started


@pytest_asyncio.fixture(loop_scope="session")
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_of(app) as http:
        yield http


@pytest.mark.unit
@pytest.mark.parametrize(
    ("header", "key"),
    [('"8e03978e-40d5"', "8e03978e-40d5"), ("8e03978e-40d5", "8e03978e-40d5"), (r'"a\"b"', 'a"b')],
)
def test_a_key_is_a_structured_string_or_a_bare_token(header: str, key: str) -> None:
    assert parse_idempotency_key(header) == key


@pytest.mark.unit
@pytest.mark.parametrize("header", ['""', '"a"b"', "a b", '"' + "x" * 256 + '"', '"ä"'])
def test_an_unusable_key_is_refused(header: str) -> None:
    with pytest.raises(InvalidIdempotencyKeyError):
        parse_idempotency_key(header)


@async_test
async def test_a_retry_with_the_same_key_and_body_gets_the_first_response_and_no_second_alliance(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    headers = {**admin(), "Idempotency-Key": '"create-celle-1"'}
    first = await client.post("/alliances", json=alliance(), headers=headers)
    retry = await client.post("/alliances", json=alliance(), headers=headers)

    assert first.status_code == retry.status_code == 201
    assert retry.content == first.content
    assert retry.headers["Location"] == first.headers["Location"]
    assert retry.headers["ETag"] == first.headers["ETag"]
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert await alliances_named(app, alliance()["name"]) == 1


@async_test
async def test_the_same_key_with_another_body_is_refused_with_422_problem_json(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    headers = {**admin(), "Idempotency-Key": "create-2"}
    await client.post("/alliances", json=alliance("Bündnis A"), headers=headers)
    other = await client.post("/alliances", json=alliance("Bündnis B"), headers=headers)

    assert other.status_code == 422
    assert other.headers["content-type"] == "application/problem+json"
    assert other.json()["code"] == "idempotency_key_reused"
    assert await alliances_named(app, "Bündnis B") == 0


@async_test
async def test_a_key_whose_first_request_still_runs_gets_409_problem_json(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    headers = {**admin(), "Idempotency-Key": "slow-1"}
    original = runtime_of(app).idempotency.begin
    first_running, release = asyncio.Event(), asyncio.Event()

    async def begin_then_hold(*args: Any) -> Any:
        outcome = await original(*args)
        if not first_running.is_set():
            first_running.set()
            await release.wait()  # the first request is "still running"
        return outcome

    runtime_of(app).idempotency.begin = begin_then_hold  # type: ignore[method-assign]
    first = asyncio.create_task(client.post("/alliances", json=alliance("Slow"), headers=headers))
    await asyncio.wait_for(first_running.wait(), timeout=60)
    second = await client.post("/alliances", json=alliance("Slow"), headers=headers)
    release.set()

    assert second.status_code == 409
    assert second.json()["code"] == "idempotency_key_in_use"
    assert (await first).status_code == 201
    assert await alliances_named(app, "Slow") == 1


@async_test
async def test_a_refused_request_keeps_no_key_so_a_corrected_retry_runs(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    headers = {**admin(), "Idempotency-Key": "fix-1"}
    invalid = await client.post("/alliances", json={"name": "Ohne Ort"}, headers=headers)
    corrected = await client.post("/alliances", json=alliance("Mit Ort"), headers=headers)

    assert invalid.status_code == 422
    assert corrected.status_code == 201
    assert "Idempotent-Replayed" not in corrected.headers


@async_test
async def test_keys_belong_to_their_caller(app: FastAPI, client: httpx.AsyncClient) -> None:
    body = alliance("Zweimal gewollt")
    one = await client.post("/alliances", json=body, headers={**admin("a"), "Idempotency-Key": "k"})
    two = await client.post("/alliances", json=body, headers={**admin("b"), "Idempotency-Key": "k"})

    assert (one.status_code, two.status_code) == (201, 201)
    assert "Idempotent-Replayed" not in two.headers
    assert await alliances_named(app, "Zweimal gewollt") == 2


@async_test
async def test_a_bad_key_is_400_and_a_post_without_a_key_is_as_before(
    client: httpx.AsyncClient,
) -> None:
    bad = await client.post(
        "/alliances", json=alliance(), headers={**admin(), "Idempotency-Key": "a b"}
    )
    plain = await client.post("/alliances", json=alliance("Ohne Schlüssel"), headers=admin())

    assert bad.status_code == 400
    assert bad.json()["code"] == "idempotency_key_invalid"
    assert plain.status_code == 201


@async_test
async def test_a_key_expires_after_a_day_and_the_retention_job_deletes_it(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    runtime = runtime_of(app)
    clock = FakeClock(T0)
    runtime.idempotency = IdempotencyStore(runtime.sessions, clock=clock)
    headers = {**admin(), "Idempotency-Key": "daily"}
    await client.post("/alliances", json=alliance("Montag"), headers=headers)

    clock.now = T0 + timedelta(hours=23)
    assert (
        await client.post("/alliances", json=alliance("Dienstag"), headers=headers)
    ).status_code == 422
    clock.now = T0 + timedelta(days=1, seconds=1)
    assert (
        await client.post("/alliances", json=alliance("Dienstag"), headers=headers)
    ).status_code == 201

    retention = RetentionJob(
        runtime.sessions,
        metrics=ServiceMetrics("t"),
        clock=FakeClock(T0 + timedelta(days=2, seconds=2)),
    )
    declare_shared_rules(retention, runtime.settings)
    assert (await retention.run_once())["idempotency_keys"] == 1
    async with runtime.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(IdempotencyKey)) == 0


@async_test
async def test_concurrent_requests_with_one_key_on_two_instances_create_one_alliance(
    postgres: PostgresServer,
) -> None:
    name = f"Gleichzeitig {uuid.uuid4().hex[:6]}"
    headers = {**admin(), "Idempotency-Key": f'"{uuid.uuid4()}"'}
    with postgres.database() as url:
        async with directory(url) as first_app, directory(url) as second_app:
            async with client_of(first_app) as one, client_of(second_app) as two:
                responses = await asyncio.gather(
                    *(
                        (one if i % 2 else two).post(
                            "/alliances", json=alliance(name), headers=headers
                        )
                        for i in range(12)
                    )
                )
            created = await alliances_named(first_app, name)

    ran = [r for r in responses if r.status_code == 201 and "Idempotent-Replayed" not in r.headers]
    others = {
        (r.status_code, r.headers.get("Idempotent-Replayed")) for r in responses if r not in ran
    }
    assert created == 1
    assert len(ran) == 1
    assert others <= {(201, "true"), (409, None)}
