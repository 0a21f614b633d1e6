"""Kafka subscriptions of notifications: which event types go to which handler."""

from __future__ import annotations

from lobu.notifications.service import AllianceReactions
from lobu.shared import EventHandler, ServiceRuntime
from lobu.shared.contracts.directory import (
    ALLIANCE_CONTACTS_CHANGED,
    ALLIANCE_CREATED,
    ALLIANCE_DELETED,
    ALLIANCE_SNAPSHOT,
    ALLIANCE_UPDATED,
)
from lobu.shared.topics import DIRECTORY_ALLIANCE, DIRECTORY_ALLIANCE_CONTACTS

CONSUMER_GROUP = "notifications"


def alliance_handlers(reactions: AllianceReactions) -> dict[str, EventHandler]:
    """Which handler each alliance event type goes to (unknown types are ignored)."""
    return {
        ALLIANCE_CREATED: reactions.on_created,
        ALLIANCE_UPDATED: reactions.on_updated,
        # A republished snapshot refreshes the replica like an update (no welcome).
        ALLIANCE_SNAPSHOT: reactions.on_updated,
        ALLIANCE_DELETED: reactions.on_deleted,
        ALLIANCE_CONTACTS_CHANGED: reactions.on_contacts_changed,
    }


def subscribe_to_alliances(runtime: ServiceRuntime, reactions: AllianceReactions) -> None:
    """Follow both alliance topics in one consumer group."""
    runtime.add_consumer(
        name=CONSUMER_GROUP,
        topics=[DIRECTORY_ALLIANCE, DIRECTORY_ALLIANCE_CONTACTS],
        handlers=alliance_handlers(reactions),
    )
