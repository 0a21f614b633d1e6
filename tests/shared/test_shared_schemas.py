"""`incompatibilities`: finds what in a new schema would break a consumer of the old one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import Field

from lobu.shared.contracts import EVENT_DEFINITIONS
from lobu.shared.contracts.base import ContractModel
from lobu.shared.contracts.schemas import current_schemas, export_schemas, incompatibilities

pytestmark = pytest.mark.unit


class Person(ContractModel):
    name: str
    email: str


class PersonWithoutEmail(ContractModel):
    name: str


class Original(ContractModel):
    id: str
    city: str
    count: int
    tags: list[str]
    owner: Person


class CityRemoved(ContractModel):
    id: str
    count: int
    tags: list[str]
    owner: Person


class NewRequiredField(Original):
    region: str


class CountBecameText(ContractModel):
    id: str
    city: str
    count: str
    tags: list[str]
    owner: Person


class NewOptionalField(Original):
    note: str | None = None
    extras: list[str] = Field(default_factory=list)


class NestedFieldRemoved(ContractModel):
    id: str
    city: str
    count: int
    tags: list[str]
    owner: PersonWithoutEmail


class CityOptional(ContractModel):
    id: str
    city: str = "unbekannt"
    count: int
    tags: list[str]
    owner: Person


class CityNullable(ContractModel):
    id: str
    city: str | None
    count: int
    tags: list[str]
    owner: Person


class Team(ContractModel):
    members: list[Person]


class TeamWithoutEmails(ContractModel):
    members: list[PersonWithoutEmail]


def schema(model: type[ContractModel]) -> dict[str, Any]:
    return model.model_json_schema()


def test_an_identical_schema_is_compatible() -> None:
    assert incompatibilities(schema(Original), schema(Original)) == []


def test_a_removed_field_is_reported() -> None:
    assert incompatibilities(schema(Original), schema(CityRemoved)) == ["city: removed"]


def test_a_newly_required_field_is_reported() -> None:
    assert incompatibilities(schema(Original), schema(NewRequiredField)) == [
        "region: newly required"
    ]


def test_a_changed_type_is_reported() -> None:
    problems = incompatibilities(schema(Original), schema(CountBecameText))

    assert problems == ["count: type changed from ['integer'] to ['string']"]


def test_an_added_optional_field_is_compatible() -> None:
    assert incompatibilities(schema(Original), schema(NewOptionalField)) == []


def test_a_field_removed_from_a_nested_model_is_reported_with_its_path() -> None:
    assert incompatibilities(schema(Original), schema(NestedFieldRemoved)) == [
        "owner.email: removed"
    ]


def test_several_breaking_changes_are_all_reported() -> None:
    class Everything(ContractModel):
        id: int
        count: int
        tags: list[str]
        owner: Person
        region: str

    problems = incompatibilities(schema(Original), schema(Everything))

    assert set(problems) == {
        "id: type changed from ['string'] to ['integer']",
        "city: removed",
        "region: newly required",
    }


def test_a_required_field_that_becomes_optional_is_reported() -> None:
    assert incompatibilities(schema(Original), schema(CityOptional)) != []


def test_a_field_that_may_become_null_is_reported() -> None:
    assert incompatibilities(schema(Original), schema(CityNullable)) != []


def test_a_field_removed_from_the_items_of_a_list_is_reported() -> None:
    assert incompatibilities(schema(Team), schema(TeamWithoutEmails)) != []


def test_current_schemas_cover_every_registered_type() -> None:
    schemas = current_schemas()

    assert set(schemas) == set(EVENT_DEFINITIONS)
    for event_type, event_schema in schemas.items():
        assert event_schema["type"] == "object", event_type
        assert event_schema["additionalProperties"] is False, event_type


def test_exported_schemas_read_back_as_the_current_ones(tmp_path: Path) -> None:
    written = export_schemas(tmp_path / "schemas")

    assert sorted(path.name for path in written) == sorted(f"{t}.json" for t in EVENT_DEFINITIONS)
    for path in written:
        assert json.loads(path.read_text()) == current_schemas()[path.name.removesuffix(".json")]
        assert path.read_text().endswith("}\n")
