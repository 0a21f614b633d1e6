"""Every Kafka topic's settings, declared in one place and applied by `lobu topics apply`.

The names live in `lobu.shared.topics`; this module says, for each of them and its
dead-letter topic, how many partitions it has, how long it keeps records, and whether
it is compacted. A topic named in `topics.ALL_TOPICS` without an entry here gets the
defaults, so a new topic is declared by its name alone.

Replication is the deployment's: `--replication-factor 3 --min-insync-replicas 2` on a
cluster (with `acks=all`, a write then survives one broker down, and is refused rather
than kept by one replica alone when two are), 1 and 1 on the single local broker.

`apply_topics` creates what is missing and sets the configuration of what exists
(retention, clean-up, min.insync.replicas). It never changes a partition count: that
would move keys to other partitions and break their order, so a difference is only
reported.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import TopicAlreadyExistsError

from lobu.shared.topics import (
    ALL_TOPICS,
    DIRECTORY_ALLIANCE_CONTACTS,
    DIRECTORY_SIGN_IN_LINK,
    dead_letter_topic,
)

__all__ = [
    "TopicSpec", "TopicsReport", "add_topics_command", "apply_topics", "declared_topics",
    "ensure_topics",
]  # fmt: skip

# What the topics keep: a week, as Kafka's default; the inbox keeps longer (retention).
TOPIC_RETENTION = timedelta(days=7)
# Dead letters wait for an operator's replay: a month.
DEAD_LETTER_RETENTION = timedelta(days=30)
PARTITIONS = 3


@dataclass(frozen=True)
class TopicSpec:
    """One topic's declared settings; `retention` None keeps records for ever."""

    name: str
    partitions: int = PARTITIONS
    retention: timedelta | None = TOPIC_RETENTION
    compacted: bool = False

    def config(self, *, min_insync_replicas: int) -> dict[str, str]:
        """The topic-level configuration Kafka stores for it."""
        retention_ms = -1 if self.retention is None else int(self.retention.total_seconds() * 1000)
        return {
            "cleanup.policy": "compact" if self.compacted else "delete",
            "retention.ms": str(retention_ms),
            "min.insync.replicas": str(min_insync_replicas),
        }


# Topics that differ from the defaults. The contacts topic is compacted: it keeps the
# latest contacts of every alliance (a new replica can be built from it) and not the
# history of a person's address. Sign-in links are credentials for 15 minutes: a day
# of them is enough to mail each one, even after an outage of notifications.
_OVERRIDES: dict[str, TopicSpec] = {
    DIRECTORY_ALLIANCE_CONTACTS: TopicSpec(
        DIRECTORY_ALLIANCE_CONTACTS, retention=None, compacted=True
    ),
    DIRECTORY_SIGN_IN_LINK: TopicSpec(DIRECTORY_SIGN_IN_LINK, retention=timedelta(days=1)),
}


def declared_topics() -> list[TopicSpec]:
    """Every topic lobu uses, with its dead-letter topic, as declared."""
    specs: list[TopicSpec] = []
    for name in ALL_TOPICS:
        specs.append(_OVERRIDES.get(name, TopicSpec(name)))
        specs.append(TopicSpec(dead_letter_topic(name), retention=DEAD_LETTER_RETENTION))
    return specs


@dataclass
class TopicsReport:
    """What `apply_topics` did and found."""

    created: list[str] = field(default_factory=list)
    reconfigured: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    # Topics whose partition count differs from the declaration: (name, found, declared).
    partition_differences: list[tuple[str, int, int]] = field(default_factory=list)


async def apply_topics(
    bootstrap_servers: str,
    specs: list[TopicSpec],
    *,
    replication_factor: int,
    min_insync_replicas: int,
) -> TopicsReport:
    """Create the missing topics of `specs` and bring every topic's config to its spec."""
    if not 1 <= min_insync_replicas <= replication_factor:
        raise ValueError("min.insync.replicas must be between 1 and the replication factor")
    report = TopicsReport()
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=30000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [spec for spec in specs if spec.name not in existing]
        if missing:
            await admin.create_topics(
                [
                    NewTopic(
                        spec.name,
                        num_partitions=spec.partitions,
                        replication_factor=replication_factor,
                        topic_configs=spec.config(min_insync_replicas=min_insync_replicas),
                    )
                    for spec in missing
                ]
            )
            report.created = [spec.name for spec in missing]
        present = [spec for spec in specs if spec.name in existing]
        if present:
            await _reconfigure(admin, present, min_insync_replicas, report)
    finally:
        await admin.close()
    return report


async def ensure_topics(bootstrap_servers: str) -> list[str]:
    """Create the declared topics that are missing (a service's start-up); their names.

    A consumer that subscribes to a topic before it exists sees it only at its next
    metadata refresh, minutes later, so every service creates what is missing before
    its subscribers start, instead of leaving it to the broker's auto-creation on the
    first publish. Existing topics are left as they are (`lobu topics apply` sets their
    configuration). Replication follows the cluster's size: 3 replicas with
    min.insync.replicas 2 on three brokers or more, 1 and 1 on a single broker.
    """
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=30000)
    await admin.start()
    try:
        brokers = len((await admin.describe_cluster())["brokers"])
        existing = set(await admin.list_topics())
        missing = [spec for spec in declared_topics() if spec.name not in existing]
        if not missing:
            return []
        replication = min(3, brokers)
        insync = min(2, replication)
        # Another service may create them at the same moment.
        with contextlib.suppress(TopicAlreadyExistsError):
            await admin.create_topics(
                [
                    NewTopic(
                        spec.name,
                        num_partitions=spec.partitions,
                        replication_factor=replication,
                        topic_configs=spec.config(min_insync_replicas=insync),
                    )
                    for spec in missing
                ]
            )
        return [spec.name for spec in missing]
    finally:
        await admin.close()


async def _reconfigure(
    admin: AIOKafkaAdminClient,
    specs: list[TopicSpec],
    min_insync_replicas: int,
    report: TopicsReport,
) -> None:
    described = await admin.describe_topics([spec.name for spec in specs])
    partitions = {topic["topic"]: len(topic["partitions"]) for topic in described}
    resources = [ConfigResource(ConfigResourceType.TOPIC, spec.name) for spec in specs]
    current: dict[str, dict[str, str]] = {}
    for response in await admin.describe_configs(resources):
        for resource in response.resources:
            _error, _message, _type, name, entries = resource[:5]
            current[name] = {entry[0]: entry[1] for entry in entries}
    changes = []
    for spec in specs:
        found = partitions.get(spec.name, spec.partitions)
        if found != spec.partitions:
            report.partition_differences.append((spec.name, found, spec.partitions))
        wanted = spec.config(min_insync_replicas=min_insync_replicas)
        if all(current.get(spec.name, {}).get(key) == value for key, value in wanted.items()):
            report.unchanged.append(spec.name)
            continue
        changes.append(ConfigResource(ConfigResourceType.TOPIC, spec.name, configs=wanted))
        report.reconfigured.append(spec.name)
    if changes:
        await admin.alter_configs(changes)


def add_topics_command(commands: Any) -> None:
    """`lobu topics apply|show`: the declared topics on a broker, or as a list."""
    topics = commands.add_parser("topics", help="create and configure the declared Kafka topics")
    topic_commands = topics.add_subparsers(dest="topics_command", required=True)
    show = topic_commands.add_parser("show", help="print the declared topics (JSON lines)")
    show.set_defaults(run=_show)
    apply = topic_commands.add_parser(
        "apply",
        help="create missing topics, set every topic's configuration",
        description="Create the declared topics that are missing and set retention, "
        "clean-up and min.insync.replicas of all of them. Partition counts are never "
        "changed (a difference is reported, exit status 1). Exit status 3: Kafka not reachable.",
        epilog="example: lobu topics apply --bootstrap 127.0.0.1:9092,127.0.0.1:9094 "
        "--replication-factor 3 --min-insync-replicas 2",
    )
    apply.add_argument(
        "--bootstrap",
        default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
        help="HOST:PORT[,...] of Kafka (default: KAFKA_BOOTSTRAP_SERVERS, else 127.0.0.1:9092)",
    )
    apply.add_argument("--replication-factor", type=int, default=1)
    apply.add_argument("--min-insync-replicas", type=int, default=1)
    apply.set_defaults(run=_apply)


def _show(_args: argparse.Namespace) -> int:
    for spec in declared_topics():
        retention = None if spec.retention is None else spec.retention.total_seconds()
        line = {"topic": spec.name, "partitions": spec.partitions, "retention_s": retention}
        print(json.dumps({**line, "compacted": spec.compacted}))
    return 0


def _apply(args: argparse.Namespace) -> int:
    from aiokafka.errors import KafkaConnectionError, KafkaError

    try:
        report = asyncio.run(
            apply_topics(
                args.bootstrap,
                declared_topics(),
                replication_factor=args.replication_factor,
                min_insync_replicas=args.min_insync_replicas,
            )
        )
    except ValueError as error:
        print(f"lobu topics apply: {error}", file=sys.stderr)
        return 2
    except (KafkaConnectionError, TimeoutError) as error:
        print(
            f"lobu topics apply: Kafka at {args.bootstrap} is not reachable: {error}",
            file=sys.stderr,
        )
        return 3
    except KafkaError as error:
        print(f"lobu topics apply: Kafka refused: {error}", file=sys.stderr)
        return 1
    print(
        f"topics: {len(report.created)} created, {len(report.reconfigured)} reconfigured, "
        f"{len(report.unchanged)} unchanged"
    )
    for name, found, declared in report.partition_differences:
        print(
            f"lobu topics apply: {name} has {found} partitions, {declared} declared; "
            "not changed (keys would move)",
            file=sys.stderr,
        )
    return 1 if report.partition_differences else 0
