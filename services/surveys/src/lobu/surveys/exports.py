"""CSV exports for German Excel (lobu.shared.spreadsheet_csv): responses and results.

The responses (admins only) have one row per submitted response and one column per
question, a column per option for multiple choice (`key[code]`, 1 or 0, as LimeSurvey
exports them, so that a spreadsheet can sum them). The results have one row per
option or figure, in the slice asked for; a suppressed slice is one row that says so.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from lobu.shared import as_utc
from lobu.shared.spreadsheet_csv import excel_csv_lines
from lobu.surveys.charts import decimal_de
from lobu.surveys.models import AllianceReplica, Response
from lobu.surveys.schemas import CHOICE_TYPES, QuestionSpec, QuestionType, Results
from lobu.surveys.service import load_survey, questions_of

BERLIN = ZoneInfo("Europe/Berlin")
RESPONSE_COLUMNS = ["buendnis_id", "buendnis", "land", "abgeschickt_am"]
RESULT_COLUMNS = [
    "frage", "fragetext", "typ", "antwort", "antworttext", "anzahl", "anteil_prozent", "wert",
]  # fmt: skip


def _moment(value: datetime | None) -> str:
    return as_utc(value).astimezone(BERLIN).strftime("%d.%m.%Y %H:%M") if value else ""


def _number(value: Any) -> str:
    return decimal_de(float(value), places=6) if value is not None else ""


def response_header(questions: Sequence[QuestionSpec]) -> list[str]:
    """The responses' columns: the alliance, then one (or, multiple: per option) per question."""
    columns = list(RESPONSE_COLUMNS)
    for question in questions:
        if question.type is QuestionType.MULTIPLE:
            columns += [f"{question.key}[{option.code}]" for option in question.options]
        else:
            columns.append(question.key)
    return columns


def response_cells(questions: Sequence[QuestionSpec], answers: dict[str, Any]) -> list[str]:
    """One response's answer cells, in the columns of `response_header`."""
    cells: list[str] = []
    for question in questions:
        value = answers.get(question.key)
        if question.type is QuestionType.MULTIPLE:
            chosen = set(value or [])
            cells += ["1" if option.code in chosen else "0" for option in question.options]
        elif value is None:
            cells.append("")
        elif question.type in CHOICE_TYPES:
            labels = {option.code: option.label for option in question.options}
            cells.append(labels.get(str(value), str(value)))
        elif question.type is QuestionType.NUMBER:
            cells.append(_number(value))
        else:
            cells.append(str(value))
    return cells


class ResponseExport:
    """The submitted responses of a survey as CSV lines."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def lines(self, survey_id: str) -> list[str]:
        """All lines (a survey has hundreds of responses, not millions)."""
        async with self.sessions() as session:
            survey = await load_survey(session, survey_id)
            rows = (
                await session.execute(
                    select(Response, AllianceReplica)
                    .join(
                        AllianceReplica,
                        col(AllianceReplica.alliance_id) == col(Response.alliance_id),
                        isouter=True,
                    )
                    .where(
                        col(Response.survey_id) == survey_id,
                        col(Response.submitted_at).is_not(None),
                    )
                    .order_by(col(AllianceReplica.name), col(Response.alliance_id))
                )
            ).all()
        questions = questions_of(survey)

        def table() -> Iterator[list[str]]:
            yield response_header(questions)
            for response, replica in rows:
                alliance = [
                    response.alliance_id, replica.name if replica else "",
                    replica.state if replica else "", _moment(response.submitted_at),
                ]  # fmt: skip
                yield alliance + response_cells(questions, response.answers or {})

        return list(excel_csv_lines(table()))


def _percent(share: float) -> str:
    return decimal_de(share * 100, places=2)


def result_rows(questions: Sequence[QuestionSpec], results: Results) -> Iterator[list[str]]:
    """The results as rows of RESULT_COLUMNS; free text is not listed (see the responses)."""
    yield RESULT_COLUMNS
    yield ["(gesamt)", "", "", "eingeladen", "Eingeladene Bündnisse", str(results.invited), "", ""]
    if results.suppressed or results.questions is None:
        yield [
            "(gesamt)", "", "", "unterdrueckt",
            f"Weniger als {results.threshold} Antwortende: keine Zahlen", "", "", "",
        ]  # fmt: skip
        return
    rate = _percent(results.response_rate) if results.response_rate is not None else ""
    yield ["(gesamt)", "", "", "antwortende", "Antwortende Bündnisse",
           str(results.respondents), rate, ""]  # fmt: skip
    for question in questions:
        entry = results.questions[question.key]
        head = [question.key, question.text, question.type.value]
        if question.type in CHOICE_TYPES:
            for option in question.options:
                value = entry["options"][option.code]
                yield [*head, option.code, option.label, str(value["count"]),
                       _percent(value["share"]), ""]  # fmt: skip
            if question.type is QuestionType.LIKERT:
                yield [*head, "mittelwert", "Mittelwert (1 = erste Stufe)", "", "",
                       _number(entry["mean"])]  # fmt: skip
        elif question.type is QuestionType.NUMBER:
            for figure, label in (("median", "Median"), ("q1", "1. Quartil"),
                                  ("q3", "3. Quartil"), ("mean", "Mittelwert")):  # fmt: skip
                yield [*head, figure, label, str(entry["answered"]), "", _number(entry[figure])]
        else:
            yield [*head, "antworten", "Freitext (siehe Export der Antworten)",
                   str(entry["answered"]), _percent(entry["share_answered"]), ""]  # fmt: skip


def result_lines(questions: Sequence[QuestionSpec], results: Results) -> list[str]:
    """The results as CSV lines for German Excel."""
    return list(excel_csv_lines(result_rows(questions, results)))
