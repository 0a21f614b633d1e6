"""The public summary: only after an admin published a closed survey's results (with a
`results published` event through the outbox), without free text, without slices finer
than a Land, and with small slices suppressed, in JSON and on the page."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from lobu.shared.contracts.surveys import INVITATION_ISSUED, SURVEY_RESULTS_PUBLISHED
from lobu.shared.contracts.vocabulary import STATES
from tests.surveys.conftest import ADMIN, START, link_token, outbox
from tests.surveys.test_surveys_results_pages import (  # the module's demo app
    AWARD,
    NOTES,
    DemoApp,
    demo_app,  # noqa: F401
    text_of,
)

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

SECRET = "Vertraulich: unser Kassenwart hört auf"
NOBODY: dict[str, str] = {}


async def _closed_survey_with_free_text(demo_app: DemoApp) -> str:  # noqa: F811
    """A copy of 2024, answered by six alliances (each with free text), closed."""
    client = demo_app.client
    copy = await client.post(
        f"/surveys/{demo_app.ids[2024]}/copy",
        json={"year": 2026, "closes_at": (START + timedelta(days=30)).isoformat()},
        headers=ADMIN,
    )
    survey_id = str(copy.json()["id"])
    assert (await client.post(f"/surveys/{survey_id}/open", headers=ADMIN)).status_code == 200
    issued = [m for m in await outbox(demo_app.app, INVITATION_ISSUED)]
    mine = [m for m in issued if m.data["survey_id"] == survey_id][:6]
    for number, message in enumerate(mine):
        answers = {"zukunftsthemen": ["pflege"], "social-media": "kanal",
                   "top-prioritaet": "sichtbarkeit", "partner-anzahl": 900 + number,
                   "anmerkungen": f"{SECRET} ({number})"}  # fmt: skip
        put = await client.put(
            f"/answers/{link_token(message)}", json={"answers": answers, "submit": True}
        )
        assert put.status_code == 200, put.text
    assert (await client.post(f"/surveys/{survey_id}/close", headers=ADMIN)).status_code == 200
    return survey_id


async def test_results_are_public_only_once_published_and_the_event_goes_through_the_outbox(
    demo_app: DemoApp,  # noqa: F811
) -> None:
    survey_id = await _closed_survey_with_free_text(demo_app)
    admin = (await demo_app.get(f"/surveys/{survey_id}/results")).json()
    assert SECRET in json.dumps(admin, ensure_ascii=False)  # admins read the free text

    assert (await demo_app.get(f"/surveys/{survey_id}/summary", headers=NOBODY)).status_code == 404
    assert (await demo_app.get(f"/ergebnisse/{survey_id}", headers=NOBODY)).status_code == 404
    published = await demo_app.client.post(f"/surveys/{survey_id}/results/publish", headers=ADMIN)
    assert published.status_code == 200, published.text
    events = [
        m for m in await outbox(demo_app.app, SURVEY_RESULTS_PUBLISHED)
        if m.data["survey_id"] == survey_id
    ]  # fmt: skip
    assert len(events) == 1
    assert events[0].data["respondents"] == 6
    again = await demo_app.client.post(f"/surveys/{survey_id}/results/publish", headers=ADMIN)
    assert again.status_code == 200
    assert len([m for m in await outbox(demo_app.app, SURVEY_RESULTS_PUBLISHED)
                if m.data["survey_id"] == survey_id]) == 1  # fmt: skip

    summary = await demo_app.get(f"/surveys/{survey_id}/summary", headers=NOBODY)
    assert summary.status_code == 200
    body = summary.json()
    assert body["respondents"] == 6
    assert body["questions"]["social-media"]["options"]["kanal"]["share"] == 1.0
    assert "anmerkungen" not in body["questions"]
    numbers = body["questions"]["partner-anzahl"]
    assert numbers["median"] == 902.5
    assert "min" not in numbers
    assert "max" not in numbers  # one alliance's answer each
    page = await demo_app.get(f"/ergebnisse/{survey_id}", headers=NOBODY)
    shown = text_of(page.text.split("<main", 1)[1])  # the page's text, without its style
    assert "Median 902,5" in shown
    for text in (summary.text, shown):
        assert SECRET not in text
        assert "900" not in text  # the smallest answer (one alliance's) is not shown
        assert "905" not in text  # nor the largest
    assert "Kleinster Wert" not in shown


async def test_the_public_summary_leaks_no_free_text_and_no_slice_finer_than_a_land(
    demo_app: DemoApp,  # noqa: F811
) -> None:
    survey_id = demo_app.ids[2023]  # the demo surveys are published history
    whole = (await demo_app.get(f"/surveys/{survey_id}/summary", headers=NOBODY)).json()
    assert (whole["state"], whole["respondents"], whole["suppressed"]) == (None, 230, False)
    for finer in (f"topic=kinderarmut&award={AWARD}", "topic=kinderarmut", f"award={AWARD}"):
        sliced = await demo_app.get(f"/surveys/{survey_id}/summary?{finer}", headers=NOBODY)
        assert sliced.json() == whole, finer  # no finer slice: the parameters have no effect
    bremen = (await demo_app.get(f"/surveys/{survey_id}/summary?state=HB", headers=NOBODY)).json()
    assert bremen["suppressed"] is True
    assert bremen["respondents"] is None
    assert bremen["questions"] is None
    for state in [None, *STATES]:
        query = f"?state={state}" if state else ""
        as_json = await demo_app.get(f"/surveys/{survey_id}/summary{query}", headers=NOBODY)
        page = await demo_app.get(f"/ergebnisse/{survey_id}{query}", headers=NOBODY)
        assert as_json.status_code == page.status_code == 200
        data = as_json.json()
        assert "anmerkungen" not in (data["questions"] or {})
        for note in NOTES:
            assert note not in as_json.text, state
            assert note not in page.text, state
        if data["suppressed"]:
            assert "Ergebnisse unterdrückt" in text_of(page.text)
            assert "<svg" not in page.text
        else:
            assert data["respondents"] >= data["threshold"]
    assert 'id="filter-handlungsfeld"' not in page.text  # the public page offers Länder only


async def test_the_list_of_published_results_is_public(demo_app: DemoApp) -> None:  # noqa: F811
    page = await demo_app.get("/ergebnisse", headers=NOBODY)
    assert page.status_code == 200
    for survey_id in demo_app.ids.values():
        assert f'href="/ergebnisse/{survey_id}"' in page.text
    assert "/umfragen/" not in page.text
