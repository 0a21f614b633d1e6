"""JSON Schemas of the event contracts: exported to a committed folder, checked for compatibility.

A change that would break a consumer (a field removed, a new required field, a
changed type) must get a new `.vN` event type instead; `incompatibilities` finds such
changes by comparing the committed schema with the current one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lobu.shared.contracts.registry import EVENT_DEFINITIONS


def current_schemas() -> dict[str, dict[str, Any]]:
    """The JSON Schema of every event type's data, by type name."""
    return {
        event_type: definition.data_model.model_json_schema()
        for event_type, definition in sorted(EVENT_DEFINITIONS.items())
    }


def export_schemas(folder: Path) -> list[Path]:
    """Write one `<type>.json` per event type into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for event_type, schema in current_schemas().items():
        path = folder / f"{event_type}.json"
        path.write_text(json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n")
        written.append(path)
    return written


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    reference = schema.get("$ref")
    if isinstance(reference, str) and reference.startswith("#/$defs/"):
        return dict(root.get("$defs", {}).get(reference.removeprefix("#/$defs/"), {}))
    return schema


def _types(schema: dict[str, Any], root: dict[str, Any]) -> set[str]:
    schema = _resolve(schema, root)
    if "type" in schema:
        return {str(schema["type"])}
    found: set[str] = set()
    for option in schema.get("anyOf", []) + schema.get("oneOf", []):
        found |= _types(option, root)
    return found or ({"object"} if "properties" in schema else set())


def incompatibilities(
    old: dict[str, Any], new: dict[str, Any], *, path: str = "", old_root: Any = None,
    new_root: Any = None,
) -> list[str]:  # fmt: skip
    """What in `new` would break a consumer written against `old` (empty when compatible)."""
    old_root = old_root or old
    new_root = new_root or new
    old = _resolve(old, old_root)
    new = _resolve(new, new_root)
    problems: list[str] = []
    old_properties: dict[str, Any] = old.get("properties", {})
    new_properties: dict[str, Any] = new.get("properties", {})
    for name, old_property in old_properties.items():
        where = f"{path}.{name}" if path else name
        if name not in new_properties:
            problems.append(f"{where}: removed")
            continue
        old_types, new_types = (
            _types(old_property, old_root),
            _types(new_property := new_properties[name], new_root),
        )
        if old_types and new_types and not old_types <= new_types:
            problems.append(
                f"{where}: type changed from {sorted(old_types)} to {sorted(new_types)}"
            )
        problems += incompatibilities(
            old_property, new_property, path=where, old_root=old_root, new_root=new_root
        )
    newly_required = set(new.get("required", [])) - set(old.get("required", []))
    for name in sorted(newly_required):
        problems.append(f"{path + '.' if path else ''}{name}: newly required")
    return problems
