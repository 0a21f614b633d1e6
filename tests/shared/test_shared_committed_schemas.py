"""The JSON Schemas committed in shared/schemas/ are the contracts' schemas, and compatible."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lobu.shared.contracts.schemas import current_schemas, incompatibilities
from tests.support.prerequisites import missing

pytestmark = pytest.mark.contract

SCHEMA_FOLDER = Path(__file__).resolve().parents[2] / "shared" / "schemas"


def committed_schemas() -> dict[str, dict[str, Any]]:
    if not SCHEMA_FOLDER.is_dir() or not any(SCHEMA_FOLDER.glob("*.json")):
        missing(
            f"the committed JSON Schemas in {SCHEMA_FOLDER}",
            provide="restore them from git (git checkout -- shared/schemas), or for a new "
            "contract export them with `make schemas` and commit them",
        )
    return {
        path.name.removesuffix(".json"): json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(SCHEMA_FOLDER.glob("*.json"))
    }


def test_every_event_type_has_a_committed_schema_and_no_schema_is_stale() -> None:
    assert set(committed_schemas()) == set(current_schemas())


def test_the_committed_schemas_equal_the_current_ones() -> None:
    committed, current = committed_schemas(), current_schemas()

    for event_type, schema in current.items():
        assert committed.get(event_type) == schema, (
            f"shared/schemas/{event_type}.json is out of date: re-export it, and if the change "
            "is breaking, publish a new .vN type instead"
        )


@pytest.mark.parametrize("event_type", sorted(current_schemas()))
def test_the_current_schema_is_compatible_with_the_committed_one(event_type: str) -> None:
    committed = committed_schemas()
    if event_type not in committed:
        pytest.fail(f"no committed schema for {event_type}")

    assert incompatibilities(committed[event_type], current_schemas()[event_type]) == []
