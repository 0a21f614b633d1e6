"""Prometheus metrics of one service, kept in its own registry (no global state).

Names follow the Prometheus conventions (`lobu_` prefix, base units, `_total` for
counters). Labels hold only low-cardinality, non-personal values: service, route
templates, topics, event types, consumer groups, partitions, outcomes and reasons;
never a path, an id, an address or a name.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from ipaddress import IPv4Network, IPv6Address, IPv6Network, ip_address
from typing import Any

from fastapi.security.utils import get_authorization_scheme_param
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from pydantic import SecretStr

from lobu.shared.errors import LobuError

# Why a consumer dead-letters a record (the `lobu-dlq-reason` header).
DEAD_LETTER_REASONS = ("malformed", "invalid", "failed")


class ScrapeForbiddenError(LobuError):
    """A client outside the allowed networks, without the scrape token, asked for /metrics."""

    code = "metrics_forbidden"
    status = 403
    title = "Forbidden"


def may_scrape(
    *,
    client_host: str | None,
    authorization: str | None,
    networks: Sequence[IPv4Network | IPv6Network],
    token: SecretStr | None,
) -> bool:
    """True for a client in `networks`, or one that sends `Authorization: Bearer <token>`."""
    if token is not None:
        scheme, offered = get_authorization_scheme_param(authorization)
        expected = token.get_secret_value().encode()
        if scheme.lower() == "bearer" and hmac.compare_digest(offered.encode(), expected):
            return True
    try:
        address = ip_address(client_host or "")
    except ValueError:
        return False  # no peer address (a Unix socket, a test client): only the token
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in networks)


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
        self.outbox_relay_active = Gauge(
            "lobu_outbox_relay_active",
            "1 while this replica's outbox relay holds the lease and publishes, else 0 "
            "(a standby); exactly one replica per database should say 1.",
            ["service"],
            registry=self.registry,
        )
        self.kafka_connected = Gauge(
            "lobu_kafka_connected",
            "1 while the service's Kafka client is connected, else 0.",
            ["service"],
            registry=self.registry,
        )
        self.events_published = Counter(
            "lobu_events_published_total",
            "Outbox events the relay handed to Kafka, by topic, event type and outcome "
            "(published; refused: Kafka answered but refused the record; unavailable: "
            "Kafka or the producer was away; parked: refused too often, kept back).",
            ["service", "topic", "type", "outcome"],
            registry=self.registry,
        )
        self.events_consumed = Counter(
            "lobu_events_consumed_total",
            "Kafka records a consumer group finished with, by topic, event type "
            "('unknown' when the record is no CloudEvent) and outcome.",
            ["service", "group", "topic", "type", "outcome"],
            registry=self.registry,
        )
        self.dead_letters = Counter(
            "lobu_dead_letters_total",
            "Records a consumer group put on <topic>.dlq, by original topic and reason "
            "(malformed, invalid, failed).",
            ["service", "group", "topic", "reason"],
            registry=self.registry,
        )
        self.consumer_lag = Gauge(
            "lobu_consumer_lag_records",
            "Records on a partition the consumer group has not committed yet "
            "(end offset minus committed offset), read from the broker.",
            ["service", "group", "topic", "partition"],
            registry=self.registry,
        )
        self.consumer_last_handled = Gauge(
            "lobu_consumer_last_handled_timestamp_seconds",
            "Unix time at which the consumer group last finished with a record of the topic.",
            ["service", "group", "topic"],
            registry=self.registry,
        )
        self.consumer_record_age = Gauge(
            "lobu_consumer_last_record_age_seconds",
            "Age of the last record the consumer group finished with, when it did "
            "(now minus the record's Kafka timestamp): how far behind the topic it runs.",
            ["service", "group", "topic"],
            registry=self.registry,
        )

    def expect_consumer(self, group: str, topics: Sequence[str]) -> None:
        """Create the dead-letter series of `group` at 0, so the first one is an increase."""
        for topic in topics:
            for reason in DEAD_LETTER_REASONS:
                self.dead_letters.labels(self.service, group, topic, reason)

    def watch_pool(self, pool: object) -> None:
        """Expose the use of a SQLAlchemy connection pool (`engine.pool`)."""
        self.registry.register(PoolCollector(self.service, pool))


class PoolCollector(Collector):
    """`lobu_db_pool_*`: the database connections a service holds, read at each scrape."""

    def __init__(self, service: str, pool: object) -> None:
        self._service = service
        self._pool = pool

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """The pool's size and its connections by state (checked out, idle, overflow)."""
        pool: Any = self._pool
        size = GaugeMetricFamily(
            "lobu_db_pool_size",
            "Connections the database pool keeps open at most without overflow.",
            labels=["service"],
        )
        connections = GaugeMetricFamily(
            "lobu_db_pool_connections",
            "Database connections of the pool by state: checked_out (in use), idle "
            "(open, waiting in the pool), overflow (opened beyond the pool's size).",
            labels=["service", "state"],
        )
        if all(hasattr(pool, name) for name in ("size", "checkedout", "checkedin", "overflow")):
            size.add_metric([self._service], float(pool.size()))
            connections.add_metric([self._service, "checked_out"], float(pool.checkedout()))
            connections.add_metric([self._service, "idle"], float(pool.checkedin()))
            connections.add_metric([self._service, "overflow"], float(max(pool.overflow(), 0)))
        yield size
        yield connections
