"""Event contracts: the `data` of every CloudEvent lobu publishes, one module per producer.

Producers build these models (unknown fields are refused); consumers read them with
`read_event_data`, which ignores fields they do not know yet.
"""

from __future__ import annotations

from lobu.shared.contracts.base import ContractModel, EventDefinition, read_event_data
from lobu.shared.contracts.registry import EVENT_DEFINITIONS, definition_for

__all__ = [
    "EVENT_DEFINITIONS",
    "ContractModel",
    "EventDefinition",
    "definition_for",
    "read_event_data",
]
