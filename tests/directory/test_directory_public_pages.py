"""The public pages as a citizen meets them: footer links, no dissolved alliances unless
asked for, Länder by name, no "Berlin, Berlin", the exports of the current search, and
"zurück" as well as "weiter". In-process on SQLite (the claims are about the pages).
"""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio

from lobu.directory.main import create_app
from lobu.directory.settings import DirectorySettings
from lobu.shared.auth import Role
from lobu.shared.contracts.vocabulary import STATES
from tests.support.tokens import TEST_AUTH, bearer

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

IMPRINT = "https://www.example.org/impressum"
PRIVACY = "https://www.example.org/datenschutz"


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def client(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[httpx.AsyncClient]:
    """The directory with footer links configured; alliances in Goslar, Berlin and Ulm."""
    folder = tmp_path_factory.mktemp("public-pages")
    app = create_app(
        DirectorySettings(
            database_url=f"sqlite+aiosqlite:///{folder}/d.db",
            kafka_bootstrap_servers="127.0.0.1:1",
            log_json=False,
            imprint_url=IMPRINT,
            privacy_url=PRIVACY,
            **TEST_AUTH,
        )
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://directory") as http:
            for number in range(45):
                status = "dissolved" if number == 0 else "active"
                await add(http, f"Goslarer Bündnis {number:02d}", "NI", "Goslar", status=status)
            await add(http, "Bündnis Berlin-Mitte", "BE", "Berlin")
            await add(http, "Bündnis Ulm", "BW", "Ulm")  # BW after BE by code, before by name
            yield http


async def add(http: httpx.AsyncClient, name: str, state: str, city: str, **fields: str) -> None:
    body = {"name": name, "state": state, "postal_code": "10115", "city": city} | fields
    response = await http.post("/alliances", json=body, headers=bearer(Role.ADMIN))
    assert response.status_code == 201, response.text


def result_names(page: str) -> list[str]:
    return re.findall(r'<h3><a href="/buendnisse/[^"]+">([^<]+)</a></h3>', page)


def link(page: str, text: str) -> str | None:
    found = re.search(rf'<a href="([^"]+)"[^>]*>{re.escape(text)}</a>', page)
    return html.unescape(found.group(1)) if found else None


async def test_the_footer_links_impressum_and_datenschutz(client: httpx.AsyncClient) -> None:
    for url in ("/", "/buendnisse/buendnis-berlin-mitte", "/buendnisse/nirgends"):
        page = (await client.get(url)).text
        assert link(page, "Impressum") == IMPRINT, url
        assert link(page, "Datenschutz") == PRIVACY, url


async def test_dissolved_alliances_are_hidden_unless_asked_for(client: httpx.AsyncClient) -> None:
    default = (await client.get("/", params={"q": "Goslarer"})).text
    asked = (await client.get("/", params={"q": "Goslarer", "status": "dissolved"})).text

    assert "44 Bündnisse" in default
    assert "Goslarer Bündnis 00" not in default
    assert result_names(asked) == ["Goslarer Bündnis 00"]


async def test_the_land_filter_lists_the_laender_by_name(client: httpx.AsyncClient) -> None:
    page = (await client.get("/")).text
    select = page[
        page.index('<select id="land"') : page.index("</select>", page.index('id="land"'))
    ]

    labels = re.findall(r'<option value="[A-Z]{2}"[^>]*>([^<]+)</option>', select)
    assert labels == sorted(STATES.values())
    assert labels[:3] == ["Baden-Württemberg", "Bayern", "Berlin"]
    facets = page[page.index('<ul class="facets"') : page.index("</ul>", page.index("facets"))]
    assert re.findall(r">([^<>]+)</a>", facets) == ["Baden-Württemberg", "Berlin", "Niedersachsen"]


async def test_a_city_state_is_named_once(client: httpx.AsyncClient) -> None:
    results = (await client.get("/", params={"q": "Mitte"})).text
    record = (await client.get("/buendnisse/buendnis-berlin-mitte")).text

    assert "Berlin, Berlin" not in results
    assert "10115 Berlin" in results
    assert "Berlin, Berlin" not in record


async def test_the_exports_hold_exactly_the_current_search(client: httpx.AsyncClient) -> None:
    page = (await client.get("/", params={"q": "Goslarer", "land": "NI"})).text
    csv_url, geojson_url = link(page, "als Tabelle (CSV)"), link(page, "für Karten (GeoJSON)")
    assert csv_url is not None
    assert geojson_url is not None

    table = (await client.get(csv_url)).text
    features = (await client.get(geojson_url)).json()

    rows = list(csv.DictReader(io.StringIO(table.lstrip("\ufeff")), delimiter=";"))
    assert len(rows) == 44  # the dissolved one is left out here too
    assert len(features["features"]) + len(features.get("unlocated", [])) == 44


async def test_weiter_and_zurueck_walk_the_pages_both_ways(client: httpx.AsyncClient) -> None:
    first = (await client.get("/", params={"q": "Goslarer"})).text
    assert link(first, "← zurück") is None
    second_url = link(first, "weiter →")
    assert second_url is not None
    second = (await client.get(second_url)).text
    third = (await client.get(str(link(second, "weiter →")))).text
    assert link(third, "weiter →") is None

    back_to_second = (await client.get(str(link(third, "← zurück")))).text
    back_to_first = (await client.get(str(link(back_to_second, "← zurück")))).text

    pages = [result_names(first), result_names(second), result_names(third)]
    assert [len(names) for names in pages] == [20, 20, 4]
    assert [*pages[0], *pages[1], *pages[2]] == [f"Goslarer Bündnis {n:02d}" for n in range(1, 45)]
    assert result_names(back_to_second) == pages[1]
    assert result_names(back_to_first) == pages[0]
    assert link(back_to_first, "← zurück") is None
