"""Bad input is 422 (or a German page), never a 500: on SQLite and on PostgreSQL.

The classes of defect 5: Unicode digits that int() refuses ("²") or reads ("١" is 1),
numbers past int()'s 4300 digits, lone surrogates no driver can encode (JSON's
"\\ud800", also inside a cursor), and NUL characters, which PostgreSQL's text refuses,
in any query parameter, header, path or JSON string. A few known cases first, then a
property: every parameter of every endpoint, given such values, gets no server error.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lobu.directory.domain import parse_if_match
from lobu.directory.errors import StaleVersionError
from lobu.directory.main import create_app
from lobu.directory.settings import DirectorySettings
from lobu.shared.auth import Role
from tests.support.tokens import TEST_AUTH, bearer

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

ADMIN = bearer(Role.ADMIN)
HTML = {"Accept": "text/html,application/xhtml+xml"}


def hand_made_cursor(sort_key: list[Any]) -> str:
    """A cursor as a client could make one: base64url of JSON with \\u escapes."""
    return base64.urlsafe_b64encode(json.dumps(sort_key).encode()).decode().rstrip("=")


SURROGATE_CURSOR = hand_made_cursor(["\ud800", "some-id"])
NEW_ALLIANCE = {
    "name": "Lokales Bündnis für Familie Goslar",
    "state": "NI",
    "postal_code": "38640",
    "city": "Goslar",
    "contacts": [{"name": "Eva Roth", "email": "eva.roth@example.org"}],
}


@dataclass
class Directory:
    client: httpx.AsyncClient
    alliance_id: str


@pytest_asyncio.fixture(loop_scope="session")
async def directory(database_url: str, tmp_path: Path) -> AsyncIterator[Directory]:
    """The directory on this backend with one alliance; Kafka unreachable (not needed here)."""
    app: FastAPI = create_app(
        DirectorySettings(
            database_url=database_url,
            kafka_bootstrap_servers="127.0.0.1:1",
            log_json=False,
            **TEST_AUTH,
        )
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://directory") as client:
            created = await client.post("/alliances", json=NEW_ALLIANCE, headers=ADMIN)
            assert created.status_code == 201, created.text
            yield Directory(client, created.json()["id"])


def url_text(value: str) -> str:
    """`value` percent-encoded as a client sends it (surrogates as their UTF-8 bytes)."""
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


# --- the cases that were 500s -----------------------------------------------------------


def header_bytes(value: str) -> bytes:
    """`value` as HTTP carries it: Latin-1 where it can be, else its UTF-8 bytes."""
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode("utf-8", "surrogatepass")


@pytest.mark.parametrize("if_match", ["²", '"²"', 'W/"³"', "9" * 5000, '"' + "9" * 5000 + '"'])
async def test_an_if_match_that_names_no_version_is_412_never_500_or_a_match(
    directory: Directory, if_match: str
) -> None:
    response = await directory.client.patch(
        f"/alliances/{directory.alliance_id}",
        json={"city": "Bad Harzburg"},
        headers={**ADMIN, "If-Match": header_bytes(if_match)},
    )

    assert response.status_code == 412, response.text
    assert "names no version" in response.json()["detail"]


async def test_a_cursor_holding_a_lone_surrogate_is_422(directory: Directory) -> None:
    response = await directory.client.get("/alliances", params={"cursor": SURROGATE_CURSOR})

    assert response.status_code == 422
    assert response.json()["code"] == "invalid_cursor"


async def test_the_search_page_with_such_a_cursor_starts_again_and_says_so(
    directory: Directory,
) -> None:
    response = await directory.client.get("/", params={"weiter": SURROGATE_CURSOR}, headers=HTML)

    assert response.status_code == 400
    assert "nicht mehr gültig" in response.text
    assert "Goslar" in response.text


@pytest.mark.parametrize(
    "url",
    ["/alliances?q=%00", "/alliances?q=a%00b", "/alliances/%00", "/alliances/export.csv?q=%00"],
)
async def test_a_nul_in_a_query_or_path_is_422_problem_json(directory: Directory, url: str) -> None:
    response = await directory.client.get(url)

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert "NUL" in response.json()["detail"]


@pytest.mark.parametrize("url", ["/?q=%00", "/?ort=G%00slar", "/buendnisse/%00"])
async def test_a_nul_on_a_page_is_a_german_page(directory: Directory, url: str) -> None:
    response = await directory.client.get(url, headers=HTML)

    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    assert "Nullzeichen" in response.text


async def test_a_nul_in_a_header_is_422(directory: Directory) -> None:
    response = await directory.client.get("/alliances", headers={"X-Correlation-ID": b"a\x00b"})

    assert response.status_code == 422


@pytest.mark.parametrize("text", ["\x00", "Gos\x00lar", "\ud800", "x\udfffy"])
async def test_json_strings_that_cannot_be_stored_are_422(directory: Directory, text: str) -> None:
    body = json.dumps({**NEW_ALLIANCE, "city": text})  # ensure_ascii: "\\u0000", "\\ud800"

    response = await directory.client.post(
        "/alliances", content=body, headers={**ADMIN, "Content-Type": "application/json"}
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "city"


# --- the property: no parameter of any endpoint gives a 500 -------------------------------

NASTY_SAMPLES = [
    "\x00", "a\x00", "²", "١٢٣", "٣", "𝟙", "9" * 5000, "-" + "9" * 5000, "1e400", "-1e400",
    "nan", "inf", "\ud800", "x\udfff", "\ufeff", "", " ", "%00", "'", '"', "\\", "1_000",
]  # fmt: skip
NASTY = st.one_of(
    st.sampled_from(NASTY_SAMPLES),
    st.text(st.characters(codec=None, categories=("Cs", "Cc", "Nd", "No", "Nl", "Zs")), max_size=8),
    st.integers(min_value=-(10**40), max_value=10**40).map(str),
)
Send = Callable[..., httpx.Response]


@dataclass(frozen=True)
class Target:
    """One parameter of one endpoint, and how a value goes into it."""

    method: str
    path: str
    where: str  # query, path, header, json, cursor
    name: str
    admin: bool = False

    def send(self, send: Send, alliance_id: str, value: str) -> httpx.Response:
        path = self.path.replace("{id}", alliance_id)
        headers: dict[str, Any] = dict(ADMIN) if self.admin else {}
        if self.path == "/":
            headers |= HTML  # as a browser asks for the search page
        content: str | None = None
        if self.where == "path":
            path = path.replace("{value}", url_text(value))
        elif self.where in ("query", "cursor"):
            text = hand_made_cursor([value, alliance_id]) if self.where == "cursor" else value
            path += ("&" if "?" in path else "?") + f"{self.name}={url_text(text)}"
        elif self.where == "header":
            headers[self.name] = header_bytes(value)
        elif self.where == "json":
            content = json.dumps({**NEW_ALLIANCE, self.name: value})
            headers["Content-Type"] = "application/json"
        if self.method == "PATCH":
            headers.setdefault("If-Match", "*")
        return send(self.method, path, content=content, headers=headers)


SEARCH = ["q", "state", "topic", "partner_type", "status", "award", "near", "radius_km"]
PAGE = ["q", "land", "handlungsfeld", "partnertyp", "status", "auszeichnung", "ort", "umkreis"]
TARGETS = [
    *(Target("GET", "/alliances", "query", name) for name in [*SEARCH, "limit", "cursor"]),
    Target("GET", "/alliances", "cursor", "cursor"),
    *(Target("GET", "/alliances/export.csv", "query", name) for name in SEARCH),
    *(Target("GET", "/alliances/export.geojson", "query", name) for name in SEARCH),
    *(Target("GET", "/", "query", name) for name in [*PAGE, "weiter"]),
    Target("GET", "/", "cursor", "weiter"),
    Target("GET", "/alliances/{value}", "path", "alliance_id"),
    Target("GET", "/alliances/{value}/private", "path", "alliance_id", admin=True),
    Target("GET", "/alliances/{value}/audit", "path", "alliance_id", admin=True),
    Target("DELETE", "/alliances/{value}", "path", "alliance_id", admin=True),
    Target("GET", "/buendnisse/{value}", "path", "slug"),
    Target("PATCH", "/alliances/{id}", "header", "If-Match", admin=True),
    Target("GET", "/alliances", "header", "X-Correlation-ID"),
    Target("POST", "/alliances/import", "query", "dry_run", admin=True),
    *(
        Target("POST", "/alliances", "json", name, admin=True)
        for name in ["name", "state", "postal_code", "city", "website", "founded_on", "slug"]
    ),
    *(Target("PATCH", "/alliances/{id}", "json", name, admin=True) for name in ["city", "name"]),
]


async def test_no_parameter_of_any_endpoint_gives_a_server_error(directory: Directory) -> None:
    loop = asyncio.get_running_loop()

    def send(method: str, url: str, **options: Any) -> httpx.Response:
        call = directory.client.request(method, url, **options)
        return asyncio.run_coroutine_threadsafe(call, loop).result(timeout=60)

    @settings(
        max_examples=300,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(target=st.sampled_from(TARGETS), value=NASTY)
    def no_server_error(target: Target, value: str) -> None:
        response = send_target(target, value)
        assert response.status_code < 500, f"{target} with {value[:40]!r}: {response.text[:300]}"
        if target.path == "/":  # a page answers with a page, never problem+json
            assert response.headers["content-type"].startswith("text/html"), (target, value)

    def send_target(target: Target, value: str) -> httpx.Response:
        return target.send(send, directory.alliance_id, value)

    # Hypothesis runs in a thread; the requests run on the app's own event loop.
    await asyncio.to_thread(no_server_error)


@pytest.mark.parametrize("value", ["١", '"١"', "𝟙", "²", "1" * 19, "-1", "+1", " 1 2"])
async def test_if_match_takes_ascii_versions_only(value: str) -> None:
    # int("١") is 1: a version we never handed out must not match version 1.
    with pytest.raises(StaleVersionError, match="names no version"):
        parse_if_match(value)


@pytest.mark.parametrize(("value", "version"), [('"3"', 3), ('W/"3"', 3), ("3", 3), ("*", None)])
async def test_if_match_takes_the_etags_we_hand_out(value: str, version: int | None) -> None:
    assert parse_if_match(value) == version
