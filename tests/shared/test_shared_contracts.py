"""Event contracts: producers write exactly the contract, consumers tolerate additions."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from lobu.shared.contracts import EVENT_DEFINITIONS, definition_for, read_event_data
from lobu.shared.contracts.base import ContractModel
from lobu.shared.contracts.directory import (
    ALLIANCE_CONTACTS_CHANGED,
    ALLIANCE_CREATED,
    AllianceContactsChanged,
    AllianceCreated,
    AllianceDeleted,
    AllianceUpdated,
    ContactPerson,
)
from lobu.shared.topics import ALL_TOPICS, DIRECTORY_ALLIANCE, dead_letter_topic

pytestmark = pytest.mark.unit

NOW = datetime(2024, 5, 17, 9, 30, tzinfo=UTC)
TYPE_NAME = re.compile(
    r"^lobu\.(?P<service>[a-z][a-z0-9-]*)\.(?P<entity>[a-z][a-z0-9-]*)"
    r"\.(?P<fact>[a-z][a-z0-9-]*)\.v(?P<version>[1-9][0-9]*)$"
)


def snapshot(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": "a-1",
        "slug": "lokales-buendnis-fuer-familie-fuerth",
        "name": "Lokales Bündnis für Familie Fürth",
        "state": "BY",
        "postal_code": "90762",
        "city": "Fürth",
        "topics": ["kinderbetreuung"],
        "version": 1,
        "created_at": NOW,
        "updated_at": NOW,
    }
    data.update(changes)
    return data


def test_a_producer_builds_a_valid_snapshot() -> None:
    created = AllianceCreated(**snapshot())

    assert created.city == "Fürth"
    assert created.model_dump(mode="json")["created_at"] == "2024-05-17T09:30:00Z"


def test_a_producer_cannot_add_an_unknown_field() -> None:
    with pytest.raises(ValidationError, match="extra"):
        AllianceCreated(**snapshot(homepage="https://example.org"))


def test_every_contract_forbids_unknown_fields() -> None:
    for definition in EVENT_DEFINITIONS.values():
        assert definition.data_model.model_config.get("extra") == "forbid", definition.type


def test_contract_values_are_frozen() -> None:
    created = AllianceCreated(**snapshot())

    with pytest.raises(ValidationError):
        created.city = "Nürnberg"  # type: ignore[misc]


def test_a_consumer_reads_data_with_fields_it_does_not_know_yet() -> None:
    data = {**snapshot(), "created_at": NOW.isoformat(), "added_in_v1_1": {"x": 1}}

    created = read_event_data(AllianceCreated, data)

    assert created.id == "a-1"
    assert not hasattr(created, "added_in_v1_1")


def test_a_consumer_still_refuses_data_that_breaks_the_contract() -> None:
    with pytest.raises(ValidationError):
        read_event_data(AllianceDeleted, {"id": "a-1", "deleted_at": NOW.isoformat()})


@pytest.mark.parametrize("state", ["XX", "by", "DE-BY", "", "Bayern"])
def test_an_invalid_state_code_is_refused(state: str) -> None:
    with pytest.raises(ValidationError):
        AllianceCreated(**snapshot(state=state))


def test_all_sixteen_laender_are_accepted() -> None:
    codes = [
        "BW",
        "BY",
        "BE",
        "BB",
        "HB",
        "HH",
        "HE",
        "MV",
        "NI",
        "NW",
        "RP",
        "SL",
        "SN",
        "ST",
        "SH",
        "TH",
    ]

    assert {AllianceCreated(**snapshot(state=code)).state for code in codes} == set(codes)


@pytest.mark.parametrize("postal_code", ["1234", "123456", "abcde", "1234a", " 12345", ""])
def test_an_invalid_postal_code_is_refused(postal_code: str) -> None:
    with pytest.raises(ValidationError):
        AllianceCreated(**snapshot(postal_code=postal_code))


def test_a_postal_code_with_a_leading_zero_is_accepted() -> None:
    assert AllianceCreated(**snapshot(postal_code="01067")).postal_code == "01067"


@pytest.mark.parametrize("email", ["not-an-email", "jörg@", "@example.org", "a b@example.org", ""])
def test_an_invalid_contact_email_is_refused(email: str) -> None:
    with pytest.raises(ValidationError):
        ContactPerson(name="Jörg Weiß", email=email)


def test_a_valid_contact_is_accepted() -> None:
    contact = ContactPerson(
        name="Jörg Weiß", email="joerg.weiss@example.org", phone="+49 30 1234567"
    )

    assert contact.email == "joerg.weiss@example.org"


def test_an_invalid_phone_number_is_refused() -> None:
    with pytest.raises(ValidationError):
        ContactPerson(name="Jörg", email="j@example.org", phone="call me")


@pytest.mark.parametrize("name", ["", "   ", "x" * 201])
def test_short_texts_must_have_one_to_two_hundred_characters(name: str) -> None:
    with pytest.raises(ValidationError):
        AllianceCreated(**snapshot(name=name))


def test_short_texts_are_stripped() -> None:
    assert AllianceCreated(**snapshot(city="  Fürth  ")).city == "Fürth"


def test_a_version_below_one_is_refused() -> None:
    with pytest.raises(ValidationError):
        AllianceUpdated(**snapshot(version=0))


def test_contacts_changed_carries_a_list_of_contacts() -> None:
    changed = AllianceContactsChanged(
        alliance_id="a-1",
        version=2,
        contacts=[ContactPerson(name="Ute", email="ute@example.org")],
    )

    assert changed.deleted is False
    assert changed.model_dump(mode="json")["contacts"][0]["email"] == "ute@example.org"


def test_definition_for_finds_a_known_type() -> None:
    definition = definition_for(ALLIANCE_CREATED)

    assert definition.data_model is AllianceCreated
    assert definition.topic == DIRECTORY_ALLIANCE


def test_definition_for_an_unknown_type_raises_key_error_naming_it() -> None:
    with pytest.raises(KeyError, match=r"lobu\.nowhere\.thing\.happened\.v1"):
        definition_for("lobu.nowhere.thing.happened.v1")


def test_every_registered_type_is_named_and_routed_by_the_convention() -> None:
    assert EVENT_DEFINITIONS, "no event types registered"
    for event_type, definition in EVENT_DEFINITIONS.items():
        match = TYPE_NAME.fullmatch(event_type)
        assert match, f"{event_type} is not lobu.<service>.<entity>.<fact>.v<N>"
        assert definition.type == event_type
        assert definition.topic == f"{match['service']}.{match['entity']}", event_type
        assert definition.topic in ALL_TOPICS
        assert issubclass(definition.data_model, ContractModel)
        assert definition.description


def test_personal_data_never_travels_on_the_public_topic() -> None:
    for definition in EVENT_DEFINITIONS.values():
        if definition.personal_data:
            assert definition.topic != DIRECTORY_ALLIANCE, definition.type
    assert definition_for(ALLIANCE_CONTACTS_CHANGED).personal_data


def test_the_dead_letter_topic_of_a_topic_ends_in_dlq() -> None:
    assert dead_letter_topic("directory.alliance") == "directory.alliance.dlq"
