"""Request plumbing: a correlation id in and out of every request, metrics by route template."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from lobu.shared.errors import install_problem_handlers
from lobu.shared.logs import correlation_id_var
from lobu.shared.metrics import ServiceMetrics
from lobu.shared.observability import CORRELATION_HEADER, install_request_observability

pytestmark = pytest.mark.unit

SERVICE = "shared-test"


def observed_app(metrics: ServiceMetrics) -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    install_request_observability(app, metrics)

    @app.get("/alliances/{alliance_id}")
    async def alliance(alliance_id: str) -> dict[str, str | None]:
        return {"id": alliance_id, "correlation_id": correlation_id_var.get()}

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("unexpected")

    return app


@pytest_asyncio.fixture(loop_scope="session")
async def client(metrics: ServiceMetrics) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=observed_app(metrics), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://shared") as http:
        yield http


def requests_counted(metrics: ServiceMetrics, method: str, route: str, status: str) -> float:
    labels = {"service": SERVICE, "method": method, "route": route, "status": status}
    return metrics.registry.get_sample_value("lobu_http_requests_total", labels) or 0.0


def latencies_observed(metrics: ServiceMetrics, method: str, route: str, status: str) -> float:
    labels = {"service": SERVICE, "method": method, "route": route, "status": status}
    return (
        metrics.registry.get_sample_value("lobu_http_request_duration_seconds_count", labels) or 0.0
    )


@pytest.mark.asyncio(loop_scope="session")
async def test_an_incoming_correlation_id_is_used_and_echoed(client: httpx.AsyncClient) -> None:
    response = await client.get("/alliances/a-1", headers={CORRELATION_HEADER: "corr-from-gateway"})

    assert response.headers[CORRELATION_HEADER] == "corr-from-gateway"
    assert response.json()["correlation_id"] == "corr-from-gateway"
    assert correlation_id_var.get() is None


@pytest.mark.asyncio(loop_scope="session")
async def test_a_request_without_correlation_id_gets_a_fresh_one(
    client: httpx.AsyncClient,
) -> None:
    first = await client.get("/alliances/a-1")
    second = await client.get("/alliances/a-1")

    generated = first.headers[CORRELATION_HEADER]
    assert generated
    assert first.json()["correlation_id"] == generated
    assert second.headers[CORRELATION_HEADER] != generated


@pytest.mark.asyncio(loop_scope="session")
async def test_a_long_correlation_id_is_cut_to_a_hundred_characters(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/alliances/a-1", headers={CORRELATION_HEADER: "c" * 500})

    assert response.headers[CORRELATION_HEADER] == "c" * 100


@pytest.mark.asyncio(loop_scope="session")
async def test_a_correlation_id_with_control_characters_is_replaced(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/alliances/a-1", headers={CORRELATION_HEADER: "evil\tid"})

    assert response.headers[CORRELATION_HEADER] != "evil\tid"
    assert response.headers[CORRELATION_HEADER]


@pytest.mark.asyncio(loop_scope="session")
async def test_requests_are_counted_and_timed_by_route_template_and_status(
    client: httpx.AsyncClient, metrics: ServiceMetrics
) -> None:
    await client.get("/alliances/a-1")
    await client.get("/alliances/a-2")

    assert requests_counted(metrics, "GET", "/alliances/{alliance_id}", "200") == 2
    assert latencies_observed(metrics, "GET", "/alliances/{alliance_id}", "200") == 2
    assert requests_counted(metrics, "GET", "/alliances/a-1", "200") == 0


@pytest.mark.asyncio(loop_scope="session")
async def test_an_unknown_path_is_counted_as_unmatched(
    client: httpx.AsyncClient, metrics: ServiceMetrics
) -> None:
    response = await client.get("/no/such/path/123")

    assert response.status_code == 404
    assert requests_counted(metrics, "GET", "unmatched", "404") == 1


@pytest.mark.asyncio(loop_scope="session")
async def test_a_failing_request_is_counted_as_500(
    client: httpx.AsyncClient, metrics: ServiceMetrics
) -> None:
    response = await client.get("/boom")

    assert response.status_code == 500
    assert requests_counted(metrics, "GET", "/boom", "500") == 1
    assert latencies_observed(metrics, "GET", "/boom", "500") == 1
