"""The admin results page over HTTP: the demo data as charts (inline SVG with a text
alternative) and tables, the JSON filters as GET parameters, suppressed slices shown
as such, the response rate by Land, no JavaScript, a print stylesheet.

`demo_app` (imported by the other test_surveys_results_* modules) is the app on SQLite
with the demo surveys loaded once per module over a replica of 400 alliances spread
over the Länder, Bremen with only three of them (so its slices are suppressed).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from lobu.shared import transaction
from lobu.shared.auth import Role
from lobu.shared.contracts.vocabulary import STATES
from lobu.surveys.main import create_app
from lobu.surveys.models import AllianceReplica
from tests.surveys.conftest import ADMIN, FakeClock, bearer, make_settings

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

OTHER_STATES = [code for code in STATES if code != "HB"]
AWARD = "ausgezeichnet-in-die-zukunft"
NOTES = ["Mehr Austausch zwischen den Bündnissen wäre hilfreich.",
         "Die Vorlagen für Pressearbeit nutzen wir gern.", "Weiter so!"]  # fmt: skip


def demo_state(index: int) -> str:
    """The Land of demo alliance `index`: Bremen for the first three, then the others in turn."""
    return "HB" if index < 3 else OTHER_STATES[index % len(OTHER_STATES)]


async def load_demo(app: FastAPI) -> dict[int, str]:
    """The 400 demo alliances in the replica (340 active), then the demo surveys; ids by year."""
    async with transaction(app.state.runtime.sessions) as session:
        for index in range(400):
            session.add(
                AllianceReplica(
                    alliance_id=f"demo-{index:03d}",
                    slug=f"demo-{index:03d}",
                    name=f"Lokales Bündnis Demo {index:03d}",
                    state=demo_state(index),
                    status="active" if index < 340 else "dormant",
                    topics=["kinderarmut"] if index % 2 else ["vereinbarkeit"],
                    awards=[AWARD] if index % 10 == 0 else [],
                    version=1,
                )
            )
    assert await app.state.demo.load_when_ready() is True
    surveys = (await app.state.catalogue.page(cursor=None, limit=10)).items
    return {survey.year: survey.id for survey in surveys}


class DemoApp:
    """The running app with the demo data, a client, and the demo survey ids by year."""

    def __init__(self, app: FastAPI, client: httpx.AsyncClient, ids: dict[int, str]) -> None:
        self.app, self.client, self.ids = app, client, ids

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        """GET as an admin unless headers are given."""
        kwargs.setdefault("headers", ADMIN)
        return await self.client.get(path, **kwargs)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def demo_app(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[DemoApp]:
    """The surveys app with the demo data, once per module."""
    folder = tmp_path_factory.mktemp("surveys-results")
    app = create_app(make_settings(f"sqlite+aiosqlite:///{folder}/s.db"), clock=FakeClock())
    async with app.router.lifespan_context(app):
        ids = await load_demo(app)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://surveys") as client:
            yield DemoApp(app, client, ids)


def text_of(html: str) -> str:
    """The page's text without tags, whitespace collapsed (NBSP as a space)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html).replace("\u00a0", " "))


async def test_the_results_page_shows_every_choice_question_as_an_svg_chart_with_its_data(
    demo_app: DemoApp,
) -> None:
    page = await demo_app.get(f"/umfragen/{demo_app.ids[2023]}/ergebnisse")

    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    assert '<html lang="de">' in html
    assert "<script" not in html  # works without JavaScript
    charts = re.findall(r"<svg [^>]*role=\"img\"[^>]*>", html)
    assert len(charts) == 5  # the five choice questions of the demo survey
    for key in ("zukunftsthemen", "massnahmen", "social-media", "top-prioritaet"):
        assert f'aria-labelledby="diagramm-{key}-titel diagramm-{key}-beschreibung"' in html
        assert f'<title id="diagramm-{key}-titel">' in html
    description = re.search(r'<desc id="diagramm-social-media-beschreibung">([^<]+)</desc>', html)
    assert description is not None
    assert "Ja, wir haben einen eigenen Kanal: 9\u00a0%" in description.group(1)
    text = text_of(html)
    assert "Eingeladen: 340 Geantwortet: 230 Rücklaufquote: 68 %" in text
    assert "Daten zum Diagramm: Nutzt Ihr Bündnis einen Social-Media-Kanal?" in text
    assert "Ja, wir haben einen eigenen Kanal 21 9 %" in text  # the table: count and share
    assert "Vereinbarkeit von Familie und Beruf 145 63 %" in text
    assert "Mehrfachnennungen möglich" in text
    assert "Median" in text
    assert "Kleinster Wert" in text  # numbers, with extremes for admins
    assert NOTES[0] in text  # free text is listed for admins
    assert "@media print" in html  # the printable page
    assert page.headers["cache-control"] == "no-store"


async def test_the_filters_are_get_parameters_and_small_slices_show_no_numbers(
    demo_app: DemoApp,
) -> None:
    survey_id = demo_app.ids[2023]
    json_nw = (await demo_app.get(f"/surveys/{survey_id}/results?state=NW")).json()
    page_nw = text_of((await demo_app.get(f"/umfragen/{survey_id}/ergebnisse?state=NW")).text)
    assert json_nw["suppressed"] is False
    assert "Auswahl: Nordrhein-Westfalen" in page_nw
    assert f"Geantwortet: {json_nw['respondents']} " in page_nw
    kanal = json_nw["questions"]["social-media"]["options"]["kanal"]["count"]
    assert f"Ja, wir haben einen eigenen Kanal {kanal} " in page_nw

    combined = "state=NW&topic=kinderarmut&award=" + AWARD
    page = await demo_app.get(f"/umfragen/{survey_id}/ergebnisse?{combined}")
    as_json = (await demo_app.get(f"/surveys/{survey_id}/results?{combined}")).json()
    assert as_json["suppressed"] is True
    bremen = await demo_app.get(f"/umfragen/{survey_id}/ergebnisse?state=HB")
    for html in (page.text, bremen.text):
        text = text_of(html)
        assert "Ergebnisse unterdrückt" in text
        assert "Geantwortet:" not in text
        assert "<svg" not in html
        assert "Daten zum Diagramm" not in text
    assert 'option value="HB" selected' in html  # the form keeps the chosen filter

    assert (await demo_app.get(f"/umfragen/{survey_id}/ergebnisse?state=XX")).status_code == 422


async def test_the_results_page_shows_the_response_rate_by_land(demo_app: DemoApp) -> None:
    survey_id = demo_app.ids[2024]
    rates = (await demo_app.get(f"/surveys/{survey_id}/response-rates")).json()
    assert (rates["invited"], rates["respondents"]) == (340, 80)
    bremen = next(row for row in rates["by_state"] if row["state"] == "HB")
    assert (bremen["invited"], bremen["respondents"]) == (3, 1)
    assert sum(row["invited"] for row in rates["by_state"]) == 340
    text = text_of((await demo_app.get(f"/umfragen/{survey_id}/ergebnisse")).text)
    assert "Rücklauf nach Land" in text
    assert "Bremen 3 1 33 %" in text
    assert "Insgesamt 340 80 24 %" in text


@pytest.mark.parametrize(
    "path",
    ["/surveys/compare?years=2023,2024", "/surveys/{id}/response-rates",
     "/surveys/{id}/responses.csv", "/surveys/{id}/results.csv"],
)  # fmt: skip
async def test_admin_json_views_need_an_admin_token(demo_app: DemoApp, path: str) -> None:
    """The pages (/umfragen...) send a visitor to sign in: test_surveys_pages_authorization.py."""
    address = path.format(id=demo_app.ids[2023])
    assert (await demo_app.get(address, headers={})).status_code == 401
    alliance = bearer(Role.ALLIANCE, "demo-000")
    assert (await demo_app.get(address, headers=alliance)).status_code == 403
    assert (await demo_app.get(address)).status_code == 200


async def test_the_survey_list_links_every_survey_and_the_comparison(demo_app: DemoApp) -> None:
    html = (await demo_app.get("/umfragen")).text
    for survey_id in demo_app.ids.values():
        assert f'href="/umfragen/{survey_id}/ergebnisse"' in html
    assert 'href="/umfragen/vergleich?years=2023,2024"' in html


async def test_the_results_page_links_the_comparison_with_the_year_before_when_there_is_one(
    demo_app: DemoApp,
) -> None:
    later = (await demo_app.get(f"/umfragen/{demo_app.ids[2024]}/ergebnisse")).text
    first = (await demo_app.get(f"/umfragen/{demo_app.ids[2023]}/ergebnisse")).text
    assert 'href="/umfragen/vergleich?years=2023,2024">Vergleich mit 2023</a>' in later
    assert "Vergleich mit" not in first  # there is no survey of 2022
