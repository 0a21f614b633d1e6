"""The directory's HTTP models: what clients send and what they get back."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from lobu.shared import as_utc
from lobu.shared.contracts.directory import (
    Award,
    ContactPerson,
    FoundingDate,
    Latitude,
    Longitude,
    Partner,
    PostalCode,
    ShortText,
    Slug,
    SocialMediaChannel,
    WebAddress,
    check_coordinate_pair,
)
from lobu.shared.contracts.vocabulary import (
    AWARDS,
    PARTNER_TYPES,
    SOCIAL_PLATFORMS,
    STAFFING,
    STATES,
    STATUSES,
    TOPICS,
    AllianceStatus,
    AwardCode,
    PartnerType,
    SocialPlatform,
    Staffing,
    StateCode,
    TopicCode,
)
from lobu.shared.text_search import normalise

# Fields only the Servicebüro may set: a coordinator cannot award their own alliance.
ADMIN_ONLY_FIELDS = frozenset({"status", "awards", "slug"})


def _code_or_label(table: dict[str, str]) -> BeforeValidator:
    """Accept a vocabulary's code or its German label (any case, "ue" for "ü"): the code."""
    codes = {normalise(code): code for code in table} | {
        normalise(label): code for code, label in table.items()
    }

    def to_code(value: Any) -> Any:
        # Anything else is left for the Literal to refuse, naming the allowed codes.
        return codes.get(normalise(value), value) if isinstance(value, str) else value

    accepted: Any = Literal[tuple(dict.fromkeys([*table, *table.values()]))]
    return BeforeValidator(to_code, json_schema_input_type=accepted)


# Requests take codes or labels ("Bayern" or "BY"); responses and events carry codes.
StateInput = Annotated[StateCode, _code_or_label(STATES)]
TopicInput = Annotated[TopicCode, _code_or_label(TOPICS)]
StatusInput = Annotated[AllianceStatus, _code_or_label(STATUSES)]
StaffingInput = Annotated[Staffing, _code_or_label(STAFFING)]
PartnerTypeInput = Annotated[PartnerType, _code_or_label(PARTNER_TYPES)]
AwardCodeInput = Annotated[AwardCode, _code_or_label(AWARDS)]


class PartnerInput(Partner):
    """A partner; its type as code or label."""

    type: Annotated[PartnerType, _code_or_label(PARTNER_TYPES)]


class AwardInput(Award):
    """An award; as code or label."""

    award: Annotated[AwardCode, _code_or_label(AWARDS)]


class SocialMediaInput(SocialMediaChannel):
    """A social-media channel; the platform as code or label."""

    platform: Annotated[SocialPlatform, _code_or_label(SOCIAL_PLATFORMS)]


class AllianceFields(BaseModel):
    """The editable public fields of an alliance."""

    name: ShortText = Field(examples=["Lokales Bündnis für Familie Goslar"])
    state: StateInput = Field(
        description="Land as ISO 3166-2 code without 'DE-' (or its name, e.g. Niedersachsen)",
        examples=["NI"],
    )
    district: ShortText | None = Field(default=None, examples=["Landkreis Goslar"])
    municipality: ShortText | None = Field(default=None, examples=["Goslar"])
    postal_code: PostalCode = Field(examples=["38640"])
    city: ShortText = Field(examples=["Goslar"])
    street: ShortText | None = Field(default=None, examples=["Markt 1"])
    latitude: Latitude | None = Field(default=None, examples=[51.9059])
    longitude: Longitude | None = Field(default=None, examples=[10.4289])
    founded_on: FoundingDate | None = None
    status: StatusInput = "active"
    staffing: StaffingInput | None = None
    website: WebAddress | None = None
    social_media: list[SocialMediaInput] = Field(default_factory=list, max_length=20)
    topics: list[TopicInput] = Field(
        default_factory=list, max_length=12, examples=[["kinderbetreuung", "Kinderarmut"]]
    )
    partners: list[PartnerInput] = Field(default_factory=list, max_length=200)
    awards: list[AwardInput] = Field(default_factory=list, max_length=20)
    coordinating_organisation: ShortText | None = None

    @model_validator(mode="after")
    def coordinates_come_in_pairs(self) -> Self:
        """Latitude and longitude together, or neither."""
        check_coordinate_pair(self.latitude, self.longitude)
        return self


class AllianceCreate(AllianceFields):
    """A new alliance (admin only); the slug is made from the name unless given."""

    model_config = ConfigDict(extra="forbid")

    slug: Slug | None = None
    contacts: list[ContactPerson] = Field(default_factory=list, max_length=20)


class AllianceUpdate(BaseModel):
    """A partial change: only the fields sent are changed; required ones may not be null."""

    model_config = ConfigDict(extra="forbid")

    slug: Slug | None = None
    name: ShortText | None = None
    state: StateInput | None = None
    district: ShortText | None = None
    municipality: ShortText | None = None
    postal_code: PostalCode | None = None
    city: ShortText | None = None
    street: ShortText | None = None
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    founded_on: FoundingDate | None = None
    status: StatusInput | None = None
    staffing: StaffingInput | None = None
    website: WebAddress | None = None
    social_media: list[SocialMediaInput] | None = Field(default=None, max_length=20)
    topics: list[TopicInput] | None = Field(default=None, max_length=12)
    partners: list[PartnerInput] | None = Field(default=None, max_length=200)
    awards: list[AwardInput] | None = Field(default=None, max_length=20)
    coordinating_organisation: ShortText | None = None
    contacts: list[ContactPerson] | None = Field(default=None, max_length=20)

    @model_validator(mode="after")
    def refuse_nulls_for_required_fields(self) -> Self:
        """`{"name": null}` is a mistake, not a way to delete a required field."""
        required = {"slug", "name", "state", "postal_code", "city", "status"}
        lists = {"social_media", "topics", "partners", "awards", "contacts"}
        nulls = sorted(
            name
            for name in self.model_fields_set & (required | lists)
            if getattr(self, name) is None
        )
        if nulls:
            raise ValueError(f"these fields may not be null: {', '.join(nulls)}")
        return self


class AlliancePublic(AllianceFields):
    """What anyone may see of an alliance (no personal data)."""

    id: str
    slug: Slug
    coordinates_approximate: bool = Field(
        default=False,
        description="True when the coordinates are the town's, filled in from the gazetteer "
        "because none were given",
    )
    version: int
    created_at: datetime
    updated_at: datetime


class AlliancePrivate(AlliancePublic):
    """What admins and the alliance's own coordinators see: with contacts."""

    contacts: list[ContactPerson] = Field(default_factory=list)


class AllianceHit(AlliancePublic):
    """A search result; `distance_km` is set when searching near a place."""

    distance_km: float | None = None


class AllianceFacets(BaseModel):
    """How many alliances match per Land and per field of action (whole result, all pages)."""

    state: dict[str, int]
    topic: dict[str, int]


class AlliancePage(BaseModel):
    """One page of results, the cursor of the next (null on the last) and the facets."""

    items: list[AllianceHit]
    next_cursor: str | None = None
    total: int
    facets: AllianceFacets


class AuditView(BaseModel):
    """One entry of an alliance's edit history."""

    model_config = ConfigDict(from_attributes=True)

    version: int
    action: str
    actor: str
    actor_role: str
    changed_fields: list[str]
    at: datetime

    @field_validator("at")
    @classmethod
    def in_utc(cls, moment: datetime) -> datetime:
        """SQLite hands back naive datetimes; they were stored as UTC."""
        return as_utc(moment)


class ImportRowError(BaseModel):
    """A problem with one row of an imported file."""

    line: int = Field(description="The line in the file (the header is line 1)")
    field: str | None = Field(description="The column, when one is to blame")
    message: str


class ImportRowRepair(BaseModel):
    """A value of a row read in the one way it can be meant (e.g. a postcode's lost zero)."""

    line: int = Field(description="The line in the file (the header is line 1)")
    field: str = Field(description="The column")
    message: str


class ImportReport(BaseModel):
    """What an import did, or (dry run) would do; `repairs` says what was read as meant."""

    dry_run: bool
    created: int
    updated: int
    unchanged: int
    errors: list[ImportRowError]
    repairs: list[ImportRowRepair] = Field(default_factory=list)


class RepublishReport(BaseModel):
    """How many alliance snapshots were queued for publishing."""

    republished: int


class PlaceView(BaseModel):
    """A place of the gazetteer (GeoNames, CC BY 4.0)."""

    name: str
    state: StateCode
    label: str = Field(description='Name and Land, e.g. "Neustadt in Sachsen, Sachsen"')
    latitude: float
    longitude: float


class PlaceLookup(BaseModel):
    """What a place name means: the place, or (ambiguous) namesakes to choose from."""

    place: PlaceView | None
    ambiguous: bool = Field(description="True when one of `alternatives` must be chosen")
    alternatives: list[PlaceView] = Field(
        description="Namesakes with their Land; send one's `label` as the name to choose it"
    )
    message: str | None = Field(
        default=None,
        description="Without a single place: what to tell the person, in German (e.g. that "
        "postcodes are not looked up)",
    )
