"""The search page's form as people fill it in: values as typed, and German messages.

The page reads its GET parameters itself instead of through FastAPI's validation, so
that a wrong value (201 characters, `umkreis=abc`, a Land that does not exist) comes
back as the page with the value kept and a message next to its field, never as
problem+json. The limits here are also the form's `maxlength`s.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from lobu.shared.contracts.vocabulary import AWARDS, PARTNER_TYPES, STATES, STATUSES, TOPICS

MAX_TEXT = 200
MAX_PLACE = 100
MAX_CURSOR = 500
RADII = (5, 10, 25, 50, 100)
DEFAULT_RADIUS = 25
MAX_RADIUS = 500
# ASCII digits only: str.isdigit() passes "²", which int() then refuses.
_RADIUS = re.compile(r"[0-9]{1,3}", re.ASCII)

# Each choice field: its vocabulary and what to say when the value is not in it.
CHOICES: dict[str, tuple[dict[str, str], str]] = {
    "land": (STATES, "Dieses Land gibt es nicht. Bitte wählen Sie eines aus der Liste."),
    "handlungsfeld": (TOPICS, "Dieses Handlungsfeld gibt es nicht. Bitte wählen Sie eines aus."),
    "partnertyp": (PARTNER_TYPES, "Diese Art Partner gibt es nicht. Bitte wählen Sie eine aus."),
    "status": (STATUSES, "Diesen Status gibt es nicht. Bitte wählen Sie einen aus."),
    "auszeichnung": (AWARDS, "Diese Auszeichnung gibt es nicht. Bitte wählen Sie eine aus."),
}
TEXTS = {"q": MAX_TEXT, "ort": MAX_PLACE}


@dataclass
class SearchForm:
    """The form's values as typed (for showing them again) and a message per wrong field."""

    values: dict[str, str]
    radius_km: int = DEFAULT_RADIUS
    cursor: str | None = None
    earlier: list[str] = field(default_factory=list)  # cursors of the pages before
    errors: dict[str, str] = field(default_factory=dict)

    def choice(self, name: str) -> str | None:
        """The code chosen in a choice field, or None (none chosen, or not a valid one)."""
        value = self.values.get(name, "")
        return value if value and name not in self.errors else None

    def kept(self) -> dict[str, str]:
        """The filled-in fields, for links that keep the current search."""
        return {name: value for name, value in self.values.items() if value}


def read_search_form(params: Mapping[str, str]) -> SearchForm:
    """The form from the query string; `errors` names each field whose value is wrong."""
    values = {name: params.get(name, "") for name in (*TEXTS, *CHOICES)}
    form = SearchForm(values=values)
    for name, limit in TEXTS.items():
        if len(values[name]) > limit:
            form.errors[name] = f"Bitte höchstens {limit} Zeichen eingeben."
    for name, (allowed, message) in CHOICES.items():
        if values[name] and values[name] not in allowed:
            form.errors[name] = message
    radius = params.get("umkreis", "")
    form.values["umkreis"] = radius
    if radius:
        if _RADIUS.fullmatch(radius) and 1 <= int(radius) <= MAX_RADIUS:
            form.radius_km = int(radius)
        else:
            form.errors["umkreis"] = (
                f"Bitte einen Umkreis in Kilometern wählen (1 bis {MAX_RADIUS})."
            )
    form.cursor = params.get("weiter") or None
    earlier = params.get("vorher", "")
    if len(earlier) <= MAX_CURSOR * 31:  # longer is not ours; "zurück" then starts over
        form.earlier = earlier.split(",")
    return form
