"""API models of the events service: `XCreate` in, `XPublic` out, `XPrivate` for editors."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal, Self
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    model_validator,
)

from lobu.shared.contracts.events import TargetGroup
from lobu.shared.contracts.vocabulary import StateCode

ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=10_000)]
PostalCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{5}$")]
Latitude = Annotated[float, Field(ge=47.2, le=55.1, description="WGS 84, inside Germany")]
Longitude = Annotated[float, Field(ge=5.8, le=15.1, description="WGS 84, inside Germany")]
Year = Annotated[int, Field(ge=2000, le=2100)]
ActionStateName = Literal["draft", "submitted", "published", "rejected", "cancelled"]
RegistrationStatusName = Literal["confirmed", "waitlisted", "cancelled"]


def _web_address(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or " " in value:
        raise ValueError("must be a web address starting with http:// or https://")
    return value


WebAddress = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=500), AfterValidator(_web_address)
]
AwareDateTime = Annotated[dt.datetime, Field(description="ISO 8601 with a UTC offset")]


def _aware(value: dt.datetime | None, field: str) -> None:
    if value is not None and value.tzinfo is None:
        raise ValueError(f"{field} needs a UTC offset, e.g. 2027-05-15T10:00:00+02:00")


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- editions --------------------------------------------------------------------------


class EditionCreate(_Input):
    """A new edition (admin); the date defaults to 15 May, the entry window to now..day."""

    year: Year
    date: dt.date | None = None
    motto: ShortText | None = None
    info: LongText | None = None
    entry_opens_at: AwareDateTime | None = None
    entry_closes_at: AwareDateTime | None = None

    @model_validator(mode="after")
    def date_lies_in_year(self) -> Self:
        """The date of the 2027 edition lies in 2027."""
        if self.date is not None and self.date.year != self.year:
            raise ValueError("date must lie in the edition's year")
        _aware(self.entry_opens_at, "entry_opens_at")
        _aware(self.entry_closes_at, "entry_closes_at")
        if (
            self.entry_opens_at
            and self.entry_closes_at
            and (self.entry_closes_at <= self.entry_opens_at)
        ):
            raise ValueError("entry_closes_at must come after entry_opens_at")
        return self


class EditionUpdate(_Input):
    """A change of an edition (admin); the year stays."""

    date: dt.date | None = None
    motto: ShortText | None = None
    info: LongText | None = None
    entry_opens_at: AwareDateTime | None = None
    entry_closes_at: AwareDateTime | None = None

    @model_validator(mode="after")
    def times_are_aware(self) -> Self:
        """Entry times carry their offset."""
        _aware(self.entry_opens_at, "entry_opens_at")
        _aware(self.entry_closes_at, "entry_closes_at")
        return self


class EditionPublic(BaseModel):
    """An edition as everyone sees it."""

    year: int
    date: dt.date
    motto: str | None
    info: str | None
    entry_opens_at: dt.datetime
    entry_closes_at: dt.datetime
    entry_open: bool


# --- actions ---------------------------------------------------------------------------


class _ActionFields(_Input):
    title: ShortText | None = None
    description: LongText | None = None
    starts_at: AwareDateTime | None = None
    ends_at: AwareDateTime | None = None
    online: bool | None = None
    online_url: WebAddress | None = None
    street: ShortText | None = None
    postal_code: PostalCode | None = None
    city: ShortText | None = None
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    target_groups: list[TargetGroup] | None = Field(default=None, max_length=11)
    accessibility: LongText | None = None
    capacity: int | None = Field(default=None, ge=1, le=100_000)
    registration_required: bool | None = None


class ActionCreate(_ActionFields):
    """A new action; coordinators enter their own alliance's, admins name `alliance_id`."""

    title: ShortText
    description: LongText = ""
    starts_at: AwareDateTime
    ends_at: AwareDateTime
    alliance_id: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None

    @model_validator(mode="after")
    def is_consistent(self) -> Self:
        """Times in order and with offsets; a place or a link; coordinates in pairs."""
        check_action_values(self.model_dump())
        return self


class ActionUpdate(_ActionFields):
    """A partial change of an action; what is not sent stays."""

    @model_validator(mode="after")
    def times_are_aware(self) -> Self:
        """Times carry their offset (the whole is checked once merged)."""
        _aware(self.starts_at, "starts_at")
        _aware(self.ends_at, "ends_at")
        return self


def check_action_values(values: dict[str, object]) -> None:
    """Raise ValueError unless an action's (merged) values make sense together."""
    starts_at, ends_at = values.get("starts_at"), values.get("ends_at")
    if isinstance(starts_at, dt.datetime) and isinstance(ends_at, dt.datetime):
        _aware(starts_at, "starts_at")
        _aware(ends_at, "ends_at")
        if ends_at <= starts_at:
            raise ValueError("ends_at must come after starts_at")
        if ends_at - starts_at > dt.timedelta(days=14):
            raise ValueError("an action lasts at most 14 days")
    if values.get("online"):
        if not values.get("online_url"):
            raise ValueError("an online action needs online_url")
    elif not values.get("city"):
        raise ValueError("an action on site needs city (or online with online_url)")
    if (values.get("latitude") is None) != (values.get("longitude") is None):
        raise ValueError("latitude and longitude must be given together")


class RejectRequest(_Input):
    """Why the Servicebüro sends an action back; the coordinator reads it."""

    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class CancelRequest(_Input):
    """Why an action is cancelled (optional; participants are told)."""

    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = None


class ActionPublic(BaseModel):
    """An action as the public programme shows it (no personal data)."""

    id: str
    edition_year: int
    alliance_id: str
    alliance_name: str
    alliance_slug: str | None
    land: StateCode | None
    title: str
    description: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    online: bool
    online_url: str | None
    street: str | None
    postal_code: str | None
    city: str | None
    latitude: float | None
    longitude: float | None
    target_groups: list[TargetGroup]
    accessibility: str | None
    capacity: int | None
    registration_required: bool
    seats_free: int | None = Field(description="None without a capacity")
    state: ActionStateName
    version: int
    distance_km: float | None = Field(default=None, description="With near=: from that point")


class ActionPrivate(ActionPublic):
    """An action as its alliance's coordinators and admins see it."""

    rejection_reason: str | None
    cancellation_reason: str | None
    seats_taken: int
    seats_waiting: int
    created_at: dt.datetime
    updated_at: dt.datetime


class ActionPage(BaseModel):
    """One page of the programme; pass next_cursor back as cursor for the next."""

    items: list[ActionPublic]
    next_cursor: str | None


# --- registrations ---------------------------------------------------------------------


class RegistrationCreate(_Input):
    """A participant's request for seats."""

    name: ShortText
    email: EmailStr
    seats: int = Field(default=1, ge=1, le=1000, description="Up to the configured limit")


class RegistrationReceipt(BaseModel):
    """What the participant gets back: the status and the secret link (no personal data)."""

    id: str
    action_id: str
    seats: int
    status: RegistrationStatusName
    cancel_url: str | None = Field(description="GET shows, DELETE cancels; kept secret")
    seats_ahead: int | None = Field(
        default=None, description="While waitlisted: seats requested by those waiting before"
    )


class RegistrationPrivate(BaseModel):
    """A registration as the action's coordinators and admins see it."""

    id: str
    arrival: int
    name: str
    email: str
    seats: int
    status: RegistrationStatusName
    promoted: bool
    cancellation_reason: str | None
    created_at: dt.datetime
    confirmed_at: dt.datetime | None
    cancelled_at: dt.datetime | None


class RegistrationPage(BaseModel):
    """Registrations in order of arrival; pass next_cursor back as cursor for the next."""

    items: list[RegistrationPrivate]
    next_cursor: str | None


# --- statistics (admin) ------------------------------------------------------------------


class LandStatistics(BaseModel):
    """One Land's figures (see lobu.events.statistics for what counts)."""

    land: str = Field(description="Code of the Land, or – when the alliance's is unknown")
    actions: int
    cancelled: int
    places: int = Field(description="Distinct on-site places (postal code and town)")
    online: int
    registrations: int = Field(description="Confirmed registrations")
    seats_confirmed: int
    seats_waiting: int
    capacity: int = Field(description="Sum of the capacities of actions with registration")
    fill_rate: float | None = Field(description="Confirmed seats of those actions / capacity")


class EditionStatistics(BaseModel):
    """An edition's figures for the Servicebüro; `final` once the day is over."""

    year: int
    date: dt.date
    final: bool
    total: LandStatistics
    by_land: list[LandStatistics]
