"""Validation errors of an imported row, in German and in the file's own columns.

Pydantic says "Input should be a valid string" or "greater than or equal to 5.8"; a
coordinator reading the dry run of their spreadsheet needs "Pflichtangabe fehlt" and
"liegt nicht in Deutschland", named by the column they see.
"""

from __future__ import annotations

from typing import Any

from pydantic_core import ErrorDetails

from lobu.directory.csv_cells import LATITUDE_RANGE, LONGITUDE_RANGE, decimal_de

_OUTSIDE = {
    "latitude": ("Breitengrad", LATITUDE_RANGE),
    "longitude": ("Längengrad", LONGITUDE_RANGE),
}


def _shown(value: Any) -> str:
    return decimal_de(value) if isinstance(value, float) else str(value)


def german_message(error: ErrorDetails, field: str | None) -> str:
    """What went wrong with `field` (an API field name), in German."""
    kind = error["type"]
    context: dict[str, Any] = dict(error.get("ctx") or {})
    value = error.get("input")
    location = [str(part) for part in error["loc"]]
    if kind == "missing" or (value is None and kind.endswith("_type")):
        return "Pflichtangabe fehlt"
    if field in _OUTSIDE and kind in ("greater_than_equal", "less_than_equal"):
        name, (low, high) = _OUTSIDE[field]
        return (
            f"{name} {_shown(value)} liegt nicht in Deutschland "
            f"(erlaubt: {decimal_de(low)} bis {decimal_de(high)})"
        )
    if field == "postal_code":
        return f"„{value}“ ist keine Postleitzahl (fünf Ziffern)"
    if field == "slug":
        return f"„{value}“ ist kein Slug (Kleinbuchstaben, Ziffern und Bindestriche)"
    if field == "founded_on":
        return f"{value} liegt nicht zwischen dem 01.01.1990 und heute"
    if field in ("website", "social_media") and kind == "value_error":
        return f"„{value}“ ist keine Webadresse (mit http:// oder https://)"
    if field == "contacts" and "email" in location:
        return f"„{value}“ ist keine E-Mail-Adresse"
    if field == "contacts" and "phone" in location:
        return f"„{value}“ ist keine Telefonnummer (Ziffern, Leerzeichen und + ( ) / -)"
    if field == "awards" and "year" in location:
        return f"das Jahr {value} liegt nicht zwischen 2000 und 2100"
    if kind == "string_too_long":
        return f"ist zu lang (höchstens {context.get('max_length')} Zeichen)"
    if kind == "string_too_short":
        return "ist leer"
    if kind == "too_long":
        return f"hat zu viele Einträge (höchstens {context.get('max_length')})"
    if field is None and "latitude and longitude" in str(error.get("msg")):
        return "Breitengrad und Längengrad gehören zusammen: bitte beide angeben oder keinen"
    return f"ist ungültig ({error['msg']})"
