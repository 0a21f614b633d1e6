"""Kafka subscriptions of the surveys service: which event types go to which handler."""

from __future__ import annotations

from lobu.shared import EventHandler, ServiceRuntime
from lobu.shared.contracts.directory import (
    ALLIANCE_CREATED,
    ALLIANCE_DELETED,
    ALLIANCE_SNAPSHOT,
    ALLIANCE_UPDATED,
)
from lobu.shared.topics import DIRECTORY_ALLIANCE
from lobu.surveys.audience import AllianceReplicaReactions

CONSUMER_GROUP = "surveys"


def alliance_handlers(reactions: AllianceReplicaReactions) -> dict[str, EventHandler]:
    """Which handler each alliance event type goes to (unknown types are ignored)."""
    return {
        ALLIANCE_CREATED: reactions.on_snapshot,
        ALLIANCE_UPDATED: reactions.on_snapshot,
        ALLIANCE_SNAPSHOT: reactions.on_snapshot,
        ALLIANCE_DELETED: reactions.on_deleted,
    }


def subscribe_to_alliances(runtime: ServiceRuntime, reactions: AllianceReplicaReactions) -> None:
    """Keep the replica of `directory.alliance` (the public topic only: no contacts needed)."""
    runtime.add_consumer(
        name=CONSUMER_GROUP, topics=[DIRECTORY_ALLIANCE], handlers=alliance_handlers(reactions)
    )
