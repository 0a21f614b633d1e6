"""The directory app in-process, on SQLite and on PostgreSQL, with a client and tokens."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest_asyncio
from fastapi import FastAPI

from lobu.directory.main import create_app
from lobu.directory.settings import DirectorySettings
from lobu.shared.auth import Role
from tests.support.kafka_server import KafkaServer
from tests.support.tokens import TEST_AUTH
from tests.support.tokens import bearer as bearer

ADMIN = bearer(Role.ADMIN)


@pytest_asyncio.fixture(loop_scope="session")
async def directory_app(database_url: str, kafka: KafkaServer) -> AsyncIterator[FastAPI]:
    """The directory app, started (migrations run, Kafka connecting, relay on)."""
    app = create_app(
        DirectorySettings(
            database_url=database_url,
            kafka_bootstrap_servers=kafka.bootstrap_servers,
            log_json=False,
            **TEST_AUTH,
        )
    )
    async with app.router.lifespan_context(app):
        yield app


@pytest_asyncio.fixture(loop_scope="session")
async def client(directory_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the app in-process."""
    transport = httpx.ASGITransport(app=directory_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://directory") as http:
        yield http
