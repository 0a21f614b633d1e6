"""Per-request plumbing: correlation id in and out, request metrics by route template."""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from starlette.routing import Match

from lobu.shared.logs import correlation_id_var
from lobu.shared.metrics import ServiceMetrics

CORRELATION_HEADER = "X-Correlation-ID"


def _route_template(request: Request) -> str:
    # The template ("/alliances/{alliance_id}"), not the path, keeps label cardinality low.
    route = request.scope.get("route")
    if route is not None:
        return str(getattr(route, "path", "unmatched"))
    for candidate in request.app.router.routes:
        match, _ = candidate.matches(request.scope)
        if match is Match.FULL:
            return str(getattr(candidate, "path", "unmatched"))
    return "unmatched"


def install_request_observability(app: FastAPI, metrics: ServiceMetrics) -> None:
    """Count and time every request, and carry a correlation id through it."""

    @app.middleware("http")
    async def observe(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        incoming = request.headers.get(CORRELATION_HEADER, "")
        correlation_id = incoming[:100] if incoming.isprintable() and incoming else None
        token = correlation_id_var.set(correlation_id or str(uuid.uuid4()))
        started = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            response.headers[CORRELATION_HEADER] = correlation_id_var.get() or ""
            return response
        finally:
            route = _route_template(request)
            metrics.http_requests.labels(metrics.service, request.method, route, str(status)).inc()
            metrics.http_latency.labels(
                metrics.service, request.method, route, str(status)
            ).observe(time.perf_counter() - started)
            correlation_id_var.reset(token)
