"""The coordinator's form of an action: reading it, and the API's validation in German.

The form sends what `POST /editions/{year}/actions` takes, as a browser sends it
(urlencoded, checkboxes only when ticked, times from `datetime-local` fields in Berlin
time). It is checked by the same models as the JSON API (`ActionCreate`, whose
validator is `check_action_values`, the rule `Actions.update` applies to the merged
change), and each refusal becomes a German message next to its field. Text no
database can store (a NUL character, a lone surrogate) is refused here as well, with
its own message, instead of failing in the driver.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from starlette.datastructures import FormData

from lobu.events.domain import BERLIN
from lobu.events.schemas import ActionCreate, ActionPrivate, ActionUpdate, check_action_values
from lobu.shared import as_utc
from lobu.shared.input_text import text_problem

TEXT_FIELDS = ("title", "description", "starts_at", "ends_at", "ort", "street", "postal_code",
               "city", "latitude", "longitude", "online_url", "accessibility", "capacity",
               "version")  # fmt: skip
UNSTORABLE = (
    "Diese Angabe enthält ein Zeichen, das wir nicht speichern können (ein Nullzeichen oder "
    "ein ungültiges Unicode-Zeichen). Bitte entfernen Sie es."
)
# A German message per field, for whatever the API's models refuse there.
MESSAGES = {
    "title": "Bitte geben Sie einen Titel an (höchstens 200 Zeichen).",
    "description": "Die Beschreibung darf höchstens 10.000 Zeichen lang sein.",
    "starts_at": "Bitte geben Sie Datum und Uhrzeit des Beginns an (z. B. 15.05.2027, 11:00).",
    "ends_at": "Bitte geben Sie Datum und Uhrzeit des Endes an (z. B. 15.05.2027, 16:00).",
    "online_url": "Bitte geben Sie den Link mit http:// oder https:// an "
    "(z. B. https://meet.example.org/aktion).",
    "street": "Bitte höchstens 200 Zeichen für Straße und Hausnummer.",
    "postal_code": "Die Postleitzahl hat fünf Ziffern, z. B. 21335.",
    "city": "Bitte geben Sie den Ort an (höchstens 200 Zeichen).",
    "latitude": "Der Breitengrad liegt in Deutschland zwischen 47,2 und 55,1 (z. B. 53,2464).",
    "longitude": "Der Längengrad liegt in Deutschland zwischen 5,8 und 15,1 (z. B. 10,4115).",
    "target_groups": "Bitte wählen Sie nur Zielgruppen aus der Liste.",
    "accessibility": "Die Angaben zur Barrierefreiheit dürfen höchstens 10.000 Zeichen lang sein.",
    "capacity": "Die Zahl der Plätze ist eine ganze Zahl von 1 bis 100.000 "
    "(leer lassen, wenn es keine Grenze gibt).",
}
# The API's consistency rules (check_action_values), by the words of its messages.
RULES = (
    ("ends_at must come after", "ends_at", "Das Ende muss nach dem Beginn liegen."),
    ("at most 14 days", "ends_at", "Eine Aktion dauert höchstens 14 Tage."),
    ("needs online_url", "online_url", "Eine Online-Aktion braucht den Link, unter dem sie "
     "stattfindet."),
    ("needs city", "city", "Eine Aktion vor Ort braucht den Ort (oder wählen Sie „Online“)."),
    ("latitude and longitude", "latitude", "Bitte geben Sie Breiten- und Längengrad beide an "
     "oder beide nicht."),
)  # fmt: skip
_NUMBER = re.compile(r"[0-9]{1,6}", re.ASCII)
_GERMAN_MOMENT = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4}),?\s+(\d{1,2}):(\d{2})")


@dataclass
class ActionForm:
    """What was typed (to show it again), the values for the API, and a message per field."""

    values: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)
    fields: dict[str, Any] = field(default_factory=dict)
    version: int | None = None

    @property
    def valid(self) -> bool:
        """Whether every field is right."""
        return not self.errors

    def create_request(self) -> ActionCreate:
        """The new action, as the API would take it (only when valid)."""
        return ActionCreate.model_validate(self.fields)

    def update_request(self) -> ActionUpdate:
        """The change: every field set, so that what was emptied is emptied."""
        return ActionUpdate.model_validate(self.fields)


def empty_values() -> dict[str, Any]:
    """A new action's form."""
    return {name: "" for name in TEXT_FIELDS} | {
        "ort": "vor_ort", "target_groups": [], "registration_required": False,
    }  # fmt: skip


def _local(moment: dt.datetime) -> str:
    return as_utc(moment).astimezone(BERLIN).strftime("%Y-%m-%dT%H:%M")


def _decimal(value: float | None) -> str:
    return "" if value is None else f"{value:g}".replace(".", ",")


def values_of(action: ActionPrivate) -> dict[str, Any]:
    """A stored action's form."""
    return {
        "title": action.title, "description": action.description,
        "starts_at": _local(action.starts_at), "ends_at": _local(action.ends_at),
        "ort": "online" if action.online else "vor_ort", "street": action.street or "",
        "postal_code": action.postal_code or "", "city": action.city or "",
        "latitude": _decimal(action.latitude), "longitude": _decimal(action.longitude),
        "online_url": action.online_url or "", "accessibility": action.accessibility or "",
        "capacity": "" if action.capacity is None else str(action.capacity),
        "target_groups": list(action.target_groups),
        "registration_required": action.registration_required, "version": str(action.version),
    }  # fmt: skip


def _moment(text: str) -> dt.datetime | None:
    """A `datetime-local` value (or "15.05.2027 11:00") in Berlin time, as aware UTC."""
    if german := _GERMAN_MOMENT.fullmatch(text):
        day, month, year, hour, minute = (int(part) for part in german.groups())
        try:
            local = dt.datetime(year, month, day, hour, minute)
        except ValueError:
            return None
    else:
        try:
            local = dt.datetime.fromisoformat(text)
        except ValueError:
            return None
        if local.tzinfo is not None:
            return local.astimezone(dt.UTC)
    return local.replace(tzinfo=BERLIN).astimezone(dt.UTC)


def _coordinate(text: str) -> float | str | None:
    if not text:
        return None
    try:
        return float(text.replace(",", "."))
    except ValueError:
        return text  # the model refuses it, with the field's message


def read_action_form(form: FormData) -> ActionForm:
    """The posted form, checked as the API checks an action."""
    values = empty_values()
    for name in TEXT_FIELDS:
        raw = form.get(name)
        values[name] = raw.strip() if isinstance(raw, str) else ""
    values["ort"] = "online" if values["ort"] == "online" else "vor_ort"
    values["target_groups"] = [g for g in form.getlist("target_groups") if isinstance(g, str)]
    values["registration_required"] = form.get("registration_required") == "ja"
    result = ActionForm(values=values)
    for name in (*TEXT_FIELDS, "target_groups"):
        texts = values[name] if isinstance(values[name], list) else [values[name]]
        if any(text_problem(text) for text in texts):
            result.errors[name] = UNSTORABLE
    if result.errors:
        return result
    online = values["ort"] == "online"
    fields: dict[str, Any] = {
        "title": values["title"], "description": values["description"],
        "online": online, "online_url": (values["online_url"] or None) if online else None,
        "street": None if online else values["street"] or None,
        "postal_code": None if online else values["postal_code"] or None,
        "city": None if online else values["city"] or None,
        "latitude": None if online else _coordinate(values["latitude"]),
        "longitude": None if online else _coordinate(values["longitude"]),
        "target_groups": values["target_groups"],
        "accessibility": values["accessibility"] or None,
        "registration_required": values["registration_required"],
    }  # fmt: skip
    for name in ("starts_at", "ends_at"):
        moment = _moment(values[name]) if values[name] else None
        if moment is None:
            result.errors[name] = MESSAGES[name]
        fields[name] = moment
    capacity = values["capacity"]
    if capacity and not _NUMBER.fullmatch(capacity):
        result.errors["capacity"] = MESSAGES["capacity"]
    fields["capacity"] = int(capacity) if capacity and "capacity" not in result.errors else None
    if values["version"]:
        result.version = int(values["version"]) if values["version"].isdigit() else -1
    result.fields = fields
    _check_with_the_api_models(result)
    return result


def _check_with_the_api_models(result: ActionForm) -> None:
    """Run ActionCreate on the fields; each refusal becomes its field's German message."""
    probe = dict(result.fields)
    times_missing = probe["starts_at"] is None or probe["ends_at"] is None
    if times_missing:  # the other fields are still checked, each on its own
        probe["starts_at"] = probe["starts_at"] or dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
        probe["ends_at"] = probe["starts_at"] + dt.timedelta(hours=1)
    try:
        ActionCreate.model_validate(probe)
    except ValidationError as refused:
        for error in refused.errors():
            location = [str(part) for part in error["loc"]]
            name = location[0] if location else ""
            if name in MESSAGES:
                result.errors.setdefault(name, MESSAGES[name])
                continue
            text = str(error.get("msg", ""))
            rule = german_service_message(text)
            if rule is None:
                result.errors.setdefault("title", MESSAGES["title"])
            elif not (times_missing and rule[0] == "ends_at"):
                result.errors.setdefault(*rule)
    # The model checks how the values fit together only once each field is right; the
    # form tells everything at once, so the same rule runs here on its own as well.
    try:
        check_action_values(probe)
    except ValueError as refused:
        rule = german_service_message(str(refused))
        if rule is not None and not (times_missing and rule[0] == "ends_at"):
            result.errors.setdefault(*rule)


def german_service_message(detail: str) -> tuple[str, str] | None:
    """(field, German message) for a consistency refusal of `Actions.update` (merged values)."""
    for words, target, message in RULES:
        if words in detail:
            return target, message
    return None
