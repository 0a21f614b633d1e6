"""A directory given no environment fails closed: no start without a secret, no forged tokens."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from pydantic import ValidationError

from lobu.directory.main import create_app
from lobu.shared.auth import Role, create_token
from lobu.shared.settings import DEVELOPMENT_JWT_SECRET

pytestmark = pytest.mark.unit
served = pytest.mark.asyncio(loop_scope="session")

DEPLOYMENT_SECRET = "the-deployments-own-secret-0123456789abcdef"


def only_these(monkeypatch: pytest.MonkeyPatch, **variables: str) -> None:
    """The process environment holds these LOBU_DIRECTORY_ variables and no other."""
    for name in list(os.environ):
        if name.startswith("LOBU_"):
            monkeypatch.delenv(name)
    for name, value in variables.items():
        monkeypatch.setenv(f"LOBU_DIRECTORY_{name}", value)


def test_without_any_environment_the_directory_refuses_to_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    only_these(monkeypatch)

    with pytest.raises(ValidationError, match="LOBU_DIRECTORY_JWT_SECRET"):
        create_app()


@pytest.mark.parametrize("environment", ["production", "test"])
def test_the_published_secret_is_refused_unless_development_is_said(
    monkeypatch: pytest.MonkeyPatch, environment: str
) -> None:
    only_these(monkeypatch, ENVIRONMENT=environment, JWT_SECRET=DEVELOPMENT_JWT_SECRET)

    with pytest.raises(ValidationError, match="published development secret"):
        create_app()


@pytest_asyncio.fixture(loop_scope="session")
async def deployed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    """The directory as a deployment that set its secret and database, and nothing else."""
    only_these(
        monkeypatch,
        JWT_SECRET=DEPLOYMENT_SECRET,
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/d.db",
        KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:1",
        LOG_JSON="false",
    )
    app: FastAPI = create_app()
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://directory") as client:
            yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@served
async def test_a_token_signed_with_the_development_secret_is_refused(
    deployed: httpx.AsyncClient,
) -> None:
    forged = create_token(secret=DEVELOPMENT_JWT_SECRET, role=Role.ADMIN)

    response = await deployed.get("/alliances/any/audit", headers=bearer(forged))

    assert response.status_code == 401
    assert "Signature" in response.json()["detail"]


@served
async def test_a_token_from_another_issuer_is_refused(deployed: httpx.AsyncClient) -> None:
    foreign = create_token(secret=DEPLOYMENT_SECRET, role=Role.ADMIN, issuer="not-lobu")

    response = await deployed.get("/alliances/any/audit", headers=bearer(foreign))

    assert response.status_code == 401
    assert "issuer" in response.json()["detail"].lower()


@served
async def test_the_deployments_own_token_is_accepted(deployed: httpx.AsyncClient) -> None:
    own = create_token(secret=DEPLOYMENT_SECRET, role=Role.ADMIN)

    response = await deployed.get("/alliances/any/audit", headers=bearer(own))

    assert response.status_code not in (401, 403)
