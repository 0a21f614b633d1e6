"""What the webhook tests share: a database, a clock the test moves, the sender, events."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Network, IPv6Network
from types import SimpleNamespace
from typing import Any

from prometheus_client import CollectorRegistry
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import SQLModel, col

import lobu.shared.inbox  # registers the inbox table with SQLModel.metadata
import lobu.shared.outbox  # noqa: F401  # registers the outbox table with SQLModel.metadata
from lobu.notifications.dispatcher import DeliveryMetrics
from lobu.notifications.main import create_metrics, create_webhook_metrics
from lobu.notifications.models import Delivery
from lobu.notifications.webhook_fanout import WEBHOOK, record_webhook_deliveries
from lobu.notifications.webhook_sender import WebhookMetrics, WebhookPolicy, WebhookSender
from lobu.notifications.webhook_urls import Resolver, resolve_host
from lobu.shared import Envelope, utc_now
from lobu.shared.contracts.directory import ALLIANCE_CREATED, AllianceCreated
from lobu.shared.database import create_engine, create_session_factory

Sessions = async_sessionmaker[AsyncSession]
LOOPBACK = (IPv4Network("127.0.0.0/8"), IPv6Network("::1/128"))
MOMENT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


class Clock:
    """The sender's clock: a minute ahead of the real time when created (so what the test
    writes afterwards is due), then only where the test moves it."""

    def __init__(self) -> None:
        self.now = utc_now() + timedelta(minutes=1)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


async def sqlite_sessions(url: str) -> AsyncIterator[Sessions]:
    """A fresh database with notifications' tables."""
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(SQLModel.metadata.create_all)
    yield create_session_factory(engine)
    await engine.dispose()


@dataclass
class Metrics:
    """The webhook metrics in a registry of the test's own."""

    registry: CollectorRegistry
    webhook: WebhookMetrics
    mail: DeliveryMetrics

    def value(self, name: str, **labels: str) -> float:
        return self.registry.get_sample_value(name, labels) or 0.0


def new_metrics() -> Metrics:
    registry = CollectorRegistry()
    runtime: Any = SimpleNamespace(metrics=SimpleNamespace(registry=registry))
    mail = create_metrics(runtime)
    return Metrics(
        registry=registry, webhook=create_webhook_metrics(runtime, mail.outcomes), mail=mail
    )


def sender_for(
    sessions: Sessions,
    metrics: Metrics,
    clock: Clock,
    *,
    resolver: Resolver = resolve_host,
    allowed: Sequence[IPv4Network | IPv6Network] = LOOPBACK,
    **policy: Any,
) -> WebhookSender:
    """The sender as main.py builds it, with the test's clock and no jitter (waits exact)."""
    return WebhookSender(
        sessions,
        metrics=metrics.webhook,
        policy=WebhookPolicy(allowed_networks=tuple(allowed), **policy),
        clock=clock,
        resolver=resolver,
        jitter=lambda: 0.5,
    )


def alliance_created(alliance_id: str, *, name: str = "Bündnis Lüneburg") -> Envelope:
    """A public `created` fact, as the directory publishes it."""
    data = AllianceCreated(
        id=alliance_id,
        slug=f"buendnis-{alliance_id[:8]}",
        name=name,
        state="NI",
        postal_code="21335",
        city="Lüneburg",
        topics=["kinderbetreuung"],
        version=1,
        created_at=MOMENT,
        updated_at=MOMENT,
    )
    return Envelope(
        type=ALLIANCE_CREATED,
        source="/lobu/directory",
        subject=alliance_id,
        data=data.model_dump(mode="json"),
    )


async def publish(sessions: Sessions, *envelopes: Envelope) -> None:
    """Write the webhook deliveries of each fact in its own transaction, as the consumer does."""
    for envelope in envelopes:
        async with sessions() as session, session.begin():
            await record_webhook_deliveries(session, envelope)


async def webhook_deliveries(sessions: Sessions, subscription_id: str) -> list[Delivery]:
    async with sessions() as session:
        return list(
            (
                await session.scalars(
                    select(Delivery)
                    .where(
                        col(Delivery.channel) == WEBHOOK,
                        col(Delivery.recipient) == subscription_id,
                    )
                    .order_by(col(Delivery.id))
                )
            ).all()
        )
