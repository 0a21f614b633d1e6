"""Consumer lag: how many records of a topic a consumer group has not committed yet.

Lag is the end offset of each partition minus the group's committed offset there
(for a partition without a committed offset: minus the log start offset, since lobu's
groups start at the earliest record). It is read from the broker, not from one
member, so every instance of a service reports the whole group's lag, also while the
group has no member at all; dashboards and alerts take the `max` over instances.

`read_lag` serves both `lobu consumer lag` and the gauge
`lobu_consumer_lag_records{group,topic,partition}` that `LagMonitor` refreshes in the
consuming service.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from aiokafka.structs import OffsetAndMetadata

from lobu.shared.metrics import ServiceMetrics
from lobu.shared.safe_errors import describe_error

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PartitionLag:
    """One partition of one topic, seen by one consumer group."""

    group: str
    topic: str
    partition: int
    end_offset: int
    committed: int | None  # None: the group has committed nothing on this partition
    log_start: int = 0  # where the group starts when it has committed nothing

    @property
    def lag(self) -> int:
        """Records the group has not committed yet."""
        position = self.committed if self.committed is not None else self.log_start
        return max(self.end_offset - position, 0)


async def read_lag(
    bootstrap_servers: str, group: str, topics: Sequence[str], *, timeout_ms: int = 10_000
) -> list[PartitionLag]:
    """The lag of `group` on every partition of `topics` that exists now."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=timeout_ms)
    reader = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers,
        group_id=None,
        enable_auto_commit=False,
        request_timeout_ms=timeout_ms,
    )
    await admin.start()
    try:
        await reader.start()
        try:
            described = await admin.describe_topics(list(topics))
            partitions = sorted(
                (
                    TopicPartition(found["topic"], int(partition["partition"]))
                    for found in described
                    if found["error_code"] == 0
                    for partition in found["partitions"]
                ),
                key=lambda tp: (tp.topic, tp.partition),
            )
            if not partitions:
                return []
            ends = await reader.end_offsets(partitions)
            starts = await reader.beginning_offsets(partitions)
            committed = await _committed_offsets(admin, group, partitions)
        finally:
            await reader.stop()
    finally:
        await admin.close()
    result = []
    for tp in partitions:
        meta = committed.get(tp)
        result.append(
            PartitionLag(
                group=group,
                topic=tp.topic,
                partition=tp.partition,
                end_offset=int(ends[tp]),
                committed=meta.offset if meta is not None and meta.offset >= 0 else None,
                log_start=int(starts[tp]),
            )
        )
    return result


async def groups_and_topics(
    bootstrap_servers: str, group: str | None = None, *, timeout_ms: int = 10_000
) -> dict[str, list[str]]:
    """The consumer groups (or `group` alone) and the topics each has committed offsets on."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=timeout_ms)
    await admin.start()
    try:
        if group is not None:
            names = [group]
        else:
            names = sorted(str(found[0]) for found in await admin.list_consumer_groups())
        found: dict[str, list[str]] = {}
        for name in names:
            offsets = await _committed_offsets(admin, name, None)
            found[name] = sorted({tp.topic for tp in offsets})
        return found
    finally:
        await admin.close()


async def _committed_offsets(
    admin: AIOKafkaAdminClient,
    group: str,
    partitions: list[TopicPartition] | None,
    tries: int = 20,
) -> dict[TopicPartition, OffsetAndMetadata]:
    # A young broker has no group coordinator until __consumer_offsets exists: retriable.
    for attempt in range(tries):
        try:
            found: dict[
                TopicPartition, OffsetAndMetadata
            ] = await admin.list_consumer_group_offsets(group, partitions=partitions)
            return found
        except KafkaError as error:
            if not error.retriable or attempt == tries - 1:
                raise
            await asyncio.sleep(0.5)
    raise AssertionError("unreachable")


class LagMonitor:
    """Refreshes `lobu_consumer_lag_records` for the service's consumer groups."""

    def __init__(
        self,
        *,
        bootstrap_servers: str,
        metrics: ServiceMetrics,
        interval_seconds: float = 10.0,
    ) -> None:
        self._bootstrap = bootstrap_servers
        self._metrics = metrics
        self._interval = interval_seconds
        self._groups: dict[str, list[str]] = {}
        self._task: asyncio.Task[None] | None = None

    def watch(self, group: str, topics: Sequence[str]) -> None:
        """Report the lag of `group` on `topics`."""
        watched = self._groups.setdefault(group, [])
        watched.extend(topic for topic in topics if topic not in watched)

    @property
    def watching(self) -> bool:
        """True when some consumer group is to be reported."""
        return bool(self._groups)

    def start(self) -> None:
        """Refresh in the background (nothing to do for a service without consumers)."""
        if self._groups:
            self._task = asyncio.create_task(self._run(), name="consumer-lag")

    async def stop(self) -> None:
        """Stop refreshing."""
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def refresh(self) -> None:
        """Read every watched group's lag once and set the gauges."""
        for group, topics in self._groups.items():
            for found in await read_lag(self._bootstrap, group, topics):
                self._metrics.consumer_lag.labels(
                    self._metrics.service, group, found.topic, str(found.partition)
                ).set(found.lag)

    async def _run(self) -> None:
        failures = 0
        while True:
            try:
                await self.refresh()
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as error:  # Kafka away: the gauges keep their last values
                failures += 1
                log = logger.warning if failures == 1 else logger.debug
                log("cannot read the consumer lag (%s)", describe_error(error))
            await asyncio.sleep(self._interval)
