"""Year over year with the demo data: the published changes 2023 → 2024 appear as such
(social-media channel 9 % → 28 %, decided against 3 % → 8 %, visibility as top priority
20 % → over 40 %), in JSON and on the page; options only one year offered are null and
flagged, never 0 %; only questions the years share are compared."""

from __future__ import annotations

from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest

from lobu.shared.contracts.surveys import INVITATION_ISSUED
from lobu.surveys.demo import QUESTIONS
from tests.surveys.conftest import ADMIN, START, link_token, outbox
from tests.surveys.test_surveys_results_pages import (  # the module's demo app
    DemoApp,
    demo_app,  # noqa: F401
    text_of,
)

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

PUBLISHED_CHANGES = [  # (question, option, 2023 %, 2024 %): the Servicebüro's figures
    ("social-media", "kanal", 9, 28),
    ("social-media", "dagegen", 3, 8),
]


def percent(share: float) -> int:
    """A share as the whole per cent a publication prints (half up: 27.5 → 28)."""
    return int((Decimal(str(share)) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


async def test_compare_gives_each_years_share_of_respondents_for_the_shared_questions(
    demo_app: DemoApp,  # noqa: F811
) -> None:
    response = await demo_app.get("/surveys/compare?years=2023,2024")

    assert response.status_code == 200, response.text
    body = response.json()
    questions = body["questions"]
    choice_keys = [q["key"] for q in QUESTIONS if q["type"] in ("single", "multiple", "likert")]
    assert list(questions) == choice_keys  # numbers and free text are not compared
    for key, code, first, second in PUBLISHED_CHANGES:
        shares = questions[key]["options"][code]
        assert (percent(shares["2023"]), percent(shares["2024"])) == (first, second)
    visibility = questions["top-prioritaet"]["options"]["sichtbarkeit"]
    assert percent(visibility["2023"]) == 20
    assert visibility["2024"] > 0.40
    assert questions["social-media"]["options"]["kanal"] == {"2023": 0.0913, "2024": 0.275}
    assert questions["zukunftsthemen"]["missing"] == {}
    assert body["surveys"]["2023"]["respondents"] == 230
    assert body["surveys"]["2024"]["respondents"] == 80


async def test_the_comparison_page_shows_the_published_changes(demo_app: DemoApp) -> None:  # noqa: F811
    page = await demo_app.get("/umfragen/vergleich?years=2023,2024")

    assert page.status_code == 200, page.text
    assert "<script" not in page.text
    text = text_of(page.text)
    assert "Ja, wir haben einen eigenen Kanal 9 % 28 % +18,4 Pkt." in text
    assert "Nein, wir haben uns bewusst dagegen entschieden 3 % 8 % +4,5 Pkt." in text
    assert "Sichtbarkeit 20 % 41 % +21,3 Pkt." in text
    assert 'aria-labelledby="vergleich-social-media-titel vergleich-social-media-beschreibung"' in (
        page.text
    )
    assert "2023: 9 %, 2024: 28 %" in text  # the chart's description reads out every bar


async def _survey_of_2025(demo_app: DemoApp) -> str:  # noqa: F811
    """A copy of 2024 with an option added and one dropped, opened, answered by 5, closed."""
    client = demo_app.client
    copy = await client.post(
        f"/surveys/{demo_app.ids[2024]}/copy",
        json={"year": 2025, "closes_at": (START + timedelta(days=30)).isoformat()},
        headers=ADMIN,
    )
    assert copy.status_code == 201, copy.text
    draft = copy.json()
    questions: list[dict[str, Any]] = draft["questions"]
    social = next(q for q in questions if q["key"] == "social-media")
    social["options"] = [o for o in social["options"] if o["code"] != "dagegen"] + [
        {"code": "geplant", "label": "Nein, aber geplant"}
    ]
    questions = [q for q in questions if q["key"] != "massnahmen"]
    edited = await client.patch(
        f"/surveys/{draft['id']}", json={"questions": questions},
        headers={**ADMIN, "If-Match": f'"{draft["version"]}"'},
    )  # fmt: skip
    assert edited.status_code == 200, edited.text
    assert (await client.post(f"/surveys/{draft['id']}/open", headers=ADMIN)).status_code == 200
    messages = [
        m
        for m in await outbox(demo_app.app, INVITATION_ISSUED)
        if m.data["survey_id"] == draft["id"]
    ]
    answers = ["kanal", "geplant", "geplant", "noch-nicht", "kanal", "geplant"]
    for message, choice in zip(messages, answers, strict=False):
        put = await client.put(
            f"/answers/{link_token(message)}",
            json={"answers": {"zukunftsthemen": ["kinderarmut"], "social-media": choice,
                              "top-prioritaet": "vernetzung"}, "submit": True},
        )  # fmt: skip
        assert put.status_code == 200, put.text
    assert (await client.post(f"/surveys/{draft['id']}/close", headers=ADMIN)).status_code == 200
    return str(draft["id"])


async def test_options_of_one_year_only_are_null_and_flagged_and_dropped_questions_left_out(
    demo_app: DemoApp,  # noqa: F811
) -> None:
    await _survey_of_2025(demo_app)

    body = (await demo_app.get("/surveys/compare?years=2024,2025")).json()
    social = body["questions"]["social-media"]
    assert social["options"]["geplant"] == {"2024": None, "2025": 0.5}
    assert social["options"]["dagegen"] == {"2024": 0.075, "2025": None}
    assert social["options"]["kanal"] == {"2024": 0.275, "2025": round(2 / 6, 4)}
    assert social["missing"] == {"geplant": ["2024"], "dagegen": ["2025"]}
    assert social["labels"]["geplant"] == "Nein, aber geplant"
    assert "massnahmen" not in body["questions"]  # 2025 did not ask it

    three = (await demo_app.get("/surveys/compare?years=2023,2024,2025")).json()
    assert three["questions"]["social-media"]["options"]["kanal"] == {
        "2023": 0.0913, "2024": 0.275, "2025": 0.3333,
    }  # fmt: skip

    text = text_of((await demo_app.get("/umfragen/vergleich?years=2024,2025")).text)
    assert "Nein, aber geplant nicht gefragt 50 % – nur 2025 gefragt" in text
    assert (
        "Nein, wir haben uns bewusst dagegen entschieden 8 % nicht gefragt – nur 2024 gefragt"
        in text
    )

    # A slice that is too small in one year shows no share for it, never a number.
    small = (await demo_app.get("/surveys/compare?years=2024,2025&state=HB")).json()
    assert small["surveys"]["2024"]["suppressed"] is True
    assert small["questions"]["social-media"]["options"]["kanal"]["2024"] is None


@pytest.mark.parametrize(
    ("years", "status"),
    [("2023", 422), ("2023,abc", 422), ("2023,٢٠٢٤", 422), ("2023,2019", 404), ("", 422)],
)
async def test_compare_refuses_what_names_no_two_years_with_surveys(
    demo_app: DemoApp, years: str, status: int,  # noqa: F811
) -> None:  # fmt: skip
    assert (await demo_app.get(f"/surveys/compare?years={years}")).status_code == status


async def test_a_draft_does_not_stand_for_its_year(demo_app: DemoApp) -> None:  # noqa: F811
    copy = await demo_app.client.post(
        f"/surveys/{demo_app.ids[2024]}/copy",
        json={"year": 2028, "closes_at": (START + timedelta(days=30)).isoformat()},
        headers=ADMIN,
    )
    assert copy.status_code == 201
    response = await demo_app.get("/surveys/compare?years=2024,2028")
    assert response.status_code == 404
    assert "2028" in response.json()["detail"]
