"""Committing a consumer's offsets in the background, after the effects are durable.

A record's offset may be committed once its effect (with its inbox entry) or its dead
letter is durable; committing it later than that is always safe, because a record read
again is found in the inbox and does nothing. Waiting for Kafka's answer to every
commit is not: the group coordinator batches its writes (Kafka 4's coordinator waits
`group.coordinator.append.linger.ms`, 5 ms by default), so a consumer that awaits
each commit handles at most about 130 records a second, whatever its handler costs
(measured by bench/pipeline_consumer.py).

So a subscription hands each handled record's position to `OffsetCommits`, which
commits the newest position of every partition at most every `interval_seconds`, in
the background and with explicit offsets: never the consumer's current position,
which may already be past a record still being handled. A commit that fails (a
rebalance took the partition, the consumer stopped) is logged and dropped: the new
owner reads a few handled records again, and the inbox absorbs them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from aiokafka import TopicPartition

from lobu.shared.safe_errors import describe_error

logger = logging.getLogger(__name__)


class OffsetCommits:
    """The handled positions of one subscription, committed a moment later in batches."""

    def __init__(self, *, interval_seconds: float = 0.05) -> None:
        self._interval = interval_seconds
        # Per consumer (FastStream may build a new one after a reconnect): partition ->
        # the offset of the next record to read, i.e. the last handled one plus one.
        self._pending: dict[Any, dict[TopicPartition, int]] = {}
        self._task: asyncio.Task[None] | None = None

    def handled(self, consumer: Any, topic: str, partition: int, offset: int) -> None:
        """The record at `offset` is durable: its position may be committed."""
        self._pending.setdefault(consumer, {})[TopicPartition(topic, partition)] = offset + 1
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._commit_while_pending(), name="offset-commits")

    async def _commit_while_pending(self) -> None:
        while self._pending:
            await asyncio.sleep(self._interval)
            await self.flush()

    async def flush(self) -> None:
        """Commit every pending position now."""
        pending, self._pending = self._pending, {}
        for consumer, offsets in pending.items():
            try:
                await consumer.commit(offsets)
            except Exception as error:  # a rebalance or a stop: those records come again
                logger.info(
                    "could not commit offsets of %d partitions (%s); the inbox absorbs "
                    "what is read again",
                    len(offsets), describe_error(error),
                )  # fmt: skip

    async def close(self) -> None:
        """Commit what is pending and end the background task (before the consumer stops)."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.flush()
