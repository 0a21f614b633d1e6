"""Facts the events service publishes about the Aktionstag (the 15 May of each year).

`events.action` is public: the moderation and cancellation of actions, with the
action's public record and nothing personal. `events.registration` is internal: a
participant's registration (name, email, seats, the secret cancel link), which
notifications turns into mail.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, get_args

from pydantic import EmailStr, Field, StringConstraints

from lobu.shared.contracts.base import ContractModel, EventDefinition
from lobu.shared.contracts.vocabulary import StateCode
from lobu.shared.topics import EVENTS_ACTION, EVENTS_REGISTRATION

ACTION_SUBMITTED = "lobu.events.action.submitted.v1"
ACTION_PUBLISHED = "lobu.events.action.published.v1"
ACTION_REJECTED = "lobu.events.action.rejected.v1"
ACTION_CANCELLED = "lobu.events.action.cancelled.v1"
REGISTRATION_CONFIRMED = "lobu.events.registration.confirmed.v1"
REGISTRATION_WAITLISTED = "lobu.events.registration.waitlisted.v1"
REGISTRATION_PROMOTED = "lobu.events.registration.promoted.v1"
REGISTRATION_CANCELLED = "lobu.events.registration.cancelled.v1"
REGISTRATION_REMINDED = "lobu.events.registration.reminded.v1"
REGISTRATIONS_LISTED = "lobu.events.registration.listed.v1"

# Who an action is meant for; codes travel in filters and events, labels are German.
TARGET_GROUPS: dict[str, str] = {
    "familien": "Familien",
    "kinder": "Kinder",
    "jugendliche": "Jugendliche",
    "eltern": "Eltern",
    "alleinerziehende": "Alleinerziehende",
    "grosseltern": "Großeltern",
    "senioren": "Seniorinnen und Senioren",
    "beschaeftigte": "Beschäftigte",
    "unternehmen": "Unternehmen",
    "fachkraefte": "Fachkräfte",
    "alle": "Alle",
}
TargetGroup = Literal[
    "familien", "kinder", "jugendliche", "eltern", "alleinerziehende", "grosseltern",
    "senioren", "beschaeftigte", "unternehmen", "fachkraefte", "alle",
]  # fmt: skip
if set(get_args(TargetGroup)) != set(TARGET_GROUPS):
    raise RuntimeError("TargetGroup and TARGET_GROUPS name different codes")

# Why a registration ended: the participant cancelled, the action was cancelled, or its
# alliance left the directory (deleted or dissolved) and the action was withdrawn.
CancellationReason = Literal["participant", "action_cancelled", "alliance_withdrawn"]
# Why an action was cancelled.
ActionCancellationReason = Literal["cancelled", "alliance_deleted", "alliance_dissolved"]

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class ActionSnapshot(ContractModel):
    """The public record of an action (no personal data)."""

    id: str
    edition_year: int
    alliance_id: str
    alliance_name: str
    alliance_slug: str | None = None
    land: StateCode | None = None
    title: Title
    starts_at: datetime
    ends_at: datetime
    online: bool = False
    postal_code: str | None = None
    city: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    target_groups: list[TargetGroup] = Field(default_factory=list)
    capacity: int | None = Field(default=None, ge=1)
    registration_required: bool = False
    state: Literal["submitted", "published", "rejected", "cancelled"]
    version: int = Field(ge=1)


class ActionSubmitted(ActionSnapshot):
    """A coordinator handed an action to the Servicebüro for moderation."""


class ActionPublished(ActionSnapshot):
    """The Servicebüro accepted an action; it is in the public programme."""


class ActionRejected(ActionSnapshot):
    """The Servicebüro sent an action back; `reason` says what to change."""

    reason: str


class ActionCancelled(ActionSnapshot):
    """An action will not take place (its registrations are cancelled with it)."""

    reason: ActionCancellationReason = "cancelled"


class RegistrationFact(ContractModel):
    """A registration as a participant's mail needs it (personal data, internal topic)."""

    registration_id: str
    action_id: str
    edition_year: int
    alliance_id: str
    alliance_name: str
    action_title: str
    starts_at: datetime
    ends_at: datetime
    online: bool = False
    place: str | None = Field(default=None, description="Street, postal code and city")
    online_url: str | None = None
    name: str
    email: EmailStr
    seats: int = Field(ge=1)
    status: Literal["confirmed", "waitlisted", "cancelled"]
    # The absolute link that shows and cancels the registration (None once cancelled).
    cancel_url: str | None = None


class RegistrationConfirmed(RegistrationFact):
    """Seats were free: the participant has them."""


class RegistrationWaitlisted(RegistrationFact):
    """The action was full: the request waits, whole, for seats to free up."""

    seats_ahead: int = Field(ge=0, description="Seats requested by those waiting before")


class RegistrationPromoted(RegistrationFact):
    """Seats freed up and this waiting request got all of them."""


class RegistrationCancelled(RegistrationFact):
    """The registration ended; `reason` says why."""

    reason: CancellationReason


class RegistrationReminded(RegistrationFact):
    """The day before the action: a reminder to a confirmed participant (no link: the
    secret exists only in the first mail)."""


class Participant(ContractModel):
    """One confirmed registration in the coordinators' list."""

    name: str
    email: EmailStr
    seats: int = Field(ge=1)


class RegistrationsListed(ContractModel):
    """The day before the action: who is coming, for the alliance's coordinators."""

    action_id: str
    edition_year: int
    alliance_id: str
    alliance_name: str
    action_title: str
    starts_at: datetime
    ends_at: datetime
    online: bool = False
    place: str | None = None
    online_url: str | None = None
    capacity: int | None = None
    seats_confirmed: int = Field(ge=0)
    seats_waiting: int = Field(ge=0, description="Seats of requests still on the waiting list")
    participants: list[Participant] = Field(description="Confirmed, in order of arrival")


EVENTS_EVENTS = (
    EventDefinition(
        ACTION_SUBMITTED, EVENTS_ACTION, ActionSubmitted, "An action awaits moderation."
    ),
    EventDefinition(
        ACTION_PUBLISHED, EVENTS_ACTION, ActionPublished, "An action entered the programme."
    ),
    EventDefinition(
        ACTION_REJECTED, EVENTS_ACTION, ActionRejected, "An action was sent back, with a reason."
    ),
    EventDefinition(
        ACTION_CANCELLED, EVENTS_ACTION, ActionCancelled, "An action will not take place."
    ),
    EventDefinition(
        REGISTRATION_CONFIRMED,
        EVENTS_REGISTRATION,
        RegistrationConfirmed,
        "A participant got seats (internal topic, personal data).",
        personal_data=True,
    ),
    EventDefinition(
        REGISTRATION_WAITLISTED,
        EVENTS_REGISTRATION,
        RegistrationWaitlisted,
        "A participant's request waits for seats (internal topic, personal data).",
        personal_data=True,
    ),
    EventDefinition(
        REGISTRATION_PROMOTED,
        EVENTS_REGISTRATION,
        RegistrationPromoted,
        "A waiting request got its seats (internal topic, personal data).",
        personal_data=True,
    ),
    EventDefinition(
        REGISTRATION_CANCELLED,
        EVENTS_REGISTRATION,
        RegistrationCancelled,
        "A registration ended (internal topic, personal data).",
        personal_data=True,
    ),
    EventDefinition(
        REGISTRATION_REMINDED,
        EVENTS_REGISTRATION,
        RegistrationReminded,
        "A confirmed participant is reminded the day before (internal topic, personal data).",
        personal_data=True,
    ),
    EventDefinition(
        REGISTRATIONS_LISTED,
        EVENTS_REGISTRATION,
        RegistrationsListed,
        "The coordinators get the list of who is coming (internal topic, personal data).",
        personal_data=True,
    ),
)
