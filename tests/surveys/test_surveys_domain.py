"""The rules without I/O: answers per question type, skip logic, aggregation, the clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from lobu.surveys.domain import (
    aggregate,
    check_answers,
    due_reminder,
    hash_token,
    looks_like_token,
    new_token,
)
from lobu.surveys.schemas import QuestionSpec
from tests.surveys.conftest import questionnaire

pytestmark = pytest.mark.unit

QUESTIONS = [QuestionSpec.model_validate(q) for q in questionnaire()]
COMPLETE = {"themen": ["kinderarmut"], "social-media": "ja"}


def errors_of(answers: dict[str, Any], *, complete: bool = True) -> dict[str, str]:
    return check_answers(QUESTIONS, answers, complete=complete).errors


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("themen", ["nope"], "nur angebotene"),
        ("themen", "kinderarmut", "aus der Liste"),
        ("themen", ["kinderarmut", "kinderarmut"], "jede einmal"),
        ("themen", ["vereinbarkeit", "kinderarmut", "kinderbetreuung", "migration"], "höchstens 3"),
        ("social-media", "vielleicht", "angebotenen"),
        ("social-media", ["ja"], "angebotenen"),
        ("zufriedenheit", 2, "angebotenen"),
        ("partner", "viele", "Zahl"),
        ("partner", True, "Zahl"),
        ("partner", 2.5, "ganze Zahl"),
        ("partner", -1, "mindestens 0"),
        ("partner", 501, "höchstens 500"),
        ("partner", float("nan"), "Zahl"),
        ("unbekannt", "x", "gibt es in der Umfrage nicht"),
    ],
)  # fmt: skip
def test_each_question_type_refuses_what_does_not_fit_with_a_german_message(
    key: str, value: Any, message: str
) -> None:
    errors = errors_of({**COMPLETE, key: value})
    assert message in errors[key]


def test_a_text_longer_than_its_maximum_is_refused() -> None:
    errors = errors_of({"themen": ["kinderarmut"], "social-media": "nein",
                        "kanal-warum-nicht": "x" * 51})  # fmt: skip
    assert "50 Zeichen" in errors["kanal-warum-nicht"]


def test_valid_answers_are_cleaned_into_their_stored_form() -> None:
    checked = check_answers(
        QUESTIONS,
        {"themen": ["migration", "vereinbarkeit"], "social-media": "ja",
         "zufriedenheit": "gut", "partner": "12", "kanal-warum-nicht": "ignored"},
        complete=True,
    )  # fmt: skip
    assert checked.errors == {}
    assert checked.answers == {
        # options in the questionnaire's order; the hidden question's answer dropped
        "themen": ["vereinbarkeit", "migration"], "social-media": "ja",
        "zufriedenheit": "gut", "partner": 12,
    }  # fmt: skip


def test_required_questions_are_demanded_on_submit_but_not_in_a_draft() -> None:
    assert errors_of({}, complete=False) == {}
    assert set(errors_of({})) == {"themen", "social-media"}
    assert set(errors_of({"themen": [], "social-media": ""})) == {"themen", "social-media"}


def test_skip_logic_shows_a_question_only_after_the_answer_it_depends_on() -> None:
    # "Warum nicht?" is required, but only asked when there is no channel.
    assert "kanal-warum-nicht" not in errors_of({**COMPLETE, "social-media": "ja"})
    assert "kanal-warum-nicht" in errors_of({**COMPLETE, "social-media": "nein"})
    shown = check_answers(
        QUESTIONS, {**COMPLETE, "social-media": "nein", "kanal-warum-nicht": " Zeit "},
        complete=True,
    )  # fmt: skip
    assert shown.answers["kanal-warum-nicht"] == "Zeit"


def test_skip_logic_chains_a_question_hidden_behind_a_hidden_one() -> None:
    raw = [*questionnaire(), {"key": "grund-detail", "text": "?", "type": "single",
           "options": [{"code": "a", "label": "a"}, {"code": "b", "label": "b"}]},
           {"key": "folge", "text": "?", "type": "text", "required": True,
            "show_if": {"question": "grund-detail", "any_of": ["a"]}}]  # fmt: skip
    raw[5]["show_if"] = {"question": "social-media", "any_of": ["nein"]}
    questions = [QuestionSpec.model_validate(q) for q in raw]
    # social-media "ja" hides grund-detail, and so also "folge" even with grund-detail given
    checked = check_answers(questions, {**COMPLETE, "grund-detail": "a"}, complete=True)
    assert checked.errors == {}
    assert "grund-detail" not in checked.answers


def test_tokens_are_256_bit_random_and_only_their_hash_is_kept() -> None:
    tokens = {new_token() for _ in range(100)}
    assert len(tokens) == 100
    token = tokens.pop()
    assert looks_like_token(token)
    assert len(hash_token(token)) == 64
    assert token not in hash_token(token)
    assert not looks_like_token("../../etc/passwd")


def _answer_sets(count: int, **values: Any) -> list[dict[str, Any]]:
    return [dict(values) for _ in range(count)]


def test_shares_are_of_respondents_so_multiple_choice_may_exceed_100_percent() -> None:
    answer_sets = (
        _answer_sets(3, themen=["vereinbarkeit", "kinderarmut"], zufriedenheit="sehr-gut",
                     partner=4)
        + _answer_sets(1, themen=["kinderarmut"], zufriedenheit="mittel", partner=10)
        + _answer_sets(1, themen=["migration"], partner=20)
    )  # fmt: skip
    results = aggregate(QUESTIONS, answer_sets, threshold=5, with_text=True)
    assert results is not None
    themen = results["themen"]["options"]
    assert themen["kinderarmut"] == {"count": 4, "share": 0.8}
    assert themen["vereinbarkeit"] == {"count": 3, "share": 0.6}
    assert themen["kinderbetreuung"] == {"count": 0, "share": 0.0}
    assert sum(option["share"] for option in themen.values()) > 1
    likert = results["zufriedenheit"]
    assert likert["options"]["sehr-gut"]["count"] == 3
    assert likert["mean"] == pytest.approx((1 + 1 + 1 + 3) / 4)
    assert likert["answered"] == 4
    number = results["partner"]
    assert (number["median"], number["q1"], number["q3"]) == (4, 4, 10)
    assert (number["min"], number["max"]) == (4, 20)


def test_free_text_is_listed_only_when_asked_for() -> None:
    answer_sets = _answer_sets(5, **{"kanal-warum-nicht": "Keine Zeit"})
    with_text = aggregate(QUESTIONS, answer_sets, threshold=5, with_text=True)
    without = aggregate(QUESTIONS, answer_sets, threshold=5, with_text=False)
    assert with_text is not None
    assert without is not None
    assert with_text["kanal-warum-nicht"]["answers"] == ["Keine Zeit"] * 5
    assert "answers" not in without["kanal-warum-nicht"]


def test_a_slice_below_the_threshold_is_suppressed_without_numbers() -> None:
    assert aggregate(QUESTIONS, _answer_sets(4, themen=["migration"]), threshold=5,
                     with_text=True) is None  # fmt: skip
    assert aggregate(QUESTIONS, _answer_sets(5, themen=["migration"]), threshold=5,
                     with_text=True) is not None  # fmt: skip
    assert aggregate(QUESTIONS, [], threshold=1, with_text=True) is None


CLOSES = datetime(2026, 6, 30, tzinfo=UTC)
OPENED = CLOSES - timedelta(days=30)


@pytest.mark.parametrize(
    ("days_before_closing", "due"),
    [(20, None), (14, 14), (10, 14), (3, 3), (1, 3), (0, None)],
)
def test_the_nearest_passed_reminder_is_due(days_before_closing: int, due: int | None) -> None:
    now = CLOSES - timedelta(days=days_before_closing)
    assert due_reminder(reminder_days=[14, 3], opened_at=OPENED, closes_at=CLOSES, now=now) == due


def test_a_reminder_point_before_the_opening_is_never_due() -> None:
    opened = CLOSES - timedelta(days=5)
    now = opened + timedelta(hours=1)
    assert due_reminder(reminder_days=[14, 3], opened_at=opened, closes_at=CLOSES, now=now) is None
