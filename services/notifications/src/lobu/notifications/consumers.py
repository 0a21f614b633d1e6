"""Kafka subscriptions of notifications: which event types go to which handler."""

from __future__ import annotations

from lobu.notifications.service import AllianceReactions
from lobu.shared import ServiceRuntime
from lobu.shared.contracts.directory import (
    ALLIANCE_CONTACTS_CHANGED,
    ALLIANCE_CREATED,
    ALLIANCE_DELETED,
    ALLIANCE_UPDATED,
)
from lobu.shared.topics import DIRECTORY_ALLIANCE, DIRECTORY_ALLIANCE_CONTACTS

CONSUMER_GROUP = "notifications"


def subscribe_to_alliances(runtime: ServiceRuntime, reactions: AllianceReactions) -> None:
    """Follow both alliance topics in one consumer group."""
    runtime.add_consumer(
        name=CONSUMER_GROUP,
        topics=[DIRECTORY_ALLIANCE, DIRECTORY_ALLIANCE_CONTACTS],
        handlers={
            ALLIANCE_CREATED: reactions.on_created,
            ALLIANCE_UPDATED: reactions.on_updated,
            ALLIANCE_DELETED: reactions.on_deleted,
            ALLIANCE_CONTACTS_CHANGED: reactions.on_contacts_changed,
        },
    )
