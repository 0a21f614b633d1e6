"""The search page's map: one linked dot per result of the current page that has
coordinates, hostile names escaped, a text alternative. In-process on SQLite.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ElementTree
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio

from lobu.directory.main import create_app
from lobu.directory.settings import DirectorySettings
from lobu.shared.auth import Role
from tests.support.tokens import TEST_AUTH, bearer

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = 'Kartenbündnis <script>alert("x")</script> & Co'


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def client(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[httpx.AsyncClient]:
    """22 "Kartenbündnis" alliances in Lower Saxony (one with no coordinates), one hostile."""
    folder = tmp_path_factory.mktemp("map")
    app = create_app(
        DirectorySettings(
            database_url=f"sqlite+aiosqlite:///{folder}/d.db",
            kafka_bootstrap_servers="127.0.0.1:1",
            log_json=False,
            **TEST_AUTH,
        )
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://directory") as http:
            for number in range(21):
                coordinates = {"latitude": 52.0 + number / 50, "longitude": 10.0}
                await add(http, f"Kartenbündnis {number:02d}", **coordinates)
            # A town the gazetteer does not know: no approximate coordinates either.
            await add(http, "Kartenbündnis 00a ohne Ort", city="Nirgendwohausen")  # on page one
            await add(http, HOSTILE, latitude=52.5, longitude=9.7)
            yield http


async def add(http: httpx.AsyncClient, name: str, **fields: Any) -> None:
    body = {"name": name, "state": "NI", "postal_code": "38640", "city": "Goslar"} | fields
    response = await http.post("/alliances", json=body, headers=bearer(Role.ADMIN))
    assert response.status_code == 201, response.text


def the_map(page: str) -> ElementTree.Element:
    """The inline <svg> of the page, parsed as XML."""
    found = re.search(r"<svg .*?</svg>", page, re.S)
    assert found, "the page has no map"
    return ElementTree.fromstring(found.group(0))  # noqa: S314  # our own page


def result_links(page: str) -> list[str]:
    return [html.unescape(href) for href in re.findall(r'<h3><a href="([^"]+)"', page)]


async def test_the_map_shows_the_current_page_of_results_as_links(
    client: httpx.AsyncClient,
) -> None:
    first = (await client.get("/", params={"q": "Kartenbündnis"})).text
    links = result_links(first)
    dots = [link.get("href") for link in the_map(first).findall(f"{SVG}a")]
    assert len(links) == 20
    assert "/buendnisse/kartenbuendnis-00a-ohne-ort" in links
    assert dots == [link for link in links if "ohne-ort" not in link]
    assert "1 Bündnis dieser Seite hat keine Koordinaten" in first
    weiter = html.unescape(re.findall(r'href="([^"]+)" rel="next"', first)[0])
    second = (await client.get(weiter)).text
    second_dots = [link.get("href") for link in the_map(second).findall(f"{SVG}a")]
    assert second_dots == result_links(second)
    assert len(second_dots) == 3


async def test_the_map_escapes_names_and_says_what_it_shows(client: httpx.AsyncClient) -> None:
    page = (await client.get("/", params={"q": "script"})).text
    root = the_map(page)
    [dot] = root.findall(f"{SVG}a")
    assert dot.get("aria-label") == f"{HOSTILE} (Goslar)"
    assert '<script>alert("x")' not in page
    texts = {element.get("id"): element.text for element in root.iter() if element.get("id")}
    alternative = [texts[name] for name in root.get("aria-labelledby", "").split()]
    assert alternative[1].startswith("Ein Bündnis auf der Karte von Deutschland")


async def test_no_results_no_map(client: httpx.AsyncClient) -> None:
    page = (await client.get("/", params={"q": "gibtesnichtkarte"})).text
    assert "Keine Bündnisse gefunden" in page
    assert "<svg" not in page
