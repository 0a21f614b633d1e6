"""Results over the API (slices by Land, field of action and award; suppression), and
reminders only to non-responders, never twice, driven by an injected clock."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from lobu.shared.contracts.surveys import INVITATION_ISSUED, INVITATION_REMINDED
from lobu.surveys.settings import SurveySettings
from tests.surveys.conftest import ADMIN, FakeClock, Seeder, link_token, outbox, survey_body

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

AWARD = [{"award": "ausgezeichnet-in-die-zukunft", "year": 2020}]


async def _open(client: httpx.AsyncClient, app: FastAPI) -> tuple[str, dict[str, str]]:
    survey = (await client.post("/surveys", json=survey_body(), headers=ADMIN)).json()
    await client.post(f"/surveys/{survey['id']}/open", headers=ADMIN)
    tokens = {
        str(m.data["alliance_id"]): link_token(m) for m in await outbox(app, INVITATION_ISSUED)
    }
    return survey["id"], tokens


async def _submit(client: httpx.AsyncClient, token: str, themen: list[str]) -> None:
    response = await client.put(
        f"/answers/{token}",
        json={"answers": {"themen": themen, "social-media": "ja"}, "submit": True},
    )
    assert response.status_code == 200, response.text


async def test_results_count_shares_of_respondents_and_suppress_small_slices(
    client: httpx.AsyncClient,
    surveys_app: FastAPI,
    seeder: Seeder,
    surveys_settings: SurveySettings,
) -> None:
    assert surveys_settings.suppression_threshold == 5
    in_nw = [await seeder.alliance(state="NW", topics=["kinderarmut"]) for _ in range(6)]
    in_by = [await seeder.alliance(state="BY", awards=AWARD) for _ in range(3)]
    survey_id, tokens = await _open(client, surveys_app)
    for alliance_id in in_nw[:5]:
        await _submit(client, tokens[alliance_id], ["kinderarmut", "vereinbarkeit"])
    await _submit(client, tokens[in_nw[5]], ["kinderarmut"])
    for alliance_id in in_by:
        await _submit(client, tokens[alliance_id], ["migration"])

    whole = (await client.get(f"/surveys/{survey_id}/results", headers=ADMIN)).json()
    assert (whole["invited"], whole["respondents"], whole["suppressed"]) == (9, 9, False)
    assert whole["response_rate"] == 1.0
    options = whole["questions"]["themen"]["options"]
    assert options["kinderarmut"] == {"count": 6, "share": round(6 / 9, 4)}
    assert options["migration"] == {"count": 3, "share": round(3 / 9, 4)}

    nw = (await client.get(f"/surveys/{survey_id}/results?state=NW", headers=ADMIN)).json()
    assert nw["respondents"] == 6
    assert nw["questions"]["themen"]["options"]["vereinbarkeit"] == {"count": 5, "share": 0.8333}
    by_topic = await client.get(f"/surveys/{survey_id}/results?topic=kinderarmut", headers=ADMIN)
    assert by_topic.json()["respondents"] == 6

    for query in ("state=BY", "award=ausgezeichnet-in-die-zukunft", "state=HH"):
        small = (await client.get(f"/surveys/{survey_id}/results?{query}", headers=ADMIN)).json()
        assert small["suppressed"] is True, query
        assert small["respondents"] is None
        assert small["questions"] is None
        assert "count" not in str(small)
    bad = await client.get(f"/surveys/{survey_id}/results?state=XX", headers=ADMIN)
    assert bad.status_code == 422


async def test_reminders_go_only_to_non_responders_and_never_twice(
    client: httpx.AsyncClient, surveys_app: FastAPI, seeder: Seeder, clock: FakeClock
) -> None:
    answered, silent, also_silent = [await seeder.alliance() for _ in range(3)]
    survey_id, tokens = await _open(client, surveys_app)  # closes 30 days after START
    await _submit(client, tokens[answered], ["migration"])
    scheduler = surveys_app.state.scheduler

    await scheduler.tick()
    assert await outbox(surveys_app, INVITATION_REMINDED) == []
    clock.advance(days=16)  # 14 days before closing
    await scheduler.tick()
    await scheduler.tick()  # a second round sends nothing again
    first = await outbox(surveys_app, INVITATION_REMINDED)
    assert sorted(m.data["alliance_id"] for m in first) == sorted([silent, also_silent])
    assert {m.data["days_before"] for m in first} == {14}

    # A reminder's own link works; it is not the invitation's.
    reminder_token = link_token(first[0])
    assert reminder_token not in tokens.values()
    await _submit(client, reminder_token, ["vereinbarkeit"])

    clock.advance(days=11)  # 3 days before closing
    await scheduler.tick()
    second = (await outbox(surveys_app, INVITATION_REMINDED))[len(first) :]
    still_silent = ({silent, also_silent} - {first[0].data["alliance_id"]}).pop()
    assert [(m.data["alliance_id"], m.data["days_before"]) for m in second] == [(still_silent, 3)]
    clock.advance(days=3)
    await scheduler.tick()
    assert len(await outbox(surveys_app, INVITATION_REMINDED)) == len(first) + 1
    assert (await client.get(f"/surveys/{survey_id}", headers=ADMIN)).json()["state"] == "closed"
