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
    """What in `new` would break a reader of events written against `old`, or the reverse.

    Events stay in Kafka's log: consumers written against the old contract read new
    events, and new consumers replay old ones. So a field may be added only as
    optional; nothing may be removed, stop being required, become required, or change
    its type (in either direction). An empty list means compatible.
    """
    old_root = old_root or old
    new_root = new_root or new
    old = _resolve(old, old_root)
    new = _resolve(new, new_root)
    where = path or "data"
    problems: list[str] = []
    old_types, new_types = _types(old, old_root), _types(new, new_root)
    if old_types and new_types and old_types != new_types:
        problems.append(f"{where}: type changed from {sorted(old_types)} to {sorted(new_types)}")
    old_items, new_items = _items(old, old_root), _items(new, new_root)
    if old_items is not None and new_items is not None:
        problems += incompatibilities(
            old_items, new_items, path=f"{where}[]", old_root=old_root, new_root=new_root
        )
    old_properties: dict[str, Any] = old.get("properties", {})
    new_properties: dict[str, Any] = new.get("properties", {})
    old_required, new_required = set(old.get("required", [])), set(new.get("required", []))
    prefix = f"{path}." if path else ""
    for name, old_property in old_properties.items():
        if name not in new_properties:
            problems.append(f"{prefix}{name}: removed")
            continue
        if name in old_required and name not in new_required:
            problems.append(f"{prefix}{name}: no longer required")
        problems += incompatibilities(
            old_property, new_properties[name], path=f"{prefix}{name}",
            old_root=old_root, new_root=new_root,
        )  # fmt: skip
    for name in sorted(new_required - old_required):
        problems.append(f"{prefix}{name}: newly required")
    return problems


def _items(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any] | None:
    """The element schema of an array (also inside `anyOf`, as for `list[X] | None`)."""
    schema = _resolve(schema, root)
    if isinstance(schema.get("items"), dict):
        return dict(schema["items"])
    for option in schema.get("anyOf", []) + schema.get("oneOf", []):
        found = _items(option, root)
        if found is not None:
            return found
    return None
