"""Answering by personal link: drafts, submit and replace, 410 after closing, token
misuse, the events (no answers on the public topic, the link only on the internal one)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI

from lobu.shared.auth import Role
from lobu.shared.contracts.surveys import (
    INVITATION_ANSWERED,
    INVITATION_ISSUED,
    RESPONSE_SUBMITTED,
)
from lobu.shared.topics import SURVEYS_INVITATION
from lobu.surveys.domain import hash_token
from lobu.surveys.models import InvitationToken
from tests.surveys.conftest import (
    ADMIN,
    FakeClock,
    Seeder,
    bearer,
    link_token,
    outbox,
    survey_body,
)

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

GOOD = {"themen": ["kinderarmut", "vereinbarkeit"], "social-media": "ja", "partner": 12}


async def open_survey(
    client: httpx.AsyncClient, app: FastAPI, seeder: Seeder, alliances: int = 2
) -> tuple[str, dict[str, str]]:
    """An open survey and the token of each invited alliance."""
    for _ in range(alliances):
        await seeder.alliance()
    survey = (await client.post("/surveys", json=survey_body(), headers=ADMIN)).json()
    await client.post(f"/surveys/{survey['id']}/open", headers=ADMIN)
    tokens = {
        str(m.data["alliance_id"]): link_token(m) for m in await outbox(app, INVITATION_ISSUED)
    }
    return survey["id"], tokens


async def test_a_draft_is_saved_then_submitted_then_replaced(
    client: httpx.AsyncClient, surveys_app: FastAPI, seeder: Seeder
) -> None:
    survey_id, tokens = await open_survey(client, surveys_app, seeder)
    alliance_id, token = next(iter(tokens.items()))
    form = (await client.get(f"/answers/{token}")).json()
    assert (form["state"], form["title"], len(form["questions"])) == (
        "draft", "Bündnisumfrage 2026", 5,
    )  # fmt: skip

    draft = await client.put(f"/answers/{token}", json={"answers": {"partner": 3}})
    assert draft.status_code == 200, draft.text
    assert (draft.json()["state"], draft.json()["draft"]) == ("draft", {"partner": 3})
    assert await outbox(surveys_app, RESPONSE_SUBMITTED) == []
    assert (await client.get(f"/answers/{token}")).json()["draft"] == {"partner": 3}

    submitted = await client.put(f"/answers/{token}", json={"answers": GOOD, "submit": True})
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["state"] == "submitted"
    replaced = await client.put(
        f"/answers/{token}", json={"answers": {**GOOD, "partner": 13}, "submit": True}
    )
    assert replaced.json()["answers"]["partner"] == 13
    survey = (await client.get(f"/surveys/{survey_id}", headers=ADMIN)).json()
    assert survey["respondents"] == 1

    public = await outbox(surveys_app, RESPONSE_SUBMITTED)
    assert [(m.data["alliance_id"], m.data["replaced"]) for m in public] == [
        (alliance_id, False), (alliance_id, True),
    ]  # fmt: skip
    assert all(set(m.data) == {"survey_id", "alliance_id", "submitted_at", "replaced"}
               for m in public)  # fmt: skip
    receipts = await outbox(surveys_app, INVITATION_ANSWERED)
    assert [m.topic for m in receipts] == [SURVEYS_INVITATION] * 2
    assert receipts[0].data["link"].endswith(f"/umfrage/{token}")


async def test_a_submission_missing_required_answers_is_422_with_a_message_per_field(
    client: httpx.AsyncClient, surveys_app: FastAPI, seeder: Seeder
) -> None:
    _, tokens = await open_survey(client, surveys_app, seeder, alliances=1)
    (token,) = tokens.values()
    response = await client.put(
        f"/answers/{token}", json={"answers": {"social-media": "nein", "partner": 2.5},
                                   "submit": True},
    )  # fmt: skip
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    fields = {e["field"]: e["message"] for e in response.json()["errors"]}
    assert fields == {
        "themen": "Bitte beantworten Sie diese Frage.",
        "kanal-warum-nicht": "Bitte beantworten Sie diese Frage.",
        "partner": "Bitte geben Sie eine ganze Zahl ein.",
    }
    assert (await client.get(f"/answers/{token}")).json()["draft"] == {}


async def test_after_closing_the_link_answers_410(
    client: httpx.AsyncClient, surveys_app: FastAPI, seeder: Seeder, clock: FakeClock
) -> None:
    survey_id, tokens = await open_survey(client, surveys_app, seeder, alliances=1)
    (token,) = tokens.values()
    await client.post(f"/surveys/{survey_id}/close", headers=ADMIN)
    for method, body in (("GET", None), ("PUT", {"answers": GOOD, "submit": True})):
        response = await client.request(method, f"/answers/{token}", json=body)
        assert response.status_code == 410, method
        assert response.json()["code"] == "survey_closed"


async def test_past_closes_at_the_link_is_closed_before_the_scheduler_closes_the_survey(
    client: httpx.AsyncClient, surveys_app: FastAPI, seeder: Seeder, clock: FakeClock
) -> None:
    _, tokens = await open_survey(client, surveys_app, seeder, alliances=1)
    (token,) = tokens.values()
    clock.advance(days=30)
    response = await client.put(f"/answers/{token}", json={"answers": GOOD, "submit": True})
    assert response.status_code == 410


async def test_token_misuse_wrong_made_up_and_another_alliances(
    client: httpx.AsyncClient, surveys_app: FastAPI, seeder: Seeder
) -> None:
    _, tokens = await open_survey(client, surveys_app, seeder, alliances=2)
    (first_alliance, first), (second_alliance, _second) = tokens.items()
    flipped = first[:-1] + ("A" if first[-1] != "A" else "B")
    for token in (flipped, "x", "not-a-token-at-all", hash_token(first)):
        response = await client.put(f"/answers/{token}", json={"answers": GOOD})
        assert response.status_code == 404, token
        assert response.json()["code"] == "invitation_not_found"
    # A coordinator of another alliance holding this link is refused.
    other = bearer(Role.ALLIANCE, alliance_id=second_alliance)
    refused = await client.put(f"/answers/{first}", json={"answers": GOOD}, headers=other)
    assert refused.status_code == 403
    own = bearer(Role.ALLIANCE, alliance_id=first_alliance)
    assert (await client.put(f"/answers/{first}", json={"answers": GOOD}, headers=own)).is_success


async def test_the_token_is_stored_only_as_its_hash(
    client: httpx.AsyncClient, surveys_app: FastAPI, seeder: Seeder
) -> None:
    _, tokens = await open_survey(client, surveys_app, seeder, alliances=1)
    (token,) = tokens.values()
    async with surveys_app.state.runtime.sessions() as session:
        stored = await session.get(InvitationToken, hash_token(token))
    assert stored is not None
    assert stored.purpose == "invitation"
    everything = " ".join(
        str(m.data) for m in await outbox(surveys_app) if m.topic != SURVEYS_INVITATION
    )
    assert token not in everything


@pytest.fixture
def lobu_records() -> Iterator[list[logging.LogRecord]]:
    """Every record of the "lobu" loggers from before the app starts (a handler of its own:
    configure_logging replaces the root handlers, and with them pytest's capture)."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.DEBUG)
    handler.emit = records.append  # type: ignore[method-assign]
    lobu_logger = logging.getLogger("lobu")
    level, disabled = lobu_logger.level, lobu_logger.disabled
    lobu_logger.addHandler(handler)
    lobu_logger.setLevel(logging.DEBUG)
    lobu_logger.disabled = False
    yield records
    lobu_logger.removeHandler(handler)
    lobu_logger.setLevel(level)
    lobu_logger.disabled = disabled


async def test_the_token_never_appears_in_the_services_logs(
    lobu_records: list[logging.LogRecord],
    client: httpx.AsyncClient,
    surveys_app: FastAPI,
    seeder: Seeder,
) -> None:
    _, tokens = await open_survey(client, surveys_app, seeder, alliances=1)
    (token,) = tokens.values()
    await client.put(f"/answers/{token}", json={"answers": GOOD, "submit": True})
    await client.put(f"/answers/{token}", json={"answers": {"partner": "x"}})
    await client.get(f"/umfrage/{token}")
    ours = lobu_records
    assert ours, "the service logged nothing at all: the test would prove nothing"
    assert all(token not in r.getMessage() for r in ours)
