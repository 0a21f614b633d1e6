"""A service's moving parts, created in one place: database, Kafka, outbox relay, consumers,
retention.

The composition root (each service's `main.py`) builds a `ServiceRuntime` from its
settings, registers its consumers, and hands it to `create_service_app`; nothing is
created at import time, so tests build their own runtime with their own settings.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from functools import reduce
from operator import or_
from typing import Any

from faststream.kafka import KafkaBroker
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from lobu.shared.auth import TokenVerifier
from lobu.shared.consumer import EventHandler, ReliableConsumer, subscribe
from lobu.shared.consumer_lag import LagMonitor
from lobu.shared.contracts.base import EventDefinition
from lobu.shared.database import create_engine, create_session_factory, ping
from lobu.shared.idempotency import IdempotencyStore
from lobu.shared.kafka import KafkaConnection, create_broker
from lobu.shared.metrics import ServiceMetrics
from lobu.shared.migrations import upgrade_database
from lobu.shared.offset_commits import OffsetCommits
from lobu.shared.outbox import wake_after_commit
from lobu.shared.relay import OutboxRelay
from lobu.shared.retention import RetentionJob
from lobu.shared.retention_rules import declare_shared_rules
from lobu.shared.safe_errors import describe_error
from lobu.shared.settings import ServiceSettings
from lobu.shared.tracing import configure_tracing

logger = logging.getLogger(__name__)


# How long one step of a shutdown may take before it is abandoned.
STOP_STEP_SECONDS = 15.0


async def _bounded(what: str, step: Awaitable[None]) -> None:
    # asyncio.wait, not wait_for: wait_for would wait for the cancelled step to end too.
    task = asyncio.ensure_future(step)
    done, _ = await asyncio.wait({task}, timeout=STOP_STEP_SECONDS)
    if not done:
        task.cancel()
        logger.warning("stopping %s took over %.0f s; abandoned", what, STOP_STEP_SECONDS)
        return
    if not task.cancelled() and (error := task.exception()):
        logger.warning("stopping %s failed: %s", what, describe_error(error))


@dataclass
class ServiceRuntime:
    """Everything a running service holds on to."""

    service: str
    settings: ServiceSettings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    metrics: ServiceMetrics
    broker: KafkaBroker
    kafka: KafkaConnection
    relay: OutboxRelay
    retention: RetentionJob
    idempotency: IdempotencyStore
    token_verifier: TokenVerifier
    migrations: str
    lag: LagMonitor
    _offset_commits: list[OffsetCommits] = field(default_factory=list)

    @classmethod
    def create(cls, settings: ServiceSettings, *, service: str, migrations: str) -> ServiceRuntime:
        """Build (but do not start) the runtime of `service`."""
        metrics = ServiceMetrics(service=service)
        configure_tracing(service, settings.tracing_otlp_endpoint)
        engine = create_engine(settings.database_url)
        metrics.watch_pool(engine.pool)
        sessions = create_session_factory(engine)
        broker = create_broker(
            bootstrap_servers=settings.kafka_bootstrap_servers, service=service, metrics=metrics
        )
        kafka = KafkaConnection(
            broker, bootstrap_servers=settings.kafka_bootstrap_servers, metrics=metrics
        )
        relay = OutboxRelay(
            sessions,
            kafka.publish,
            metrics=metrics,
            poll_seconds=settings.outbox_poll_seconds,
            max_attempts=settings.outbox_max_attempts,
            kafka_answers=kafka.ping,
        )
        kafka.on_reachable(relay.wake)  # publish at once when Kafka answers again
        wake_after_commit(sessions, relay.wake)  # and as soon as new events commit
        retention = RetentionJob(
            sessions, metrics=metrics, interval_seconds=settings.retention_interval_seconds
        )
        declare_shared_rules(retention, settings)  # a service declares its own tables too
        return cls(
            service=service,
            settings=settings,
            engine=engine,
            sessions=sessions,
            metrics=metrics,
            broker=broker,
            kafka=kafka,
            relay=relay,
            retention=retention,
            idempotency=IdempotencyStore(sessions, retention=settings.idempotency_key_retention),
            token_verifier=TokenVerifier(settings),
            migrations=migrations,
            lag=LagMonitor(
                bootstrap_servers=settings.kafka_bootstrap_servers,
                metrics=metrics,
                interval_seconds=settings.consumer_lag_seconds,
            ),
        )

    @property
    def source(self) -> str:
        """The CloudEvents `source` of what this service publishes."""
        return f"/lobu/{self.service}"

    def declare_publications(self, definitions: Sequence[EventDefinition]) -> None:
        """Describe what this service publishes in its AsyncAPI document."""
        by_topic: dict[str, list[EventDefinition]] = {}
        for definition in definitions:
            by_topic.setdefault(definition.topic, []).append(definition)
        for topic, topic_definitions in by_topic.items():
            schema: Any = reduce(or_, (d.data_model for d in topic_definitions))
            self.broker.publisher(
                topic,
                title=f"{topic}:publish",
                description="CloudEvents (Kafka binary mode) of the types: "
                + ", ".join(d.type for d in topic_definitions),
                schema=schema,
            )

    def add_consumer(
        self, *, name: str, topics: Sequence[str], handlers: dict[str, EventHandler]
    ) -> ReliableConsumer:
        """Subscribe a reliable consumer group `name` to `topics`."""
        consumer = ReliableConsumer(
            name=name,
            sessions=self.sessions,
            handlers=handlers,
            publish=self.kafka.publish,
            metrics=self.metrics,
            max_attempts=self.settings.consumer_max_attempts,
            retry_backoff_seconds=self.settings.consumer_retry_backoff_seconds,
        )
        workers = self.settings.consumer_workers_per_topic
        commits = subscribe(self.broker, consumer, topics, workers_per_topic=workers)
        self._offset_commits.append(commits)
        self.lag.watch(name, topics)
        return consumer

    async def start(self) -> None:
        """Migrate the database, then connect to Kafka and relay the outbox in the background."""
        await upgrade_database(self.engine, self.migrations)
        self.kafka.start()
        self.relay.start()
        self.retention.start()
        self.lag.start()

    async def stop(self) -> None:
        """Stop relaying and consuming, close connections; each step is bounded.

        A shutdown must end (an orchestrator's SIGTERM, a test's teardown) even when a
        step waits on a broker or a database that does not answer: whatever did not
        finish is abandoned with a warning. Nothing is lost by that: unpublished outbox
        rows stay in the database and uncommitted offsets are read again.
        """
        await _bounded("the consumer lag monitor", self.lag.stop())
        await _bounded("the outbox relay", self.relay.stop())
        await _bounded("the retention job", self.retention.stop())
        for commits in self._offset_commits:
            await _bounded("the last offset commits", commits.close())
        await _bounded("the Kafka connection", self.kafka.stop())
        await _bounded("the database engine", self.engine.dispose())

    async def readiness(self) -> dict[str, str]:
        """ "ok" or what is wrong, for the database and Kafka."""
        checks: dict[str, str] = {}
        try:
            await ping(self.engine)
            checks["database"] = "ok"
        except Exception as error:
            checks["database"] = f"unreachable: {error.__class__.__name__}"
        checks["kafka"] = "ok" if await self.kafka.ping() else "unreachable"
        return checks
