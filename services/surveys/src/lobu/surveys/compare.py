"""Year over year: the shares of respondents of each year side by side, by question key.

Keys and option codes are stable across years (copying a survey keeps them), so a
question of 2023 and one of 2024 with the same key and type are the same question.
An option only one year offered is shown with null for the other years and listed
in `missing`, never as 0 %.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from lobu.surveys.errors import InvalidSurveyError, SurveyNotFoundError
from lobu.surveys.models import Survey, SurveyState
from lobu.surveys.results import SurveyResults
from lobu.surveys.results_schemas import ComparedQuestion, ComparedYear, Comparison
from lobu.surveys.schemas import CHOICE_TYPES, QuestionSpec, Results, ResultsFilter
from lobu.surveys.service import questions_of

MAX_YEARS = 12


def parse_years(text: str) -> list[int]:
    """`2023,2024` → [2023, 2024] (sorted, each once); 422 for anything else."""
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if not parts or not all(part.isascii() and part.isdigit() and len(part) == 4 for part in parts):
        raise InvalidSurveyError("years must list years of four digits, e.g. years=2023,2024.")
    years = sorted({int(part) for part in parts})
    if not 2 <= len(years) <= MAX_YEARS:
        raise InvalidSurveyError(f"Compare between 2 and {MAX_YEARS} different years.")
    return years


async def survey_of_year(session: AsyncSession, year: int) -> Survey:
    """The survey that stands for `year`: the one opened last (drafts never count)."""
    survey = await session.scalar(
        select(Survey)
        .where(col(Survey.year) == year, col(Survey.state) != SurveyState.DRAFT.value)
        .order_by(col(Survey.opened_at).desc(), col(Survey.id))
        .limit(1)
    )
    if survey is None:
        raise SurveyNotFoundError(f"There is no opened or closed survey of {year}.")
    return survey


def compare(
    years: Sequence[str], questions: Sequence[Sequence[QuestionSpec]], results: Sequence[Results]
) -> dict[str, ComparedQuestion]:
    """The comparable questions (pure): choice questions whose key and type all years share."""
    by_year = [{question.key: question for question in qs} for qs in questions]
    compared: dict[str, ComparedQuestion] = {}
    for latest in questions[-1]:
        asked = [index.get(latest.key) for index in by_year]
        if latest.type not in CHOICE_TYPES or any(
            q is None or q.type is not latest.type for q in asked
        ):
            continue
        labels: dict[str, str] = {}
        for question in asked:  # oldest first: the latest year's label wins
            labels.update({o.code: o.label for o in question.options})  # type: ignore[union-attr]
        codes = [o.code for o in latest.options] + [
            code for code in labels if code not in {o.code for o in latest.options}
        ]
        options: dict[str, dict[str, float | None]] = {code: {} for code in codes}
        missing: dict[str, list[str]] = {}
        for year, question, result in zip(years, asked, results, strict=True):
            offered = {o.code for o in question.options}  # type: ignore[union-attr]
            entry = (result.questions or {}).get(latest.key, {})
            for code in codes:
                if code not in offered:
                    missing.setdefault(code, []).append(year)
                    options[code][year] = None
                elif result.suppressed:
                    options[code][year] = None
                else:
                    options[code][year] = entry["options"][code]["share"]
        compared[latest.key] = ComparedQuestion(
            text=latest.text, type=latest.type.value, options=options, labels=labels,
            missing=missing,
        )  # fmt: skip
    return compared


class YearOverYear:
    """Compares the surveys of several years, for the whole network or one slice."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], results: SurveyResults) -> None:
        self.sessions = sessions
        self.results = results

    async def of(self, years: Sequence[int], filters: ResultsFilter) -> Comparison:
        """The comparison of `years` (oldest first)."""
        async with self.sessions() as session:
            surveys = [await survey_of_year(session, year) for year in years]
        results = [await self.results.of(survey.id, filters) for survey in surveys]
        names = [str(year) for year in years]
        return Comparison(
            years=names,
            filters=filters,
            surveys={
                name: ComparedYear(
                    survey_id=survey.id,
                    title=survey.title,
                    respondents=result.respondents,
                    suppressed=result.suppressed,
                )
                for name, survey, result in zip(names, surveys, results, strict=True)
            },
            questions=compare(names, [questions_of(s) for s in surveys], results),
        )
