"""/metrics answers loopback by default, other networks when allowed, and the scrape token."""

from __future__ import annotations

from ipaddress import ip_network
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from lobu.directory.main import create_app
from lobu.directory.settings import DirectorySettings
from lobu.shared.metrics import may_scrape
from lobu.shared.settings import LOOPBACK_NETWORKS
from tests.support.tokens import TEST_AUTH

pytestmark = pytest.mark.unit
served = pytest.mark.asyncio(loop_scope="session")

SCRAPE_TOKEN = "prometheus-scrape-token-0123456789"
OUTSIDE = "203.0.113.9"


async def scrape(
    client_host: str, headers: dict[str, str] | None = None, **settings: Any
) -> httpx.Response:
    app = create_app(
        DirectorySettings(
            database_url="sqlite+aiosqlite://",
            kafka_bootstrap_servers="127.0.0.1:1",
            log_json=False,
            **TEST_AUTH,
            **settings,
        )
    )
    transport = httpx.ASGITransport(app=app, client=(client_host, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://directory") as client:
        return await client.get("/metrics", headers=headers)


@served
@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"])
async def test_loopback_may_scrape_by_default(host: str) -> None:
    response = await scrape(host)

    assert response.status_code == 200
    assert "lobu_http_requests_total" in response.text


@served
async def test_another_network_is_refused_by_default() -> None:
    # Issue 6, item 12: /metrics was open to anyone.
    response = await scrape(OUTSIDE)

    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "metrics_forbidden"
    assert "lobu_" not in response.text


@served
async def test_an_allowed_network_may_scrape() -> None:
    allowed = await scrape(OUTSIDE, metrics_allowed_networks=["203.0.113.0/24"])
    elsewhere = await scrape("198.51.100.1", metrics_allowed_networks=["203.0.113.0/24"])

    assert allowed.status_code == 200
    assert elsewhere.status_code == 403


@served
async def test_the_scrape_token_opens_metrics_from_anywhere() -> None:
    good = await scrape(
        OUTSIDE, {"Authorization": f"Bearer {SCRAPE_TOKEN}"}, metrics_token=SCRAPE_TOKEN
    )
    wrong = await scrape(OUTSIDE, {"Authorization": "Bearer guessed"}, metrics_token=SCRAPE_TOKEN)
    none = await scrape(OUTSIDE, metrics_token=SCRAPE_TOKEN)

    assert good.status_code == 200
    assert wrong.status_code == 403
    assert none.status_code == 403


@served
async def test_an_empty_allow_list_leaves_only_the_token() -> None:
    response = await scrape("127.0.0.1", metrics_allowed_networks=[])

    assert response.status_code == 403


@pytest.mark.parametrize("host", [None, "", "testclient", "not-an-address"])
def test_a_client_without_an_address_needs_the_token(host: str | None) -> None:
    assert not may_scrape(
        client_host=host, authorization=None, networks=LOOPBACK_NETWORKS, token=None
    )
    assert may_scrape(
        client_host=host,
        authorization=f"bearer {SCRAPE_TOKEN}",
        networks=[ip_network("0.0.0.0/0")],
        token=SecretStr(SCRAPE_TOKEN),
    )
