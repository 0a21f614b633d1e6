"""The raw floor of the search benchmark answers exactly what the directory answers.

bench/search_floor_app.py is only a fair floor if it does the service's work: the same
hits in the same order, the same facets, totals and cursors. Here both run on one
PostgreSQL database filled by the benchmark's own generator, and every benchmark path
(text, filter, distance, and a second page through the cursor) is asked of both.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio

from bench.directory_search import (
    CITIES,
    candidate_words,
    generate,
    load,
    scenarios,
    text_words,
)
from bench.search_floor_app import DATABASE_URL
from bench.search_floor_app import create_app as create_floor_app
from lobu.directory.main import create_app
from lobu.directory.settings import DirectorySettings
from tests.support.kafka_server import KafkaServer
from tests.support.postgres_server import PostgresServer
from tests.support.tokens import TEST_AUTH

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

ALLIANCES = 600
PATHS_PER_SCENARIO = 8  # of the benchmark's 16-48 per scenario: the suite's time
SEED = 20261202


@pytest_asyncio.fixture(loop_scope="session")
async def both(
    postgres: PostgresServer, kafka: KafkaServer
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient, list[str]]]:
    """Clients of the directory and of the floor on one filled database, and the paths."""
    with postgres.database("floor") as url:
        directory = create_app(
            DirectorySettings(
                database_url=url,
                kafka_bootstrap_servers=kafka.bootstrap_servers,
                log_json=False,
                **TEST_AUTH,
            )
        )
        async with directory.router.lifespan_context(directory):  # migrates the database
            alliances = generate(ALLIANCES, CITIES, SEED)
            await load(url, alliances)
            words = await text_words(url, candidate_words(alliances), SEED)
            paths = [
                path
                for group in scenarios(words, CITIES, SEED).values()
                for path in group[:PATHS_PER_SCENARIO]
            ]
            os.environ[DATABASE_URL] = url
            floor = create_floor_app()
            async with (
                floor.router.lifespan_context(floor),
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=directory), base_url="http://d"
                ) as service,
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=floor), base_url="http://f"
                ) as raw,
            ):
                yield service, raw, paths
            del os.environ[DATABASE_URL]


async def get(client: httpx.AsyncClient, path: str) -> dict[str, Any]:
    response = await client.get(path)
    assert response.status_code == 200, (path, response.text)
    return dict(response.json())


def differences(floor: dict[str, Any], service: dict[str, Any]) -> list[str]:
    """Where the floor's page differs from the service's: hit by hit and field by field."""
    found = [f"{key}: {floor[key]!r} != {service[key]!r}" for key in service if key != "items"
             and floor.get(key) != service[key]]  # fmt: skip
    if len(floor["items"]) != len(service["items"]):
        return [*found, f"{len(floor['items'])} hits != {len(service['items'])}"]
    for n, (ours, theirs) in enumerate(zip(floor["items"], service["items"], strict=True)):
        found += [f"hit {n} {key}: {ours.get(key)!r} != {theirs[key]!r}"
                  for key in theirs if ours.get(key) != theirs[key]]  # fmt: skip
    return found


async def test_every_benchmark_path_and_its_second_page_answer_alike(
    both: tuple[httpx.AsyncClient, httpx.AsyncClient, list[str]],
) -> None:
    service, floor, paths = both
    assert len(paths) == 3 * PATHS_PER_SCENARIO
    second_pages = 0
    for path in paths:
        expected = await get(service, path)
        assert not differences(await get(floor, path), expected), path
        if expected["next_cursor"]:
            page2 = f"{path}&cursor={expected['next_cursor']}"
            assert not differences(await get(floor, page2), await get(service, page2)), page2
            second_pages += 1
    assert second_pages >= 4  # the cursor path was really taken
