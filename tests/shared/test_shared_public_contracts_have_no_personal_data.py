"""Public contracts have no field for a person's name, email or phone number.

The schemas are walked completely (nested objects, arrays, `$defs`), both as the
contracts produce them now and as committed in shared/schemas/. Personal data is
allowed only in event types the registry marks `personal_data`, which must travel on
an internal topic.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lobu.shared.contracts import EVENT_DEFINITIONS
from lobu.shared.contracts.directory import ALLIANCE_CONTACTS_CHANGED
from lobu.shared.topics import (
    DIRECTORY_ALLIANCE,
    DIRECTORY_ALLIANCE_CONTACTS,
    DIRECTORY_CONTACT_MESSAGE,
    DIRECTORY_SIGN_IN_LINK,
    EVENTS_ACTION,
    EVENTS_REGISTRATION,
    PRIVACY_ANSWER,
    PRIVACY_REQUEST,
    SURVEYS_INVITATION,
    SURVEYS_RESPONSE,
    SURVEYS_SURVEY,
)

pytestmark = pytest.mark.contract

PUBLIC_TOPICS = {DIRECTORY_ALLIANCE, SURVEYS_SURVEY, SURVEYS_RESPONSE, EVENTS_ACTION}
INTERNAL_TOPICS = {DIRECTORY_ALLIANCE_CONTACTS, SURVEYS_INVITATION, EVENTS_REGISTRATION}
INTERNAL_TOPICS |= {
    DIRECTORY_CONTACT_MESSAGE,
    DIRECTORY_SIGN_IN_LINK,
    PRIVACY_REQUEST,
    PRIVACY_ANSWER,
}
SCHEMA_FOLDER = Path(__file__).resolve().parents[2] / "shared" / "schemas"

# Property names that hold a person or a way to reach one. `name` alone is allowed:
# alliances, partners and places have names.
PERSONAL_NAME = re.compile(
    r"(^|_)(contacts?|persons?|people|e_?mails?|mail|phones?|telephone|mobile|fax|"
    r"first_?name|last_?name|surname|given_?name|full_?name|family_?name|birth\w*)($|_)",
    re.IGNORECASE,
)
PUBLIC_TYPES = sorted(t for t, d in EVENT_DEFINITIONS.items() if d.topic in PUBLIC_TOPICS)


def walk(schema: Any, where: str = "data") -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Every (path, property name, property schema) in `schema`, including `$defs`."""
    if isinstance(schema, dict):
        for name, value in (schema.get("properties") or {}).items():
            yield f"{where}.{name}", name, value if isinstance(value, dict) else {}
            yield from walk(value, f"{where}.{name}")
        for key, value in schema.items():
            if key == "properties":
                continue
            if key == "$defs" and isinstance(value, dict):
                for def_name, definition in value.items():
                    yield from walk(definition, f"$defs.{def_name}")
            elif isinstance(value, (dict, list)):
                yield from walk(value, where)
    elif isinstance(schema, list):
        for value in schema:
            yield from walk(value, where)


def personal_fields(schema: dict[str, Any]) -> list[str]:
    """Where `schema` has room for personal data: by a field's name, or an email format."""
    found = []
    for path, name, value in walk(schema):
        if (
            PERSONAL_NAME.search(name)
            or "email" in json.dumps(value).lower()
            or "phone" in json.dumps(value).lower()
        ):
            found.append(path)
    for def_name in schema.get("$defs", {}):
        if PERSONAL_NAME.search(re.sub(r"(?<!^)([A-Z])", r"_\1", def_name)):
            found.append(f"$defs.{def_name}")
    return found


def test_every_event_type_is_on_a_public_topic_or_marked_as_personal_data_on_an_internal_one() -> (
    None
):
    for event_type, definition in EVENT_DEFINITIONS.items():
        if definition.personal_data:
            assert definition.topic in INTERNAL_TOPICS, event_type
        else:
            assert definition.topic in PUBLIC_TOPICS, event_type
    assert set(PUBLIC_TYPES) >= {
        "lobu.directory.alliance.created.v1",
        "lobu.directory.alliance.updated.v1",
        "lobu.directory.alliance.deleted.v1",
        "lobu.directory.alliance.snapshot.v1",
    }


@pytest.mark.parametrize("event_type", PUBLIC_TYPES)
def test_a_public_contract_has_no_field_for_a_persons_name_email_or_phone(
    event_type: str,
) -> None:
    schema = EVENT_DEFINITIONS[event_type].data_model.model_json_schema()

    assert personal_fields(schema) == []


@pytest.mark.parametrize("event_type", PUBLIC_TYPES)
def test_the_committed_public_schema_has_no_such_field_either(event_type: str) -> None:
    path = SCHEMA_FOLDER / f"{event_type}.json"

    assert personal_fields(json.loads(path.read_text(encoding="utf-8"))) == []


def test_the_walk_finds_the_contacts_of_the_internal_contract() -> None:
    """The check above can fail: on the internal contract it finds every personal field."""
    schema = EVENT_DEFINITIONS[ALLIANCE_CONTACTS_CHANGED].data_model.model_json_schema()

    found = personal_fields(schema)

    assert {"data.contacts", "$defs.ContactPerson.email", "$defs.ContactPerson.phone"} <= set(found)
