"""Prometheus metrics of one service, kept in its own registry (no global state)."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


@dataclass
class ServiceMetrics:
    """The metrics every lobu service exposes on /metrics."""

    service: str
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        self.http_requests = Counter(
            "lobu_http_requests_total",
            "HTTP requests by route template, method and status code.",
            ["service", "method", "route", "status"],
            registry=self.registry,
        )
        self.http_latency = Histogram(
            "lobu_http_request_duration_seconds",
            "HTTP request latency by route template, method and status code.",
            ["service", "method", "route", "status"],
            registry=self.registry,
        )
        self.messages_published = Counter(
            "lobu_messages_published_total",
            "Events the outbox relay published to Kafka, by topic.",
            ["service", "topic"],
            registry=self.registry,
        )
        self.messages_consumed = Counter(
            "lobu_messages_consumed_total",
            "Kafka records consumed, by topic and outcome "
            "(handled, duplicate, ignored, dead_lettered).",
            ["service", "consumer", "topic", "outcome"],
            registry=self.registry,
        )
        self.outbox_backlog = Gauge(
            "lobu_outbox_backlog",
            "Events written to the outbox but not yet published.",
            ["service"],
            registry=self.registry,
        )
        self.outbox_parked = Gauge(
            "lobu_outbox_parked",
            "Outbox events parked after repeated refusals by Kafka; they wait for "
            "`lobu outbox retry`, and later events of the same key wait behind them.",
            ["service"],
            registry=self.registry,
        )
        self.outbox_oldest_age = Gauge(
            "lobu_outbox_oldest_unpublished_age_seconds",
            "Age of the oldest unpublished outbox event (0 when none).",
            ["service"],
            registry=self.registry,
        )
        self.kafka_connected = Gauge(
            "lobu_kafka_connected",
            "1 while the service's Kafka client is connected, else 0.",
            ["service"],
            registry=self.registry,
        )
