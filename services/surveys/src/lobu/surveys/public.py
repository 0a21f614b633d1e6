"""The public summary of a survey whose results an admin has published.

What the public sees is a strict subset of the admin results, built field by field
(never by removing fields from the admin view, which would let a new field leak):
no free text, no minimum or maximum of a number (each is one alliance's answer), no
slice finer than a Land, and the same suppression of slices with fewer respondents
than the threshold.
"""

from __future__ import annotations

from typing import Any

from lobu.shared import as_utc
from lobu.surveys.errors import SurveyNotFoundError
from lobu.surveys.models import SurveyState
from lobu.surveys.results import SurveyResults
from lobu.surveys.results_schemas import PublicOption, PublicQuestion, PublicResults
from lobu.surveys.schemas import CHOICE_TYPES, QuestionSpec, QuestionType, ResultsFilter
from lobu.surveys.service import load_survey, questions_of


def public_question(question: QuestionSpec, entry: dict[str, Any]) -> PublicQuestion | None:
    """What may be published of one question's results; None for free text."""
    if question.type is QuestionType.TEXT:
        return None
    published = PublicQuestion(
        text=question.text, type=question.type.value, answered=entry["answered"],
        share_answered=entry["share_answered"],
    )  # fmt: skip
    if question.type in CHOICE_TYPES:
        labels = {option.code: option.label for option in question.options}
        published.options = {
            code: PublicOption(label=labels[code], count=value["count"], share=value["share"])
            for code, value in entry["options"].items()
        }
        published.mean = entry.get("mean")
    else:
        published.median, published.q1, published.q3 = entry["median"], entry["q1"], entry["q3"]
        published.mean = entry["mean"]
    return published


class PublicSummary:
    """The published results, for Germany or one Land; 404 until they are published."""

    def __init__(self, results: SurveyResults) -> None:
        self.results = results

    async def of(self, survey_id: str, *, state: str | None) -> PublicResults:
        """The summary of one survey (and Land)."""
        async with self.results.sessions() as session:
            survey = await load_survey(session, survey_id)
        if survey.results_published_at is None or survey.state != SurveyState.CLOSED.value:
            # The same answer as for an unknown id: unpublished results do not exist publicly.
            raise SurveyNotFoundError(f"There are no published results of survey {survey_id!r}.")
        results = await self.results.of(survey_id, ResultsFilter(state=state))
        summary = PublicResults(
            survey_id=survey.id, year=survey.year, title=survey.title,
            published_at=as_utc(survey.results_published_at), state=state,
            threshold=results.threshold, suppressed=results.suppressed, invited=results.invited,
        )  # fmt: skip
        if results.suppressed or results.questions is None:
            return summary
        summary.respondents, summary.response_rate = results.respondents, results.response_rate
        summary.questions = {}
        for question in questions_of(survey):
            published = public_question(question, results.questions[question.key])
            if published is not None:
                summary.questions[question.key] = published
        return summary
