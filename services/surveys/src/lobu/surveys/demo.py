"""The 2023 and 2024 demo surveys, closed, with responses that reproduce the published
shares of respondents exactly (whole per cent, rounded half up), each in its year.

They are loaded once the replica knows the directory's demo alliances (the directory
loads them into its own empty database; they reach this service through Kafka), and
only into a database without surveys. Rows are written directly, without outbox
events: these surveys are history, so nobody is invited or reminded by mail.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from lobu.shared import transaction
from lobu.surveys.models import AllianceReplica, Invitation, Response, Survey, SurveyState
from lobu.surveys.schemas import QuestionSpec

logger = logging.getLogger(__name__)

# The directory ships 400 demo alliances (340 of them active).
DEMO_ALLIANCES = 400


def _options(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    return [{"code": code, "label": label} for code, label in pairs]


QUESTIONS: list[dict[str, Any]] = [
    {"key": "zukunftsthemen", "type": "multiple", "required": True,
     "text": "Welche Themen werden für Ihr Bündnis in Zukunft wichtig?",
     "options": _options(("vereinbarkeit", "Vereinbarkeit von Familie und Beruf"),
                         ("kinderarmut", "Kinderarmut"), ("kinderbetreuung", "Kinderbetreuung"),
                         ("flucht-migration", "Familien mit Flucht- und Migrationsgeschichte"),
                         ("pflege", "Pflege von Angehörigen"),
                         ("vielfalt", "Vielfalt der Familienformen"))},
    {"key": "massnahmen", "type": "multiple",
     "text": "Welche Maßnahmen würden Ihr Bündnis stärken?",
     "options": _options(("kommunalpolitik", "Anbindung an die Kommunalpolitik"),
                         ("finanzierte-stellen", "Weitere finanzierte Stellen"),
                         ("kooperationspartner", "Neue Kooperationspartner"),
                         ("fortbildung", "Fortbildungen"))},
    {"key": "social-media", "type": "single", "required": True,
     "text": "Nutzt Ihr Bündnis einen Social-Media-Kanal?",
     "options": _options(("kanal", "Ja, wir haben einen eigenen Kanal"),
                         ("dagegen", "Nein, wir haben uns bewusst dagegen entschieden"),
                         ("noch-nicht", "Nein, noch nicht"))},
    {"key": "top-prioritaet", "type": "single", "required": True,
     "text": "Was hat für Ihr Bündnis derzeit die höchste Priorität?",
     "options": _options(("sichtbarkeit", "Sichtbarkeit"), ("vernetzung", "Vernetzung"),
                         ("finanzierung", "Finanzierung"), ("projekte", "Eigene Projekte"))},
    {"key": "zufriedenheit", "type": "likert",
     "text": "Wie zufrieden sind Sie mit der Unterstützung durch das Servicebüro?",
     "options": _options(("sehr-gut", "sehr gut"), ("gut", "gut"), ("mittel", "mittel"),
                         ("wenig", "wenig"), ("gar-nicht", "gar nicht"))},
    {"key": "partner-anzahl", "type": "number", "integer": True, "min": 0, "max": 1000,
     "text": "Wie viele Partner hat Ihr Bündnis?"},
    {"key": "anmerkungen", "type": "text", "max_length": 2000,
     "text": "Was möchten Sie dem Servicebüro mitteilen?"},
]  # fmt: skip

# Respondents per option: the published figures, and invented ones for the rest.
YEARS: dict[int, dict[str, Any]] = {
    2023: {
        "respondents": 230,
        "counts": {
            # 63 %, 56 %, 51 %, 45 % (published)
            "zukunftsthemen": {"vereinbarkeit": 145, "kinderarmut": 129, "kinderbetreuung": 117,
                               "flucht-migration": 104, "pflege": 62, "vielfalt": 40},
            # 44 %, 44 %, 43 % (published)
            "massnahmen": {"kommunalpolitik": 101, "finanzierte-stellen": 101,
                           "kooperationspartner": 99, "fortbildung": 60},
            # 9 % channel, 3 % decided against (published)
            "social-media": {"kanal": 21, "dagegen": 7, "noch-nicht": 202},
            # visibility 20 % (published)
            "top-prioritaet": {"sichtbarkeit": 46, "vernetzung": 80, "finanzierung": 70,
                               "projekte": 34},
            "zufriedenheit": {"sehr-gut": 70, "gut": 100, "mittel": 40, "wenig": 15,
                              "gar-nicht": 5},
        },
    },
    2024: {
        "respondents": 80,
        "counts": {
            "zukunftsthemen": {"vereinbarkeit": 50, "kinderarmut": 47, "kinderbetreuung": 40,
                               "flucht-migration": 33, "pflege": 25, "vielfalt": 18},
            "massnahmen": {"kommunalpolitik": 36, "finanzierte-stellen": 38,
                           "kooperationspartner": 30, "fortbildung": 22},
            # 28 % channel, 8 % decided against (published: 22/80 = 27.5 %, 6/80 = 7.5 %)
            "social-media": {"kanal": 22, "dagegen": 6, "noch-nicht": 52},
            # visibility over 40 % (published): 33/80 = 41.25 %
            "top-prioritaet": {"sichtbarkeit": 33, "vernetzung": 20, "finanzierung": 17,
                               "projekte": 10},
            "zufriedenheit": {"sehr-gut": 28, "gut": 34, "mittel": 12, "wenig": 4,
                              "gar-nicht": 2},
        },
    },
}  # fmt: skip

NOTES = ["Mehr Austausch zwischen den Bündnissen wäre hilfreich.",
         "Die Vorlagen für Pressearbeit nutzen wir gern.", "Weiter so!"]  # fmt: skip


def demo_answers(year: int) -> list[dict[str, Any]]:
    """The answer sets of `year`, respondent by respondent (pure, deterministic).

    Respondent i chooses an option with count c when (i + offset) mod n < c: exactly c
    respondents choose it, and each option's offset spreads the choices.
    """
    table = YEARS[year]
    respondents: int = table["respondents"]
    answer_sets: list[dict[str, Any]] = [{} for _ in range(respondents)]
    for key, counts in table["counts"].items():
        question = next(q for q in QUESTIONS if q["key"] == key)
        if question["type"] == "multiple":
            for position, (code, count) in enumerate(counts.items()):
                offset = position * 37
                for i, answers in enumerate(answer_sets):
                    if (i + offset) % respondents < count:
                        answers.setdefault(key, []).append(code)
        else:
            codes = [code for code, count in counts.items() for _ in range(count)]
            if len(codes) != respondents:
                raise ValueError(f"{year} {key}: counts add up to {len(codes)}, not {respondents}")
            for answers, code in zip(answer_sets, codes, strict=True):
                answers[key] = code
    for i, answers in enumerate(answer_sets):
        answers["partner-anzahl"] = 5 + (i * 7) % 40
        if i % 25 == 0:
            answers["anmerkungen"] = NOTES[(i // 25) % len(NOTES)]
    return answer_sets


class DemoSurveys:
    """Loads the demo surveys once the demo alliances have been replicated."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions
        self.done = False

    async def load_when_ready(self) -> bool:
        """Load unless there are surveys already; wait for the alliances. True when loaded."""
        if self.done:
            return False
        async with self.sessions() as session:
            if await session.scalar(select(func.count()).select_from(Survey)):
                self.done = True
                return False
            known = await session.scalar(select(func.count()).select_from(AllianceReplica))
        if (known or 0) < DEMO_ALLIANCES:
            return False  # the directory's demo alliances are still on their way
        async with transaction(self.sessions) as session:
            for year in YEARS:
                await self._load_year(session, year)
        self.done = True
        logger.info("loaded the demo surveys %s", ", ".join(map(str, YEARS)))
        return True

    async def _load_year(self, session: AsyncSession, year: int) -> None:
        questions = [QuestionSpec.model_validate(q).model_dump(mode="json") for q in QUESTIONS]
        opens, closes = datetime(year, 5, 2, 8, tzinfo=UTC), datetime(year, 6, 30, 22, tzinfo=UTC)
        survey = Survey(
            id=str(uuid.uuid4()), year=year, title=f"Bündnisumfrage {year}",
            intro="Wie arbeitet Ihr Bündnis, und was plant es?", state=SurveyState.CLOSED.value,
            questions=questions, reminder_days=[14, 3],
            opens_at=opens, closes_at=closes, opened_at=opens, closed_at=closes,
            results_published_at=datetime(year, 9, 1, 8, tzinfo=UTC),
        )  # fmt: skip
        session.add(survey)
        await session.flush()
        active = (
            await session.scalars(
                select(col(AllianceReplica.alliance_id))
                .where(
                    col(AllianceReplica.status) == "active", col(AllianceReplica.deleted).is_(False)
                )
                .order_by(col(AllianceReplica.slug))
            )
        ).all()
        answer_sets = demo_answers(year)
        # A different, evenly spread subset of the active alliances answers each year.
        step = len(active) / len(answer_sets)
        respondents = {active[int(i * step)] for i in range(len(answer_sets))}
        ordered = [alliance_id for alliance_id in active if alliance_id in respondents]
        answers_by_alliance = dict(zip(ordered, answer_sets, strict=True))
        submitted = datetime(year, 6, 15, 12, tzinfo=UTC)
        for alliance_id in active:
            invitation = Invitation(
                id=str(uuid.uuid4()), survey_id=survey.id, alliance_id=alliance_id
            )
            session.add(invitation)
            answers = answers_by_alliance.get(alliance_id)
            if answers is not None:
                session.add(
                    Response(
                        invitation_id=invitation.id, survey_id=survey.id, alliance_id=alliance_id,
                        draft=answers, answers=answers, submitted_at=submitted, submissions=1,
                    )
                )  # fmt: skip
        await session.flush()
