"""Survey management around the results: last year's survey copied into a new draft in
one call, the draft edited (refused once open), the response rate by Land while it runs,
closed by hand."""

from __future__ import annotations

from datetime import timedelta

import pytest

from lobu.shared.contracts.surveys import INVITATION_ISSUED
from tests.surveys.conftest import ADMIN, START, link_token, outbox
from tests.surveys.test_surveys_results_pages import (  # the module's demo app
    DemoApp,
    demo_app,  # noqa: F401
    demo_state,
    text_of,
)

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


async def test_last_years_survey_becomes_next_years_draft_is_edited_run_and_closed(
    demo_app: DemoApp,  # noqa: F811
) -> None:
    client = demo_app.client
    last_year = (await demo_app.get(f"/surveys/{demo_app.ids[2024]}")).json()
    closes = (START + timedelta(days=30)).isoformat()
    copy = await client.post(
        f"/surveys/{last_year['id']}/copy", json={"year": 2025, "closes_at": closes},
        headers=ADMIN,
    )  # fmt: skip
    assert copy.status_code == 201, copy.text
    draft = copy.json()
    assert (draft["state"], draft["year"], draft["copied_from"]) == ("draft", 2025, last_year["id"])
    assert draft["questions"] == last_year["questions"]  # keys and codes: year over year works
    assert draft["invited"] == 0

    edited = await client.patch(
        f"/surveys/{draft['id']}", json={"title": "Bündnisumfrage 2025"},
        headers={**ADMIN, "If-Match": f'"{draft["version"]}"'},
    )  # fmt: skip
    assert edited.status_code == 200, edited.text
    assert edited.json()["title"] == "Bündnisumfrage 2025"
    stale = await client.patch(
        f"/surveys/{draft['id']}", json={"title": "Zu spät"},
        headers={**ADMIN, "If-Match": f'"{draft["version"]}"'},
    )  # fmt: skip
    assert stale.status_code == 412

    opened = await client.post(f"/surveys/{draft['id']}/open", headers=ADMIN)
    assert opened.json()["state"] == "open"
    frozen = await client.patch(
        f"/surveys/{draft['id']}", json={"questions": draft["questions"][:2]},
        headers={**ADMIN, "If-Match": opened.headers["etag"]},
    )  # fmt: skip
    assert frozen.status_code == 409

    # While it runs: the response rate by Land, in JSON and on the results page.
    issued = [m for m in await outbox(demo_app.app, INVITATION_ISSUED)
              if m.data["survey_id"] == draft["id"]]  # fmt: skip
    assert len(issued) == 340
    answering = [m for m in issued if m.data["alliance_id"] in ("demo-000", "demo-001", "demo-005")]
    for message in answering:
        put = await client.put(
            f"/answers/{link_token(message)}",
            json={"answers": {"zukunftsthemen": ["pflege"], "social-media": "kanal",
                              "top-prioritaet": "projekte"}, "submit": True},
        )  # fmt: skip
        assert put.status_code == 200, put.text
    drafting = next(m for m in issued if m.data["alliance_id"] == "demo-002")  # Bremen too
    saved = await client.put(
        f"/answers/{link_token(drafting)}",
        json={"answers": {"social-media": "kanal"}, "submit": False},
    )
    assert saved.status_code == 200, saved.text  # a draft is not a response
    rates = (await demo_app.get(f"/surveys/{draft['id']}/response-rates")).json()
    assert (rates["survey_state"], rates["invited"], rates["respondents"]) == ("open", 340, 3)
    by_state = {row["state"]: row for row in rates["by_state"]}
    assert (by_state["HB"]["invited"], by_state["HB"]["respondents"]) == (3, 2)
    assert by_state["HB"]["response_rate"] == 0.6667
    assert by_state[demo_state(5)]["respondents"] == 1
    page = text_of((await demo_app.get(f"/umfragen/{draft['id']}/ergebnisse")).text)
    assert "Status: läuft" in page
    assert "Bremen 3 2 67 %" in page
    assert "Ergebnisse unterdrückt" in page  # 3 respondents so far: below the threshold

    closed = await client.post(f"/surveys/{draft['id']}/close", headers=ADMIN)
    assert closed.json()["state"] == "closed"
    late = await client.put(
        f"/answers/{link_token(issued[-1])}", json={"answers": {}, "submit": False}
    )
    assert late.status_code == 410
