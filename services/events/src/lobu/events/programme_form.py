"""The programme page's filters as people fill them in: values as typed, German messages.

Like the directory's search form, the page reads its GET parameters itself, so that a
wrong value (`tag=15.5.`, `ab=25:00`, a Land that does not exist) comes back as the
page with the value kept and a message next to its field, never as problem+json.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from lobu.shared.contracts.events import TARGET_GROUPS
from lobu.shared.contracts.vocabulary import STATES

MAX_TEXT = 200
MAX_PLACE = 100
RADII = (5, 10, 25, 50, 100)
DEFAULT_RADIUS = 25
MAX_RADIUS = 500
MAX_PAGE = 1000
_NUMBER = re.compile(r"[0-9]{1,4}", re.ASCII)
_DAY = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})", re.ASCII)
_TIME = re.compile(r"([0-9]{1,2}):([0-9]{2})", re.ASCII)

CHOICES: dict[str, tuple[dict[str, str], str]] = {
    "land": (STATES, "Dieses Land gibt es nicht. Bitte wählen Sie eines aus der Liste."),
    "zielgruppe": (TARGET_GROUPS, "Diese Zielgruppe gibt es nicht. Bitte wählen Sie eine aus."),
}
TEXTS = {"q": MAX_TEXT, "ort": MAX_PLACE}
FIELDS = (*TEXTS, *CHOICES, "umkreis", "tag", "ab", "bis")


@dataclass
class ProgrammeForm:
    """The filters as typed (to show them again), what they mean, and a message per wrong one."""

    values: dict[str, str]
    radius_km: int = DEFAULT_RADIUS
    day: dt.date | None = None
    time_from: dt.time | None = None
    time_until: dt.time | None = None
    page: int = 1
    errors: dict[str, str] = field(default_factory=dict)

    def choice(self, name: str) -> str | None:
        """The code chosen in a choice field, or None (none chosen, or not a valid one)."""
        value = self.values.get(name, "")
        return value if value and name not in self.errors else None

    def text(self, name: str) -> str | None:
        """A text field's value when it is filled in and valid."""
        value = self.values.get(name, "").strip()
        return value if value and name not in self.errors else None

    def kept(self) -> dict[str, str]:
        """The filled-in fields, for links that keep the current selection."""
        return {name: value for name, value in self.values.items() if value}


def _day(text: str) -> dt.date | None:
    match = _DAY.fullmatch(text)
    if not match:
        return None
    try:
        return dt.date(*(int(part) for part in match.groups()))
    except ValueError:
        return None


def _time(text: str) -> dt.time | None:
    match = _TIME.fullmatch(text)
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        return None
    return dt.time(int(match.group(1)), int(match.group(2)))


def read_programme_form(params: Mapping[str, str], *, year: int) -> ProgrammeForm:
    """The filters from the query string; `errors` names each field whose value is wrong."""
    form = ProgrammeForm(values={name: params.get(name, "") for name in FIELDS})
    values = form.values
    for name, limit in TEXTS.items():
        if len(values[name]) > limit:
            form.errors[name] = f"Bitte höchstens {limit} Zeichen eingeben."
    for name, (allowed, message) in CHOICES.items():
        if values[name] and values[name] not in allowed:
            form.errors[name] = message
    if values["umkreis"]:
        if _NUMBER.fullmatch(values["umkreis"]) and 1 <= int(values["umkreis"]) <= MAX_RADIUS:
            form.radius_km = int(values["umkreis"])
        else:
            form.errors["umkreis"] = (
                f"Bitte einen Umkreis in Kilometern wählen (1 bis {MAX_RADIUS})."
            )
    if values["tag"]:
        form.day = _day(values["tag"])
        if form.day is None or form.day.year != year:
            form.day = None
            form.errors["tag"] = f"Bitte ein Datum im Jahr {year} angeben, z. B. {year}-05-15."
    for name in ("ab", "bis"):
        if values[name]:
            moment = _time(values[name])
            if moment is None:
                form.errors[name] = "Bitte eine Uhrzeit wie 14:30 angeben."
            elif name == "ab":
                form.time_from = moment
            else:
                form.time_until = moment
    page = params.get("seite", "")
    if _NUMBER.fullmatch(page) and 1 <= int(page) <= MAX_PAGE:
        form.page = int(page)
    return form
