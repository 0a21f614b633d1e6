"""Facts the directory publishes about alliances.

`directory.alliance` carries the whole public snapshot of an alliance and its
`version`, which grows by one with every change, so that any consumer can keep a
replica and drop stale or duplicate updates. Contacts are personal data and travel
only on the internal topic `directory.alliance-contacts`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import EmailStr, Field, StringConstraints

from lobu.shared.contracts.base import ContractModel, EventDefinition
from lobu.shared.topics import DIRECTORY_ALLIANCE, DIRECTORY_ALLIANCE_CONTACTS

ALLIANCE_CREATED = "lobu.directory.alliance.created.v1"
ALLIANCE_UPDATED = "lobu.directory.alliance.updated.v1"
ALLIANCE_DELETED = "lobu.directory.alliance.deleted.v1"
ALLIANCE_CONTACTS_CHANGED = "lobu.directory.alliance-contacts.changed.v1"

# The 16 Länder as ISO 3166-2 subdivision codes without the "DE-" prefix.
StateCode = Literal[
    "BW", "BY", "BE", "BB", "HB", "HH", "HE", "MV",
    "NI", "NW", "RP", "SL", "SN", "ST", "SH", "TH",
]  # fmt: skip
PostalCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{5}$")]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class AllianceSnapshot(ContractModel):
    """The public record of an alliance at one version (no personal data)."""

    id: str
    name: ShortText
    state: StateCode
    postal_code: PostalCode
    city: ShortText
    topics: list[ShortText] = Field(default_factory=list)
    version: int = Field(ge=1)
    created_at: datetime
    updated_at: datetime


class AllianceCreated(AllianceSnapshot):
    """A new alliance entered the directory."""


class AllianceUpdated(AllianceSnapshot):
    """An alliance's public record changed; `changed_fields` names what changed."""

    changed_fields: list[str] = Field(default_factory=list)


class AllianceDeleted(ContractModel):
    """An alliance left the directory; replicas should forget it."""

    id: str
    version: int = Field(ge=1)
    deleted_at: datetime


class ContactPerson(ContractModel):
    """A person to reach at an alliance (personal data)."""

    name: ShortText
    email: EmailStr
    phone: Annotated[str, StringConstraints(pattern=r"^\+?[0-9 ()/-]{5,30}$")] | None = None
    role: ShortText | None = None


class AllianceContactsChanged(ContractModel):
    """The full list of an alliance's contacts at `version` (empty once deleted)."""

    alliance_id: str
    version: int = Field(ge=1)
    contacts: list[ContactPerson]
    deleted: bool = False


DIRECTORY_EVENTS = (
    EventDefinition(
        ALLIANCE_CREATED, DIRECTORY_ALLIANCE, AllianceCreated, "An alliance was created."
    ),
    EventDefinition(
        ALLIANCE_UPDATED, DIRECTORY_ALLIANCE, AllianceUpdated, "An alliance's record changed."
    ),
    EventDefinition(
        ALLIANCE_DELETED, DIRECTORY_ALLIANCE, AllianceDeleted, "An alliance was removed."
    ),
    EventDefinition(
        ALLIANCE_CONTACTS_CHANGED,
        DIRECTORY_ALLIANCE_CONTACTS,
        AllianceContactsChanged,
        "An alliance's contacts changed (internal topic, personal data).",
        personal_data=True,
    ),
)
