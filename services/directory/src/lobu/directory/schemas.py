"""The directory's HTTP models: what clients send and what they get back."""

from __future__ import annotations

from datetime import datetime
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from lobu.shared.contracts.directory import ContactPerson, PostalCode, ShortText, StateCode


class AllianceBase(BaseModel):
    """Public fields shared by every alliance model."""

    name: ShortText = Field(examples=["Lokales Bündnis für Familie Hannover"])
    state: StateCode = Field(description="Land as ISO 3166-2 code without 'DE-'", examples=["NI"])
    postal_code: PostalCode = Field(examples=["30159"])
    city: ShortText = Field(examples=["Hannover"])
    topics: list[ShortText] = Field(
        default_factory=list, max_length=30, examples=[["Vereinbarkeit von Beruf und Familie"]]
    )


class AllianceCreate(AllianceBase):
    """A new alliance (admin only)."""

    model_config = ConfigDict(extra="forbid")

    contacts: list[ContactPerson] = Field(default_factory=list, max_length=20)


class AllianceUpdate(BaseModel):
    """A partial change: only the fields sent are changed; none may be null."""

    model_config = ConfigDict(extra="forbid")

    name: ShortText | None = None
    state: StateCode | None = None
    postal_code: PostalCode | None = None
    city: ShortText | None = None
    topics: list[ShortText] | None = Field(default=None, max_length=30)
    contacts: list[ContactPerson] | None = Field(default=None, max_length=20)

    @model_validator(mode="after")
    def refuse_nulls(self) -> Self:
        """`{"name": null}` is a mistake, not a way to delete a required field."""
        nulls = [name for name in self.model_fields_set if getattr(self, name) is None]
        if nulls:
            raise ValueError(f"these fields may not be null: {', '.join(sorted(nulls))}")
        return self


class AlliancePublic(AllianceBase):
    """What anyone may see of an alliance (no personal data)."""

    id: str
    version: int
    created_at: datetime
    updated_at: datetime


class AlliancePrivate(AlliancePublic):
    """What admins and the alliance's own coordinators see: with contacts."""

    contacts: list[ContactPerson]


class AlliancePage(BaseModel):
    """One page of a list, and the cursor of the next (null on the last page)."""

    items: list[AlliancePublic]
    next_cursor: str | None = None
