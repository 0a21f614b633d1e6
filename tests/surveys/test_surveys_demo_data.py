"""The demo surveys reproduce the published shares of respondents, each in its year,
once the directory's 400 demo alliances are in the replica, and send no mail."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from lobu.surveys.demo import YEARS, demo_answers
from lobu.surveys.settings import SurveySettings
from tests.surveys.conftest import ADMIN, Seeder, make_settings, outbox

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

# (year, question, option) → the published whole per cent; "over 40" as 41.
PUBLISHED = {
    (2023, "zukunftsthemen", "vereinbarkeit"): 63,
    (2023, "zukunftsthemen", "kinderarmut"): 56,
    (2023, "zukunftsthemen", "kinderbetreuung"): 51,
    (2023, "zukunftsthemen", "flucht-migration"): 45,
    (2023, "massnahmen", "kommunalpolitik"): 44,
    (2023, "massnahmen", "finanzierte-stellen"): 44,
    (2023, "massnahmen", "kooperationspartner"): 43,
    (2023, "social-media", "kanal"): 9,
    (2024, "social-media", "kanal"): 28,
    (2023, "social-media", "dagegen"): 3,
    (2024, "social-media", "dagegen"): 8,
    (2023, "top-prioritaet", "sichtbarkeit"): 20,
}


def percent(share: float) -> int:
    """A share as the whole per cent a publication prints (half up: 27.5 → 28)."""
    return int((Decimal(str(share)) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


@pytest.fixture
def surveys_settings(tmp_path: Path) -> SurveySettings:
    """SQLite is enough here: nothing races."""
    return make_settings(f"sqlite+aiosqlite:///{tmp_path}/demo.db", demo_data=True)


async def test_the_demo_answers_have_exactly_the_planned_counts() -> None:
    for year, table in YEARS.items():
        answer_sets = demo_answers(year)
        assert len(answer_sets) == table["respondents"]
        for key, counts in table["counts"].items():
            for code, count in counts.items():
                chosen = sum(
                    1 for a in answer_sets
                    if a.get(key) == code or (isinstance(a.get(key), list) and code in a[key])
                )  # fmt: skip
                assert chosen == count, (year, key, code)


async def test_the_demo_results_equal_the_published_shares(
    client: httpx.AsyncClient, surveys_app: FastAPI, seeder: Seeder
) -> None:
    demo = surveys_app.state.demo
    for index in range(399):
        status = "active" if index < 340 else "dormant"
        await seeder.alliance(status=status, slug=f"demo-{index:03d}")
    assert await demo.load_when_ready() is False  # one alliance still missing
    await seeder.alliance(status="dormant", slug="demo-399")
    assert await demo.load_when_ready() is True
    assert await demo.load_when_ready() is False  # once only

    surveys = (await client.get("/surveys", headers=ADMIN)).json()["items"]
    by_year = {s["year"]: s["id"] for s in surveys}
    assert sorted(by_year) == [2023, 2024]
    results = {
        year: (await client.get(f"/surveys/{sid}/results", headers=ADMIN)).json()
        for year, sid in by_year.items()
    }
    assert (results[2023]["respondents"], results[2024]["respondents"]) == (230, 80)
    assert results[2023]["invited"] == 340
    for (year, key, code), published in PUBLISHED.items():
        share = results[year]["questions"][key]["options"][code]["share"]
        assert percent(share) == published, (year, key, code, share)
    visibility_2024 = results[2024]["questions"]["top-prioritaet"]["options"]["sichtbarkeit"]
    assert visibility_2024["share"] > 0.40
    assert await outbox(surveys_app) == []  # history: no invitations, no mail
