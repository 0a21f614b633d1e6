"""How fast are a survey's results, next to a plain SQL aggregate of the same data?

Ten yearly surveys (2015–2024) of 50 questions each (20 single choice, 15 multiple
choice, 5 Likert, 5 numbers, 5 free text), 300 invited alliances a year of which 240
answered, on a throwaway PostgreSQL (tests/support/postgres_server.py). The surveys
app runs in this process (`create_app`, its migrations, its own code paths) and is
called through httpx's ASGI transport, so the figures hold the app's work without a
network hop; Kafka is left out (the app points at 127.0.0.1:1, where nothing listens,
and keeps retrying in the background: results do not need it).

The floor, measured in the same run on the same database and driver (asyncpg), is one
plain SQL statement that counts every answer of one survey per (question, value): the
least any results code must do. Printed figures, medians of alternating runs:

- `SurveyResults.of` for one survey (the JSON results' use case), with and without
  a Land filter, and the floor; `FIGURE surveys.results.ratio_to_floor` is their ratio;
- one admin results page (`GET /umfragen/{id}/ergebnisse`: results, response rates
  by Land, 40 SVG charts and tables), `FIGURE surveys.results.page_ms` (target < 200);
- the year-over-year JSON over all ten years.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any

import httpx
from sqlalchemy import insert, text

from lobu.shared.auth import Role, create_token
from lobu.shared.contracts.vocabulary import STATES, TOPICS
from lobu.surveys.main import create_app
from lobu.surveys.models import AllianceReplica, Invitation, Response, Survey
from lobu.surveys.schemas import QuestionSpec, ResultsFilter
from lobu.surveys.settings import SurveySettings
from tests.support.postgres_server import postgres_server

SECRET = "bench-secret-of-at-least-thirty-two-bytes"  # noqa: S105  # a throwaway test key
YEARS = list(range(2015, 2025))
# The floor: every answer of one survey counted per (question, value) in one statement.
# Two spellings, the column as stored (json) and cast to jsonb (parsed once per row);
# the faster one counts.
_FLOOR = """
    SELECT q.key, v.value, count(*)
    FROM responses AS r
    CROSS JOIN LATERAL KIND_each(r.answersCAST) AS q(key, answer)
    CROSS JOIN LATERAL KIND_array_elements_text(
        CASE KIND_typeof(q.answer) WHEN 'array' THEN q.answer ELSE KIND_build_array(q.answer) END
    ) AS v(value)
    WHERE r.survey_id = :survey_id AND r.answers IS NOT NULL
    GROUP BY q.key, v.value
"""
FLOOR_SQL = {
    kind: text(_FLOOR.replace("KIND", kind).replace("CAST", cast))
    for kind, cast in (("json", ""), ("jsonb", "::jsonb"))
}


def questionnaire() -> list[dict[str, Any]]:
    """50 questions of every type (keys shared by all years)."""
    questions: list[dict[str, Any]] = []
    for number in range(50):
        key = f"frage-{number:02d}"
        if number < 20:
            kind, options = "single", 4
        elif number < 35:
            kind, options = "multiple", 6
        elif number < 40:
            kind, options = "likert", 5
        elif number < 45:
            kind, options = "number", 0
        else:
            kind, options = "text", 0
        question: dict[str, Any] = {
            "key": key,
            "type": kind,
            "text": f"Frage {number + 1}: Wie hält es Ihr Bündnis mit Thema {number + 1}?",
        }
        if options:
            question["options"] = [
                {"code": f"o{index}", "label": f"Antwort {index + 1} zu Frage {number + 1}"}
                for index in range(options)
            ]
        if kind == "number":
            question.update({"min": 0, "max": 1000, "integer": True})
        questions.append(QuestionSpec.model_validate(question).model_dump(mode="json"))
    return questions


def answers_of(questions: list[dict[str, Any]], rng: random.Random) -> dict[str, Any]:
    """One respondent's answers: every question answered."""
    answers: dict[str, Any] = {}
    for question in questions:
        codes = [option["code"] for option in question["options"]]
        if question["type"] in ("single", "likert"):
            answers[question["key"]] = rng.choice(codes)
        elif question["type"] == "multiple":
            answers[question["key"]] = sorted(rng.sample(codes, rng.randint(1, 3)))
        elif question["type"] == "number":
            answers[question["key"]] = rng.randint(0, 200)
        else:
            answers[question["key"]] = f"Anmerkung {rng.randint(1, 10**6)} zu {question['key']}"
    return answers


async def load(app: Any, *, alliances: int, respondents: int, seed: int) -> dict[int, str]:
    """The replica, ten closed surveys, their invitations and responses; ids by year."""
    rng = random.Random(seed)
    states, topics = list(STATES), list(TOPICS)
    questions = questionnaire()
    replica = [
        {"alliance_id": f"bench-{n:04d}", "slug": f"bench-{n:04d}", "name": f"Bündnis {n:04d}",
         "state": states[n % len(states)], "status": "active",
         "topics": rng.sample(topics, 3), "awards": [], "version": 1, "deleted": False}
        for n in range(alliances)
    ]  # fmt: skip
    ids: dict[int, str] = {}
    async with app.state.runtime.sessions() as session, session.begin():
        await session.execute(insert(AllianceReplica), replica)
        for year in YEARS:
            survey_id = ids[year] = str(uuid.uuid4())
            closes = datetime(year, 6, 30, tzinfo=UTC)
            await session.execute(
                insert(Survey),
                [{"id": survey_id, "year": year, "title": f"Bündnisumfrage {year}", "intro": "",
                  "state": "closed", "questions": questions, "reminder_days": [14, 3],
                  "opens_at": datetime(year, 5, 1, tzinfo=UTC), "closes_at": closes,
                  "opened_at": datetime(year, 5, 1, tzinfo=UTC), "closed_at": closes,
                  "results_published_at": None, "copied_from": None, "version": 1,
                  "created_at": closes, "updated_at": closes}],
            )  # fmt: skip
            invitations = [
                {"id": str(uuid.uuid4()), "survey_id": survey_id,
                 "alliance_id": row["alliance_id"], "created_at": closes}
                for row in replica
            ]  # fmt: skip
            await session.execute(insert(Invitation), invitations)
            answering = rng.sample(invitations, respondents)
            await session.execute(
                insert(Response),
                [{"invitation_id": row["id"], "survey_id": survey_id,
                  "alliance_id": row["alliance_id"], "draft": {}, "submitted_at": closes,
                  "answers": answers_of(questions, rng), "submissions": 1, "updated_at": closes}
                 for row in answering],
            )  # fmt: skip
    async with app.state.runtime.engine.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(text("VACUUM ANALYZE"))
    return ids


async def timed(call: Callable[[], Awaitable[Any]]) -> tuple[float, float]:
    """(wall, CPU of this process) of one call, in ms."""
    wall, cpu = time.perf_counter(), time.process_time()
    await call()
    return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000


async def measure(
    app: Any, ids: dict[int, str], runs: int, seed: int
) -> dict[str, list[tuple[float, float]]]:
    """Alternating runs of each scenario, each on a random year's survey."""
    rng = random.Random(seed)
    results = app.state.results
    headers = {"Authorization": f"Bearer {create_token(secret=SECRET, role=Role.ADMIN)}"}
    transport = httpx.ASGITransport(app=app)
    figures: dict[str, list[tuple[float, float]]] = {}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://bench", headers=headers
    ) as client:

        def floor(kind: str) -> Callable[[str], Awaitable[None]]:
            async def aggregate(survey_id: str) -> None:
                async with app.state.runtime.sessions() as session:
                    (await session.execute(FLOOR_SQL[kind], {"survey_id": survey_id})).all()

            return aggregate

        async def page(survey_id: str) -> None:
            response = await client.get(f"/umfragen/{survey_id}/ergebnisse")
            response.raise_for_status()

        async def compare(_survey_id: str) -> None:
            response = await client.get(f"/surveys/compare?years={','.join(map(str, YEARS))}")
            response.raise_for_status()

        scenarios: dict[str, Callable[[str], Awaitable[Any]]] = {
            "floor: SQL aggregate of one survey (json)": floor("json"),
            "floor: SQL aggregate of one survey (jsonb)": floor("jsonb"),
            "SurveyResults.of, one survey": lambda sid: results.of(sid, ResultsFilter()),
            "SurveyResults.of, one Land (NW)": lambda sid: results.of(
                sid, ResultsFilter(state="NW")
            ),
            "results page (HTML, 40 charts)": page,
            "year over year, 10 years (JSON)": compare,
        }  # fmt: skip
        for warm in range(2):  # warm caches and the pool
            for call in scenarios.values():
                await call(ids[YEARS[warm]])
        for _ in range(runs):
            for name, call in scenarios.items():
                survey_id = ids[rng.choice(YEARS)]
                figures.setdefault(name, []).append(await timed(partial(call, survey_id)))
    return figures


async def run(args: argparse.Namespace) -> None:
    with postgres_server() as postgres, postgres.database("bench_surveys") as database_url:
        settings = SurveySettings(
            database_url=database_url, kafka_bootstrap_servers="127.0.0.1:1", environment="test",
            jwt_secret=SECRET, log_json=False, log_level="WARNING", scheduler_seconds=3600.0,
        )  # fmt: skip
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            started = time.perf_counter()
            ids = await load(
                app, alliances=args.alliances, respondents=args.respondents, seed=args.seed
            )
            loaded = time.perf_counter() - started
            async with app.state.runtime.sessions() as session:
                version = (await session.execute(text("SHOW server_version"))).scalar_one()
            print(
                f"cores: {os.cpu_count()} (load average {os.getloadavg()[0]:.1f}); PostgreSQL "
                f"{version} ({postgres.how}); Python {sys.version.split()[0]}\n"
                f"data: {len(YEARS)} surveys x 50 questions, {args.alliances} invited and "
                f"{args.respondents} respondents a year ({len(YEARS) * args.respondents:,} "
                f"responses), loaded and VACUUM ANALYZEd in {loaded:.1f} s; {args.runs} runs each"
            )
            figures = await measure(app, ids, args.runs, args.seed)
    print(f"\n{'scenario':44s} {'p50 wall':>9s} {'p90 wall':>9s} {'p50 CPU (app)':>14s}")
    medians = {}
    for name, values in figures.items():
        walls = sorted(wall for wall, _ in values)
        medians[name] = statistics.median(walls)
        cpu = statistics.median(c for _, c in values)
        p90 = walls[int(len(walls) * 0.9) - 1]
        print(f"{name:44s} {medians[name]:7.1f}ms {p90:7.1f}ms {cpu:12.1f}ms")
    floor = min(value for name, value in medians.items() if name.startswith("floor"))
    ratio = medians["SurveyResults.of, one survey"] / floor
    print(f"\nload average after the runs: {os.getloadavg()[0]:.1f}")
    print(f"FIGURE surveys.results.ratio_to_floor {ratio:.2f}")
    print(f"FIGURE surveys.results.page_ms {medians['results page (HTML, 40 charts)']:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alliances", type=int, default=300)
    parser.add_argument("--respondents", type=int, default=240)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=20261202)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
