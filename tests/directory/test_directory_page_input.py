"""The search page answers bad input with itself: the values kept, a German message next
to the field, status 422 (a wrong field) or 400 (a `weiter` link that is not ours).
Never problem+json. In-process on SQLite: the claim is about the page, not the database.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio

from lobu.directory.main import create_app
from lobu.directory.settings import DirectorySettings
from lobu.shared.auth import Role
from tests.support.tokens import TEST_AUTH, bearer

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

HTML = {"Accept": "text/html"}


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def client(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[httpx.AsyncClient]:
    """The directory on SQLite with one alliance in Goslar; Kafka unreachable (not needed)."""
    tmp_path = tmp_path_factory.mktemp("page-input")
    app = create_app(
        DirectorySettings(
            database_url=f"sqlite+aiosqlite:///{tmp_path}/d.db",
            kafka_bootstrap_servers="127.0.0.1:1",
            log_json=False,
            **TEST_AUTH,
        )
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://directory") as http:
            body = {"name": "Bündnis Goslar", "state": "NI", "postal_code": "38640"}
            body["city"] = "Goslar"
            created = await http.post("/alliances", json=body, headers=bearer(Role.ADMIN))
            assert created.status_code == 201, created.text
            yield http


def message_of(page: str, field: str) -> str:
    """The error message shown next to `field`, which the field names as its description."""
    marked = rf'id="{field}"[^>]*aria-invalid="true" aria-describedby="{field}-fehler"'
    assert re.search(marked, page)
    found = re.search(rf'<p class="error" id="{field}-fehler">([^<]+)</p>', page)
    assert found, f"no message next to {field}"
    return found.group(1)


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"q": "x" * 201}, "q", "höchstens 200 Zeichen"),
        ({"ort": "x" * 101}, "ort", "höchstens 100 Zeichen"),
        ({"umkreis": "abc"}, "umkreis", "Umkreis in Kilometern"),
        ({"umkreis": "²"}, "umkreis", "Umkreis in Kilometern"),
        ({"umkreis": "0"}, "umkreis", "Umkreis in Kilometern"),
        ({"umkreis": "9" * 400}, "umkreis", "Umkreis in Kilometern"),
        ({"land": "XX"}, "land", "Dieses Land gibt es nicht"),
        ({"handlungsfeld": "tanzen"}, "handlungsfeld", "Handlungsfeld gibt es nicht"),
        ({"partnertyp": "x"}, "partnertyp", "Partner gibt es nicht"),
        ({"status": "weg"}, "status", "Status gibt es nicht"),
        ({"auszeichnung": "oscar"}, "auszeichnung", "Auszeichnung gibt es nicht"),
    ],
)
async def test_a_wrong_field_gives_the_page_with_a_german_message_next_to_it(
    client: httpx.AsyncClient, params: dict[str, str], field: str, message: str
) -> None:
    response = await client.get("/", params=params | {"q": params.get("q", "Goslar")}, headers=HTML)

    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    assert message in message_of(response.text, field)
    assert "Bitte prüfen Sie die markierte Angabe" in response.text
    assert "Bündnis Goslar" not in response.text  # no results for a search it did not run


async def test_the_typed_text_is_shown_again_escaped(client: httpx.AsyncClient) -> None:
    typed = "<b>" + "ä" * 200
    response = await client.get("/", params={"q": typed})

    assert response.status_code == 422
    assert 'value="&lt;b&gt;' + "ä" * 200 + '"' in response.text


async def test_the_text_fields_say_their_limit_to_the_browser(client: httpx.AsyncClient) -> None:
    page = (await client.get("/")).text

    assert re.search(r'id="q"[^>]*maxlength="200"', page)
    assert re.search(r'id="ort"[^>]*maxlength="100"', page)


@pytest.mark.parametrize("cursor", ["nonsense", "x" * 501, "WyJhIiwxXQ"])
async def test_a_bad_weiter_link_gives_the_first_page_with_status_400(
    client: httpx.AsyncClient, cursor: str
) -> None:
    response = await client.get("/", params={"q": "Goslar", "weiter": cursor})

    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
    assert "nicht mehr gültig" in response.text
    assert "Bündnis Goslar" in response.text


async def test_good_values_still_search(client: httpx.AsyncClient) -> None:
    response = await client.get("/", params={"q": "goslar", "land": "NI", "umkreis": "50"})

    assert response.status_code == 200
    assert "Bündnis Goslar" in response.text
    assert 'class="error"' not in response.text
