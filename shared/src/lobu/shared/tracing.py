"""Tracing: OpenTelemetry spans, and the W3C trace context carried inside each CloudEvent.

Spans are always made (an SDK `TracerProvider` is installed on first use), so every
span has a real trace id and every record a traced request causes carries it: the
outbox stores the `traceparent` of the transaction that wrote the row, the relay
publishes it as the CloudEvents distributed-tracing extension (`ce_traceparent`), the
consumer continues the trace from it, and notifications keeps it on each delivery so
that sending the mail is one more span of the same trace. Exporting is separate: only
with `tracing_otlp_endpoint` (or the standard `OTEL_EXPORTER_OTLP_ENDPOINT` /
`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) are spans sent, over OTLP/HTTP.

One process is one service, so the provider is the process's global one; its
`service.name` is `lobu-<service>` of the first runtime created in the process.
"""

from __future__ import annotations

import os
import threading

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

PROPAGATOR = TraceContextTextMapPropagator()
TRACEPARENT = "traceparent"
# The W3C traceparent: version-traceid-parentid-flags, 55 characters.
TRACEPARENT_LENGTH = 55

_lock = threading.Lock()
_exporting: set[str] = set()


def provider(service: str | None = None) -> TracerProvider:
    """The process's SDK tracer provider, installed on first use."""
    with _lock:
        current = trace.get_tracer_provider()
        if isinstance(current, TracerProvider):
            return current
        name = f"lobu-{service}" if service else "lobu"
        installed = TracerProvider(resource=Resource.create({"service.name": name}))
        trace.set_tracer_provider(installed)
        return installed


def tracer() -> trace.Tracer:
    """lobu's tracer on the process's provider."""
    return provider().get_tracer("lobu.shared")


def configure_tracing(service: str, otlp_endpoint: str | None = None) -> TracerProvider:
    """Install the provider for `service`; export over OTLP/HTTP when an endpoint is given.

    `otlp_endpoint` is the full traces URL (`http://collector:4318/v1/traces`); without
    it, the standard OTEL_EXPORTER_OTLP_* variables are honoured; with neither, spans
    are made and propagated but not exported.
    """
    installed = provider(service)
    configured = (
        otlp_endpoint
        or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        or (os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"))
    )
    if configured:
        with _lock:
            if configured not in _exporting:
                from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
                    OTLPSpanExporter,
                )

                exporter = (
                    OTLPSpanExporter(endpoint=otlp_endpoint)
                    if otlp_endpoint
                    else (OTLPSpanExporter())
                )
                installed.add_span_processor(BatchSpanProcessor(exporter))
                _exporting.add(configured)
    return installed


def current_traceparent() -> str | None:
    """The `traceparent` of the current span, None outside a valid one."""
    carrier: dict[str, str] = {}
    PROPAGATOR.inject(carrier)
    found = carrier.get(TRACEPARENT)
    return found if found and len(found) <= TRACEPARENT_LENGTH else None


def context_of(traceparent: str | None) -> Context | None:
    """The context a span continues from `traceparent` (None: a new trace)."""
    if not traceparent:
        return None
    extracted = PROPAGATOR.extract({TRACEPARENT: traceparent})
    if not trace.get_current_span(extracted).get_span_context().is_valid:
        return None
    return extracted
