"""The FastAPI application every service is: lifespan, errors, metrics, health and docs."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi.telemetry import TelemetryConfig
from faststream.specification import AsyncAPI
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from lobu.shared.docs import docs_app
from lobu.shared.errors import install_problem_handlers
from lobu.shared.input_text import RefuseUnstorableText
from lobu.shared.logs import configure_logging
from lobu.shared.metrics import ScrapeForbiddenError, may_scrape
from lobu.shared.observability import install_request_observability
from lobu.shared.openapi import document_problem_responses
from lobu.shared.routing import check_guarded
from lobu.shared.runtime import ServiceRuntime
from lobu.shared.tracing import provider as tracing_provider
from lobu.shared.web_sessions import install_page_handlers

Hook = Callable[[], Awaitable[None]]

# FastAPI's own OpenTelemetry instrumentation makes the server span of each request
# (named by the route template, continuing a `traceparent` the client sends), current
# while the route runs, so the outbox rows it writes keep its trace (tracing.py).
# Metrics stay Prometheus's; exceptions are not sent as OpenTelemetry logs (their
# messages may hold the values they failed on); probes and scrapes make no trace.
# One span per request: FastAPI's operation spans (dependency resolution, endpoint,
# serialisation, each of them) cost 0.1-0.2 ms of CPU per request (docs/performance.md)
# and say nothing the server span and the logs do not.
_UNTRACED_PATHS = frozenset({"/metrics", "/healthz", "/readyz"})


def _telemetry() -> TelemetryConfig:
    # After the runtime configured the provider with the service's name.
    return {
        "tracer_provider": tracing_provider(),
        "metrics": False,
        "logs": False,
        "operation_spans": False,
        "auto_configure": False,
        "exclude": lambda scope: scope.get("path") in _UNTRACED_PATHS,
    }


def _operations_router(runtime: ServiceRuntime, asyncapi: AsyncAPI) -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz", summary="The process is alive")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz", summary="Database and Kafka are reachable")
    async def readyz() -> JSONResponse:
        checks = await runtime.readiness()
        ready = all(value == "ok" for value in checks.values())
        return JSONResponse(
            {"status": "ok" if ready else "unavailable", "checks": checks},
            status_code=200 if ready else 503,
        )

    @router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        settings = runtime.settings
        if not may_scrape(
            client_host=request.client.host if request.client else None,
            authorization=request.headers.get("Authorization"),
            networks=settings.metrics_allowed_networks,
            token=settings.metrics_token,
        ):
            raise ScrapeForbiddenError(
                "/metrics answers clients in metrics_allowed_networks (loopback by default) "
                "and scrapers that send Authorization: Bearer <metrics_token>."
            )
        return Response(generate_latest(runtime.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @router.get("/asyncapi.json", summary="AsyncAPI document of the Kafka topics")
    async def asyncapi_document(_request: Request) -> Response:
        return Response(asyncapi.to_specification().to_json(), media_type="application/json")

    return router


def create_service_app(
    runtime: ServiceRuntime,
    *,
    title: str,
    description: str,
    routers: Sequence[APIRouter],
    on_start: Sequence[Hook] = (),
    on_stop: Sequence[Hook] = (),
) -> FastAPI:
    """Assemble a service's HTTP app around its runtime.

    The routers' routes that read a body or need a caller must be GuardedRoutes
    (`ServiceRouter`): they authenticate before the body is read and limit its size.
    """
    check_guarded(list(routers))
    settings = runtime.settings
    configure_logging(service=runtime.service, level=settings.log_level, json=settings.log_json)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        for hook in on_start:
            await hook()
        try:
            yield
        finally:
            for hook in reversed(on_stop):
                await hook()
            await runtime.stop()

    app = docs_app(
        title=title,
        description=description,
        version="0.1.0",
        lifespan=lifespan,
        telemetry=_telemetry(),
    )
    app.state.runtime = runtime
    app.state.token_verifier = runtime.token_verifier
    install_problem_handlers(app)
    install_page_handlers(app, settings)
    document_problem_responses(app)
    # Inside the request metrics, so that refused requests are counted too.
    app.add_middleware(RefuseUnstorableText)
    install_request_observability(app, runtime.metrics)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "If-Match", "X-Correlation-ID"],
            expose_headers=["ETag", "Location", "X-Correlation-ID"],
        )
    asyncapi = AsyncAPI(runtime.broker, title=f"{title} events", version="0.1.0")
    app.include_router(_operations_router(runtime, asyncapi))
    for router in routers:
        app.include_router(router)
    return app
