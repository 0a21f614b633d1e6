"""Kafka subscriptions of the events service: which event types go to which handler."""

from __future__ import annotations

from lobu.events.service import AllianceReplicas
from lobu.shared import EventHandler, ServiceRuntime
from lobu.shared.contracts.directory import (
    ALLIANCE_CREATED,
    ALLIANCE_DELETED,
    ALLIANCE_SNAPSHOT,
    ALLIANCE_UPDATED,
)
from lobu.shared.topics import DIRECTORY_ALLIANCE

CONSUMER_GROUP = "events"


def alliance_handlers(replicas: AllianceReplicas) -> dict[str, EventHandler]:
    """Which handler each alliance event type goes to (unknown types are ignored)."""
    return {
        ALLIANCE_CREATED: replicas.on_snapshot,
        ALLIANCE_UPDATED: replicas.on_snapshot,
        # A republished snapshot builds or refreshes the replica like an update.
        ALLIANCE_SNAPSHOT: replicas.on_snapshot,
        ALLIANCE_DELETED: replicas.on_deleted,
    }


def subscribe_to_alliances(runtime: ServiceRuntime, replicas: AllianceReplicas) -> None:
    """Follow the public alliance topic (the events service needs no contacts)."""
    runtime.add_consumer(
        name=CONSUMER_GROUP, topics=[DIRECTORY_ALLIANCE], handlers=alliance_handlers(replicas)
    )
