"""What the survey management on `/umfragen` shows: state names, the next step of each
survey, notices after an action (post/redirect/get: a code in the query, never free
text from the address), and the copy form's defaults and checks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from fastapi import Request

from lobu.shared.input_text import text_problem
from lobu.surveys.schemas import SurveyCopy, SurveyPublic, SurveySummary
from lobu.surveys.service import SurveyCatalogue

STATE_NAMES = {"draft": "Entwurf", "open": "läuft", "closed": "abgeschlossen"}


@dataclass(frozen=True)
class Step:
    """An action on a survey: its address part, button text, and the confirmation's words."""

    slug: str
    button: str
    question: str
    consequence: str
    notice: str


STEPS = {
    "oeffnen": Step(
        "oeffnen", "Öffnen", "Umfrage jetzt öffnen?",
        "Alle aktiven Bündnisse werden eingeladen und erhalten ihren persönlichen Link per "
        "E-Mail. Fragen und Einstellungen lassen sich danach nicht mehr ändern (nur das Ende).",
        "Die Umfrage „{title}“ ist geöffnet: {invited} Bündnisse sind eingeladen.",
    ),
    "schliessen": Step(
        "schliessen", "Schließen", "Umfrage jetzt schließen?",
        "Danach nimmt die Umfrage keine Antworten mehr an, auch nicht über die persönlichen "
        "Links. Das lässt sich nicht rückgängig machen.",
        "Die Umfrage „{title}“ ist geschlossen: {respondents} von {invited} Bündnissen haben "
        "geantwortet.",
    ),
    "veroeffentlichen": Step(
        "veroeffentlichen", "Ergebnisse veröffentlichen", "Ergebnisse jetzt veröffentlichen?",
        "Die Zusammenfassung erscheint öffentlich unter „Ergebnisse“ (ohne Freitexte, kleine "
        "Gruppen unterdrückt), und die Bündnisse werden benachrichtigt.",
        "Die Ergebnisse der Umfrage „{title}“ sind veröffentlicht.",
    ),
}  # fmt: skip
COPIED = "Der Entwurf „{title}“ ist angelegt. Prüfen Sie Fragen und Termine, bevor Sie ihn öffnen."


def next_step(survey: SurveyPublic) -> Step | None:
    """What can be done with the survey now: open a draft, close an open one, publish."""
    if survey.state == "draft":
        return STEPS["oeffnen"]
    if survey.state == "open":
        return STEPS["schliessen"]
    if survey.results_published_at is None:
        return STEPS["veroeffentlichen"]
    return None


def state_refusal(slug: str, survey: SurveyPublic, now: datetime) -> str:
    """Why the step cannot be taken now, in German."""
    state = STATE_NAMES[survey.state]
    if slug == "oeffnen" and survey.state == "draft" and survey.closes_at <= now:
        return "Das Ende dieser Umfrage liegt in der Vergangenheit. Verschieben Sie es zuerst."
    if slug == "oeffnen":
        return f"Die Umfrage ist {state}; nur ein Entwurf kann geöffnet werden."
    if slug == "schliessen":
        return f"Die Umfrage ist {state}; nur eine laufende Umfrage kann geschlossen werden."
    if survey.results_published_at is not None:
        return "Die Ergebnisse dieser Umfrage sind bereits veröffentlicht."
    return f"Die Umfrage ist {state}; Ergebnisse gibt es erst nach dem Schließen."


def notice_of(code: str | None, survey: SurveyPublic | None) -> str | None:
    """The German notice an action's redirect names by its code."""
    if survey is None or code is None:
        return None
    values = {"title": survey.title, "invited": survey.invited, "respondents": survey.respondents}
    if code == "kopiert":
        return COPIED.format(**values)
    step = STEPS.get(code)
    return step.notice.format(**values) if step else None


@dataclass
class CopyForm:
    """The copy form's values as typed, its errors by field, and the request once valid."""

    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    request: SurveyCopy | None = None


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


def check_copy(values: dict[str, str], sources: set[str], now: datetime) -> CopyForm:
    """Check the copy form; the survey ends at 23:59 UTC of the day given."""
    form = CopyForm(values=values)
    errors = form.errors
    if values.get("quelle", "") not in sources:
        errors["quelle"] = "Bitte wählen Sie die Umfrage, deren Fragen übernommen werden."
    year_text = values.get("jahr", "").strip()
    year = int(year_text) if year_text.isdigit() else 0
    if not 2000 <= year <= 2100:
        errors["jahr"] = "Bitte geben Sie ein Jahr zwischen 2000 und 2100 an (zum Beispiel 2026)."
    title = values.get("titel", "").strip()
    if len(title) > 200 or text_problem(title):
        errors["titel"] = "Bitte geben Sie einen Titel mit höchstens 200 Zeichen an."
    ends = _date(values.get("ende", ""))
    closes_at = datetime.combine(ends, time(23, 59), UTC) if ends else None
    if closes_at is None:
        errors["ende"] = "Bitte geben Sie das Ende als Datum an (TT.MM.JJJJ)."
    elif closes_at <= now:
        errors["ende"] = "Das Ende muss in der Zukunft liegen."
    opens_at = None
    if values.get("beginn", "").strip():
        starts = _date(values["beginn"])
        opens_at = datetime.combine(starts, time(0, 0), UTC) if starts else None
        if opens_at is None:
            errors["beginn"] = "Bitte geben Sie den Beginn als Datum an, oder lassen Sie ihn leer."
        elif closes_at is not None and opens_at >= closes_at:
            errors["beginn"] = "Der Beginn muss vor dem Ende liegen."
    if not errors and closes_at is not None:
        form.request = SurveyCopy(
            year=year, title=title or None, opens_at=opens_at, closes_at=closes_at
        )
    return form


def copy_defaults(surveys: list[SurveySummary]) -> dict[str, str]:
    """The newest survey that ran as the model, for the year after the newest one."""
    ran = [s for s in surveys if s.state != "draft"] or surveys
    newest = max((s.year for s in surveys), default=datetime.now(UTC).year - 1)
    return {
        "quelle": ran[0].id if ran else "", "jahr": str(newest + 1), "titel": "",
        "beginn": "", "ende": "",
    }  # fmt: skip


async def management_context(
    request: Request, catalogue: SurveyCatalogue, surveys: list[SurveySummary],
    copy: CopyForm | None = None,
) -> dict[str, Any]:  # fmt: skip
    """The list's management part: each survey's next step, the notice, the copy form."""
    views = {s.id: await catalogue.get(s.id) for s in surveys}
    code = request.query_params.get("hinweis")
    shown = request.query_params.get("umfrage")
    notice = notice_of(code, views.get(shown or "")) if shown else None
    return {
        "manage": True, "steps": {key: next_step(view) for key, view in views.items()},
        "views": views, "notice": notice,
        "copy": copy or CopyForm(values=copy_defaults(surveys)),
    }  # fmt: skip
