"""Every event type lobu knows, by name."""

from __future__ import annotations

from lobu.shared.contracts.base import EventDefinition
from lobu.shared.contracts.directory import DIRECTORY_EVENTS
from lobu.shared.contracts.events import EVENTS_EVENTS
from lobu.shared.contracts.privacy import PRIVACY_EVENTS
from lobu.shared.contracts.surveys import SURVEYS_EVENTS

EVENT_DEFINITIONS: dict[str, EventDefinition] = {
    definition.type: definition
    for definition in (*DIRECTORY_EVENTS, *SURVEYS_EVENTS, *EVENTS_EVENTS, *PRIVACY_EVENTS)
}


def definition_for(event_type: str) -> EventDefinition:
    """The definition of `event_type`; KeyError names the unknown type."""
    try:
        return EVENT_DEFINITIONS[event_type]
    except KeyError:
        raise KeyError(f"unknown event type {event_type!r}") from None
