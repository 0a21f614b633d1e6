"""Offsets are committed after the effect, in the background, with explicit positions."""

from __future__ import annotations

import asyncio
import logging

import pytest
from aiokafka import TopicPartition

from lobu.shared.offset_commits import OffsetCommits

pytestmark = pytest.mark.unit


class RecordingConsumer:
    """Stands in for an AIOKafkaConsumer: records the offsets it is asked to commit."""

    def __init__(self, *, fail: bool = False) -> None:
        self.commits: list[dict[TopicPartition, int]] = []
        self.fail = fail

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        if self.fail:
            raise RuntimeError("CommitFailedError: the group rebalanced")
        self.commits.append(dict(offsets))


@pytest.mark.asyncio(loop_scope="session")
async def test_the_newest_handled_position_per_partition_is_committed_once_a_moment_later() -> None:
    consumer = RecordingConsumer()
    commits = OffsetCommits(interval_seconds=0.02)
    for offset in range(5):
        commits.handled(consumer, "alliances", 0, offset)
    commits.handled(consumer, "alliances", 1, 41)
    assert consumer.commits == []  # nobody waits for Kafka's answer in the handler
    await asyncio.sleep(0.1)
    # One commit for six records, the position after the last handled one of each.
    assert consumer.commits == [
        {TopicPartition("alliances", 0): 5, TopicPartition("alliances", 1): 42}
    ]


@pytest.mark.asyncio(loop_scope="session")
async def test_records_handled_while_a_commit_is_underway_are_committed_too() -> None:
    consumer = RecordingConsumer()
    commits = OffsetCommits(interval_seconds=0.02)
    commits.handled(consumer, "alliances", 0, 0)
    await asyncio.sleep(0.06)
    commits.handled(consumer, "alliances", 0, 1)
    await asyncio.sleep(0.06)
    assert consumer.commits == [
        {TopicPartition("alliances", 0): 1},
        {TopicPartition("alliances", 0): 2},
    ]


@pytest.mark.asyncio(loop_scope="session")
async def test_close_commits_what_is_pending_at_once() -> None:
    consumer = RecordingConsumer()
    commits = OffsetCommits(interval_seconds=60)
    commits.handled(consumer, "alliances", 2, 7)
    await commits.close()
    assert consumer.commits == [{TopicPartition("alliances", 2): 8}]


@pytest.mark.asyncio(loop_scope="session")
async def test_a_failed_commit_is_logged_and_dropped(caplog: pytest.LogCaptureFixture) -> None:
    consumer = RecordingConsumer(fail=True)
    commits = OffsetCommits(interval_seconds=60)
    commits.handled(consumer, "alliances", 0, 3)
    with caplog.at_level(logging.INFO, logger="lobu.shared.offset_commits"):
        await commits.close()
    assert "could not commit offsets of 1 partitions" in caplog.text
    consumer.fail = False
    await commits.flush()
    assert consumer.commits == []  # dropped: the records come again, the inbox absorbs them
