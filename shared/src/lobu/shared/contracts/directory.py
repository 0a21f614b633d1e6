"""Facts the directory publishes about alliances.

`directory.alliance` carries the whole public snapshot of an alliance and its
`version`, which grows by one with every change, so that any consumer can keep a
replica and drop stale or duplicate updates. Contacts are personal data and travel
only on the internal topic `directory.alliance-contacts`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal, Self
from urllib.parse import urlsplit

from pydantic import AfterValidator, EmailStr, Field, StringConstraints, model_validator

from lobu.shared.contracts.base import ContractModel, EventDefinition
from lobu.shared.contracts.vocabulary import (
    AllianceStatus,
    AwardCode,
    PartnerType,
    SocialPlatform,
    Staffing,
    StateCode,
    TopicCode,
)
from lobu.shared.topics import (
    DIRECTORY_ALLIANCE,
    DIRECTORY_ALLIANCE_CONTACTS,
    DIRECTORY_CONTACT_MESSAGE,
    DIRECTORY_SIGN_IN_LINK,
)

ALLIANCE_CREATED = "lobu.directory.alliance.created.v1"
ALLIANCE_UPDATED = "lobu.directory.alliance.updated.v1"
ALLIANCE_DELETED = "lobu.directory.alliance.deleted.v1"
ALLIANCE_SNAPSHOT = "lobu.directory.alliance.snapshot.v1"
ALLIANCE_CONTACTS_CHANGED = "lobu.directory.alliance-contacts.changed.v1"
CONTACT_MESSAGE_SUBMITTED = "lobu.directory.contact-message.submitted.v1"
SIGN_IN_LINK_REQUESTED = "lobu.directory.sign-in-link.requested.v1"

PostalCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{5}$")]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=120)]
# Germany's bounding box, with a little margin for the islands and border towns.
Latitude = Annotated[float, Field(ge=47.2, le=55.1, description="WGS 84, inside Germany")]
Longitude = Annotated[float, Field(ge=5.8, le=15.1, description="WGS 84, inside Germany")]


def _web_address(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or " " in value:
        raise ValueError("must be a web address starting with http:// or https://")
    return value


WebAddress = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=500),
    AfterValidator(_web_address),
]


def _not_in_the_future(value: date) -> date:
    if value > date.today() or value < date(1990, 1, 1):
        raise ValueError("must lie between 1990-01-01 and today")
    return value


FoundingDate = Annotated[date, AfterValidator(_not_in_the_future)]


def check_coordinate_pair(latitude: float | None, longitude: float | None) -> None:
    """Raise unless both coordinates are given, or neither."""
    if (latitude is None) != (longitude is None):
        raise ValueError("latitude and longitude must be given together")


class SocialMediaChannel(ContractModel):
    """An alliance's presence on a social-media platform."""

    platform: SocialPlatform
    url: WebAddress


class Partner(ContractModel):
    """An organisation that takes part in an alliance."""

    name: ShortText
    type: PartnerType


class Award(ContractModel):
    """A distinction, e.g. the seal "Ausgezeichnet in die Zukunft" of a given year."""

    award: AwardCode
    year: int = Field(ge=2000, le=2100)


class AllianceSnapshot(ContractModel):
    """The public record of an alliance at one version (no personal data)."""

    id: str
    slug: Slug
    name: ShortText
    state: StateCode
    district: ShortText | None = None
    municipality: ShortText | None = None
    postal_code: PostalCode
    city: ShortText
    street: ShortText | None = None
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    coordinates_approximate: bool = Field(
        default=False,
        description="True when the coordinates are the town's, filled in from a gazetteer",
    )
    founded_on: FoundingDate | None = None
    status: AllianceStatus = "active"
    staffing: Staffing | None = None
    website: WebAddress | None = None
    social_media: list[SocialMediaChannel] = Field(default_factory=list)
    topics: list[TopicCode] = Field(default_factory=list)
    partners: list[Partner] = Field(default_factory=list)
    awards: list[Award] = Field(default_factory=list)
    coordinating_organisation: ShortText | None = None
    version: int = Field(ge=1)
    created_at: datetime
    updated_at: datetime

    @model_validator(mode="after")
    def coordinates_come_in_pairs(self) -> Self:
        """A latitude without a longitude (or the reverse) places nothing on a map."""
        check_coordinate_pair(self.latitude, self.longitude)
        return self


# How an alliance came into the directory: `new` joins the network now (it is welcomed,
# the Servicebüro is told); `existing` was a member already and is entered from an
# earlier record (the demo data, a move from another database): nobody is greeted.
AllianceEntry = Literal["new", "existing"]


class AllianceCreated(AllianceSnapshot):
    """A new alliance entered the directory."""

    entry: AllianceEntry = Field(
        default="new",
        description=(
            "new: the alliance joins the network now; existing: it was a member already "
            "and is entered from an earlier record (no welcome)"
        ),
    )


class AllianceSnapshotPublished(AllianceSnapshot):
    """The current record, republished on request so new subscribers can build a replica."""


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


MAX_CONTACT_MESSAGE = 5000


class ContactMessageSubmitted(ContractModel):
    """A citizen wrote to an alliance through its public page (personal data).

    Notifications mails it to the alliance's contacts with Reply-To the sender; the
    sender never learns their addresses. The directory keeps no copy once published.
    """

    message_id: str = Field(max_length=64)
    alliance_id: str
    alliance_name: ShortText
    sender_name: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)
    ]
    sender_email: EmailStr
    message: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_CONTACT_MESSAGE)
    ]
    submitted_at: datetime


class SignInLinkRequested(ContractModel):
    """A known person asked to sign in: mail them their one-time link (personal data).

    Only an address that belongs to an alliance contact or to the Servicebüro's staff
    list gets one; the directory answers every request alike, so the page never tells
    whether an address is known. The link is a credential: single use, valid until
    `expires_at` (15 minutes by default); the directory keeps only its hash.
    """

    request_id: str = Field(max_length=64)
    email: EmailStr
    link: Annotated[str, StringConstraints(max_length=500)]
    expires_at: datetime
    requested_at: datetime
    # Whom the link signs in as, for the mail's wording: "staff", or the alliances' names.
    staff: bool = False
    alliance_names: list[ShortText] = Field(default_factory=list, max_length=20)


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
        ALLIANCE_SNAPSHOT,
        DIRECTORY_ALLIANCE,
        AllianceSnapshotPublished,
        "An alliance's current record, republished for new subscribers.",
    ),
    EventDefinition(
        ALLIANCE_CONTACTS_CHANGED,
        DIRECTORY_ALLIANCE_CONTACTS,
        AllianceContactsChanged,
        "An alliance's contacts changed (internal topic, personal data).",
        personal_data=True,
    ),
    EventDefinition(
        CONTACT_MESSAGE_SUBMITTED,
        DIRECTORY_CONTACT_MESSAGE,
        ContactMessageSubmitted,
        "A citizen's message to an alliance's contacts (internal topic, personal data).",
        personal_data=True,
    ),
    EventDefinition(
        SIGN_IN_LINK_REQUESTED,
        DIRECTORY_SIGN_IN_LINK,
        SignInLinkRequested,
        "A one-time sign-in link for a known address (internal topic, personal data).",
        personal_data=True,
    ),
)
