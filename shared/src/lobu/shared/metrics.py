"""Prometheus metrics of one service, kept in its own registry (no global state)."""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from dataclasses import dataclass, field
from ipaddress import IPv4Network, IPv6Address, IPv6Network, ip_address

from fastapi.security.utils import get_authorization_scheme_param
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from pydantic import SecretStr

from lobu.shared.errors import LobuError


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
        self.kafka_connected = Gauge(
            "lobu_kafka_connected",
            "1 while the service's Kafka client is connected, else 0.",
            ["service"],
            registry=self.registry,
        )
