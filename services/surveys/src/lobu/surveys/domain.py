"""Rules of surveys that need no I/O: questionnaires, skip logic, answers, results, clock.

Aggregation lives here too: results are pure functions of the questions and the
submitted answer sets, so they are tested without a database.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from lobu.shared.input_text import text_problem
from lobu.shared.versions import NoVersionNamedError, version_named_by
from lobu.surveys.errors import InvalidSurveyError, StaleVersionError, VersionRequiredError
from lobu.surveys.schemas import CHOICE_TYPES, QuestionSpec, QuestionType

TOKEN_BYTES = 32
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{43}$")  # 32 bytes, base64url without padding


# --- tokens --------------------------------------------------------------------------


def new_token() -> str:
    """A secret, unguessable token for a personal link (256 bits)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    """What the database keeps of a token: its SHA-256, hex."""
    return hashlib.sha256(token.encode()).hexdigest()


def looks_like_token(token: str) -> bool:
    """True for something of a token's shape (others need no database look-up)."""
    return bool(_TOKEN_SHAPE.fullmatch(token))


# --- questionnaires ------------------------------------------------------------------


def check_questionnaire(questions: Sequence[QuestionSpec]) -> None:
    """Keys are unique; skip logic points to an earlier choice question and its codes."""
    seen: dict[str, QuestionSpec] = {}
    for question in questions:
        if question.key in seen:
            raise InvalidSurveyError(f"The question key {question.key!r} is used twice.")
        condition = question.show_if
        if condition is not None:
            earlier = seen.get(condition.question)
            if earlier is None:
                raise InvalidSurveyError(
                    f"Question {question.key!r} depends on {condition.question!r}, "
                    "which is not an earlier question."
                )
            if earlier.type not in CHOICE_TYPES:
                raise InvalidSurveyError(
                    f"Question {question.key!r} can depend only on a choice question."
                )
            codes = {option.code for option in earlier.options}
            unknown = sorted(set(condition.any_of) - codes)
            if unknown:
                raise InvalidSurveyError(
                    f"Question {question.key!r} depends on codes {unknown} that "
                    f"{earlier.key!r} does not offer."
                )
        seen[question.key] = question


def parse_if_match(header: str | None) -> int | None:
    """The version an If-Match header names; None for `*`; 428 without one."""
    if header is None or not header.strip():
        raise VersionRequiredError(
            "Send the survey's ETag in If-Match, so that edits made meanwhile are not "
            "overwritten (GET the survey first)."
        )
    try:
        return version_named_by(header)
    except NoVersionNamedError:
        shown = header if len(header) <= 40 else f"{header[:40]}…"
        raise StaleVersionError(f"If-Match {shown!r} names no version of this survey.") from None


def check_version(*, expected: int | None, current: int) -> None:
    """Refuse an edit of a version that is no longer current."""
    if expected is not None and expected != current:
        raise StaleVersionError(
            f"The survey has changed since you loaded it (you edited version {expected}, "
            f"the current version is {current}). Load it again and repeat your change.",
            current_version=current,
        )


# --- answers -------------------------------------------------------------------------

REQUIRED = "Bitte beantworten Sie diese Frage."


def is_shown(question: QuestionSpec, answers: Mapping[str, Any], shown: set[str]) -> bool:
    """Skip logic: a question is shown unless its condition on an earlier answer fails."""
    condition = question.show_if
    if condition is None:
        return True
    if condition.question not in shown:
        return False
    given = answers.get(condition.question)
    chosen = set(given) if isinstance(given, list) else {given}
    return bool(chosen & set(condition.any_of))


def _number(question: QuestionSpec, value: Any) -> float | int:
    if isinstance(value, str):
        text = value.strip().replace(",", ".")
        try:
            value = float(text)
        except ValueError:
            raise ValueError("Bitte geben Sie eine Zahl ein (zum Beispiel 12 oder 2,5).") from None
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise ValueError("Bitte geben Sie eine Zahl ein (zum Beispiel 12 oder 2,5).")
    if value in (float("inf"), float("-inf")):
        raise ValueError("Bitte geben Sie eine endliche Zahl ein.")
    if question.integer and value != int(value):
        raise ValueError("Bitte geben Sie eine ganze Zahl ein.")
    if question.min is not None and value < question.min:
        raise ValueError(f"Bitte geben Sie mindestens {question.min:g} ein.")
    if question.max is not None and value > question.max:
        raise ValueError(f"Bitte geben Sie höchstens {question.max:g} ein.")
    return int(value) if question.integer or value == int(value) else value


def clean_answer(question: QuestionSpec, value: Any) -> Any:
    """The answer as stored, None when unanswered; ValueError with a German message."""
    codes = [option.code for option in question.options]
    if value is None:
        return None
    if question.type in (QuestionType.SINGLE, QuestionType.LIKERT):
        if value == "":
            return None
        if not isinstance(value, str) or value not in codes:
            raise ValueError("Bitte wählen Sie eine der angebotenen Antworten.")
        return value
    if question.type is QuestionType.MULTIPLE:
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise ValueError("Bitte wählen Sie Antworten aus der Liste.")
        if any(item not in codes for item in value) or len(set(value)) != len(value):
            raise ValueError("Bitte wählen Sie nur angebotene Antworten, jede einmal.")
        if question.max_choices is not None and len(value) > question.max_choices:
            raise ValueError(f"Bitte wählen Sie höchstens {question.max_choices} Antworten.")
        return [code for code in codes if code in value] or None
    if question.type is QuestionType.NUMBER:
        if value == "":
            return None
        return _number(question, value)
    if not isinstance(value, str):
        raise ValueError("Bitte geben Sie einen Text ein.")
    if text_problem(value) is not None:  # PostgreSQL cannot store it: a 500 further in
        raise ValueError(
            "Ihre Antwort enthält ein Steuerzeichen (Nullzeichen oder ungültiges Unicode-Zeichen), "
            "das wir nicht speichern können. Bitte entfernen Sie es, etwa durch erneutes Eintippen."
        )
    text = value.strip()
    if len(text) > question.max_length:
        raise ValueError(
            f"Bitte kürzen Sie Ihre Antwort auf höchstens {question.max_length} Zeichen."
        )
    return text or None


@dataclass(frozen=True)
class CheckedAnswers:
    """Answers fitted to their questions: what may be stored, and what is wrong."""

    answers: dict[str, Any]
    errors: dict[str, str]


def check_answers(
    questions: Sequence[QuestionSpec], raw: Mapping[str, Any], *, complete: bool
) -> CheckedAnswers:
    """Clean `raw` per question; `complete` (a submission) also demands required answers.

    Answers to questions that skip logic hides are dropped, as LimeSurvey does: they
    may be left over from an earlier choice the alliance has since changed.
    """
    known = {question.key for question in questions}
    errors = {key: "Diese Frage gibt es in der Umfrage nicht." for key in raw if key not in known}
    answers: dict[str, Any] = {}
    shown: set[str] = set()
    for question in questions:
        if not is_shown(question, answers, shown):
            continue
        shown.add(question.key)
        try:
            value = clean_answer(question, raw.get(question.key))
        except ValueError as error:
            errors[question.key] = str(error)
            continue
        if value is None:
            if complete and question.required:
                errors[question.key] = REQUIRED
            continue
        answers[question.key] = value
    return CheckedAnswers(answers=answers, errors=errors)


# --- the clock -----------------------------------------------------------------------


def takes_answers(*, state: str, closes_at: datetime, now: datetime) -> bool:
    """True while the survey is open and its closing time has not come."""
    return state == "open" and now < closes_at


def due_reminder(
    *, reminder_days: Iterable[int], opened_at: datetime, closes_at: datetime, now: datetime
) -> int | None:
    """The reminder due now (days before closing), the nearest one; None if none is.

    A reminder point that lay before the survey opened is never due, and of several
    points passed (the scheduler was down) only the latest counts, so that an alliance
    never gets the 14-day reminder after the 3-day one.
    """
    if now >= closes_at:
        return None
    passed = [days for days in reminder_days if opened_at < closes_at - timedelta(days=days) <= now]
    return min(passed) if passed else None


# --- results -------------------------------------------------------------------------


def _share(count: int, respondents: int) -> float:
    return round(count / respondents, 4) if respondents else 0.0


def _choice_results(question: QuestionSpec, values: list[Any], respondents: int) -> dict[str, Any]:
    counts = {option.code: 0 for option in question.options}
    for value in values:
        for code in value if isinstance(value, list) else (value,):
            if code in counts:
                counts[code] += 1
    result: dict[str, Any] = {
        "options": {
            code: {"count": count, "share": _share(count, respondents)}
            for code, count in counts.items()
        }
    }
    if question.type is QuestionType.LIKERT:
        scored = sum(counts.values())
        total = sum(position * count for position, count in enumerate(counts.values(), start=1))
        result["mean"] = round(total / scored, 3) if scored else None
    return result


def _number_results(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"median": None, "q1": None, "q3": None, "min": None, "max": None, "mean": None}
    ordered = sorted(values)
    q1, median, q3 = (
        statistics.quantiles(ordered, n=4, method="inclusive")
        if len(ordered) > 1
        else (ordered[0], ordered[0], ordered[0])
    )
    return {
        "median": median, "q1": q1, "q3": q3, "min": ordered[0], "max": ordered[-1],
        "mean": round(statistics.fmean(ordered), 3),
    }  # fmt: skip


def aggregate(
    questions: Sequence[QuestionSpec],
    answer_sets: Sequence[Mapping[str, Any]],
    *,
    threshold: int,
    with_text: bool,
) -> dict[str, Any] | None:
    """Results per question key; None when the slice has fewer than `threshold` respondents.

    Shares are of all respondents of the slice, so the options of a multiple-choice
    question may add up to more than 100 %.
    """
    respondents = len(answer_sets)
    if respondents < threshold:
        return None
    by_key: dict[str, list[Any]] = {question.key: [] for question in questions}
    for answers in answer_sets:  # one pass over the answers, not one per question
        for key, value in answers.items():
            if key in by_key:
                by_key[key].append(value)
    results: dict[str, Any] = {}
    for question in questions:
        values = by_key[question.key]
        entry: dict[str, Any] = {
            "type": question.type.value,
            "answered": len(values),
            "share_answered": _share(len(values), respondents),
        }
        if question.type in CHOICE_TYPES:
            entry.update(_choice_results(question, values, respondents))
        elif question.type is QuestionType.NUMBER:
            entry.update(_number_results([float(value) for value in values]))
        elif with_text:
            entry["answers"] = sorted(str(value) for value in values)
        results[question.key] = entry
    return results
