"""The service's Kafka client: one FastStream broker and one producer, connected in the background.

A service must start and serve HTTP while Kafka is away (writes wait in the
outbox), so the connection is retried in a task instead of failing the start-up.

The FastStream broker runs the subscribers. Records are published through an
aiokafka producer of our own (idempotent, `acks=all`): FastStream's `publish` takes
header values as `str` and encodes them, so header bytes that are not UTF-8 (a dead
letter keeps the original headers) could not go out byte-exact through it, and it
adds `content-type` and `correlation_id` headers of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from aiokafka import AIOKafkaProducer
from aiokafka.client import AIOKafkaClient
from aiokafka.errors import (
    InvalidProducerEpoch,
    OutOfOrderSequenceNumber,
    ProducerFenced,
    UnknownProducerId,
)
from faststream.kafka import KafkaBroker
from faststream.kafka.prometheus import KafkaPrometheusMiddleware

from lobu.shared.envelope import KafkaRecord
from lobu.shared.metrics import ServiceMetrics
from lobu.shared.topic_declarations import ensure_topics

logger = logging.getLogger(__name__)


class KafkaUnavailableError(ConnectionError):
    """Kafka has not been reached yet; the caller should retry later."""


# The broker no longer accepts this producer's sequence (seen after a broker restart
# with records in flight): every later send fails too, until a new producer id is used.
LOST_PRODUCER_STATE = (
    OutOfOrderSequenceNumber,
    UnknownProducerId,
    InvalidProducerEpoch,
    ProducerFenced,
)


def create_broker(*, bootstrap_servers: str, service: str, metrics: ServiceMetrics) -> KafkaBroker:
    """A broker whose producer is idempotent and waits for all in-sync replicas.

    FastStream takes one string as one address; a cluster's "a:9092,b:9092" is split here.
    """
    return KafkaBroker(
        [server.strip() for server in bootstrap_servers.split(",") if server.strip()],
        client_id=f"lobu-{service}",
        acks="all",
        enable_idempotence=True,
        request_timeout_ms=10_000,
        retry_backoff_ms=200,
        graceful_timeout=10.0,
        middlewares=[
            KafkaPrometheusMiddleware(registry=metrics.registry, app_name=f"lobu-{service}")
        ],
        # Under "faststream", whose per-record lines logs.py keeps for DEBUG.
        logger=logging.getLogger(f"faststream.lobu-{service}"),
    )


def create_producer(*, bootstrap_servers: str, service: str) -> AIOKafkaProducer:
    """The producer the relay and the dead-lettering publish through (in a running loop)."""
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers,
        client_id=f"lobu-{service}-producer",
        acks="all",
        enable_idempotence=True,
        request_timeout_ms=10_000,
        retry_backoff_ms=200,
    )


class KafkaConnection:
    """Starts the broker (producer and subscribers), retrying until it is up, then watches it."""

    def __init__(
        self,
        broker: KafkaBroker,
        *,
        bootstrap_servers: str,
        metrics: ServiceMetrics,
        producer_factory: Callable[..., AIOKafkaProducer] = create_producer,
    ) -> None:
        self.broker = broker
        self._producer_factory = producer_factory
        self._replacing = asyncio.Lock()
        self._bootstrap_servers = bootstrap_servers
        self._metrics = metrics
        self._connected = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._producer: AIOKafkaProducer | None = None
        self._on_reachable: list[Callable[[], None]] = []

    def on_reachable(self, callback: Callable[[], None]) -> None:
        """Call `callback` when Kafka is first connected and whenever it answers again."""
        self._on_reachable.append(callback)

    @property
    def connected(self) -> bool:
        """True once the broker has started."""
        return self._connected.is_set()

    def start(self) -> None:
        """Begin connecting in the background."""
        self._task = asyncio.create_task(self._connect_until_up(), name="kafka-connect")

    async def wait_connected(self) -> None:
        """Block until the broker has started."""
        await self._connected.wait()

    async def ping(self, wait_seconds: float = 2.0) -> bool:
        """True when Kafka answers a metadata request now."""
        if not self.connected:
            return False
        return await self.broker.ping(wait_seconds)

    async def publish(self, topic: str, record: KafkaRecord) -> None:
        """Publish one record and wait for Kafka's acknowledgement (acks=all)."""
        producer = self._producer
        if not self.connected or producer is None:
            raise KafkaUnavailableError("not connected to Kafka yet")
        try:
            delivery = await producer.send(
                topic, record.value, key=record.key, headers=list(record.headers.items())
            )
            await delivery
        except LOST_PRODUCER_STATE as error:
            await self._replace_producer(producer)
            raise KafkaUnavailableError(f"producer replaced after {error!r}") from error

    async def _replace_producer(self, broken: AIOKafkaProducer) -> None:
        # Closing the broken producer first: nothing it still holds can reach Kafka
        # after what its successor sends, so a key's order survives the change.
        async with self._replacing:
            if self._producer is not broken:
                return  # another send has replaced it already
            logger.warning("Kafka refused the producer's sequence; starting a new producer")
            await self._stop_producer()
            producer = self._producer_factory(
                bootstrap_servers=self._bootstrap_servers, service=self._metrics.service
            )
            await producer.start()
            self._producer = producer

    async def stop(self) -> None:
        """Stop connecting, or close the broker cleanly."""
        if self._task and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self.connected:
            await self.broker.stop()
        await self._stop_producer()
        self._metrics.kafka_connected.labels(self._metrics.service).set(0)

    async def _kafka_answers(self) -> None:
        # A bare client first: a broker whose start fails leaves its producer unclosed.
        client = AIOKafkaClient(bootstrap_servers=self._bootstrap_servers)
        try:
            await client.bootstrap()
        finally:
            await client.close()

    async def _connect_until_up(self) -> None:
        delay = 0.5
        while True:
            try:
                await self._kafka_answers()
                created = await ensure_topics(self._bootstrap_servers)
                if created:
                    logger.info("created the missing topics %s", ", ".join(created))
                await self.broker.start()
                self._producer = self._producer_factory(
                    bootstrap_servers=self._bootstrap_servers, service=self._metrics.service
                )
                await self._producer.start()
            except Exception as error:
                logger.warning("Kafka is not reachable yet (%s); retrying in %.1f s", error, delay)
                try:
                    await self.broker.stop()
                    await self._stop_producer()
                except Exception:  # a half-started broker may fail to stop; start again anyway
                    logger.debug("cleaning up a failed Kafka start failed", exc_info=True)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
                continue
            self._connected.set()
            self._metrics.kafka_connected.labels(self._metrics.service).set(1)
            logger.info("connected to Kafka")
            self._reachable_again()
            await self._watch()

    async def _stop_producer(self, flush_seconds: float = 10.0) -> None:
        # stop() flushes what the producer holds, which never ends while Kafka is away;
        # what it could not send is still unpublished in the outbox.
        producer, self._producer = self._producer, None
        if producer is not None:
            try:
                await asyncio.wait_for(producer.stop(), timeout=flush_seconds)
            except TimeoutError:
                logger.warning("Kafka producer not flushed in %.0f s; closed anyway", flush_seconds)

    def _reachable_again(self) -> None:
        for callback in self._on_reachable:
            callback()

    async def _watch(self, interval: float = 10.0, away_interval: float = 1.0) -> None:
        # The clients reconnect on their own; this keeps the gauge (and the operators'
        # alert on it) true, and tells the relay at once when Kafka answers again.
        reachable = True
        while True:
            await asyncio.sleep(interval if reachable else away_interval)
            now_reachable = await self.broker.ping(2.0)
            if now_reachable != reachable:
                if now_reachable:  # good news, not a warning
                    logger.info("Kafka is reachable again")
                else:
                    logger.warning("Kafka is unreachable")
                reachable = now_reachable
                if reachable:
                    self._reachable_again()
            self._metrics.kafka_connected.labels(self._metrics.service).set(int(reachable))
