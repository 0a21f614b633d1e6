"""The directory's HTTP API fuzzed by schemathesis against its own OpenAPI document.

The service runs as `make run` runs it (uvicorn in its own process, migrations on
start-up, a real Kafka broker), once on SQLite and once on PostgreSQL. Per operation,
schemathesis sends the document's examples, its boundary cases and up to MAX_EXAMPLES
generated requests, valid and invalid ones, some with the bad input of the hooks below
(NULs, Unicode digits, huge numbers, lone surrogates in JSON and in cursors). No
request may get a server error, and a response must match the schema the document
gives for its status code and media type.

Two runs: one with an admin token on every request, so that the handlers are reached,
and one without a token, in which only the public reads may answer.
"""

from __future__ import annotations

import base64
import copy
import csv
import io
import json
import logging
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from lobu.directory.csv_format import COLUMNS
from lobu.directory.main import create_app
from lobu.directory.settings import DirectorySettings
from lobu.shared.auth import Role, create_token
from tests.support.kafka_server import KafkaServer
from tests.support.ports import free_port
from tests.support.postgres_server import PostgresServer
from tests.support.service_process import ServiceProcess
from tests.support.tokens import TEST_AUTH, TEST_JWT_SECRET

pytestmark = pytest.mark.integration

MAX_EXAMPLES = 25
SEEDED_ALLIANCES = 4
ADMIN = {"Authorization": f"Bearer {create_token(secret=TEST_JWT_SECRET, role=Role.ADMIN)}"}
CHECKS = [not_a_server_error, response_schema_conformance]

# Old Mac line ends (a bare carriage return) once gave a 500 in the import.
MAC_CSV = "name;land;plz;ort\rLokales Bündnis für Familie Goslar;NI;38640;Goslar\r"

# Without a token only these may answer; every other operation refuses with 401 or 403,
# or earlier, when the router turns the request away (404, 405) or its path, query or
# headers hold text no database can store (422). The body is never parsed first.
PUBLIC_OPERATIONS = {
    "GET /healthz",
    "GET /readyz",
    "GET /asyncapi.json",
    "GET /alliances",
    "GET /alliances/export.csv",
    "GET /alliances/export.geojson",
    "GET /alliances/{alliance_id}",
    "GET /places",  # the gazetteer: public place names, for the Umkreissuche
}
REFUSALS = {401, 403, 404, 405, 422}

# Ids of alliances that exist, for the `{alliance_id}` of generated requests; filled by
# the `alliances` fixture, an alliance a DELETE removed is replaced by a new one.
EXISTING_IDS: list[str] = []
# Every answer, per run, operation and status: printed when the service stops (-s).
STATUSES: Counter[tuple[str, str, int]] = Counter()


def _openapi_document() -> dict[str, Any]:
    """The document the service serves at /openapi.json (a test compares the two).

    Schemathesis needs it at collection time, before a fixture has started the service.
    Building the app neither connects nor migrates; its logging set-up is undone.
    """
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        app = create_app(
            DirectorySettings(
                database_url="sqlite+aiosqlite://",
                kafka_bootstrap_servers="127.0.0.1:9",
                log_json=False,
                **TEST_AUTH,
            )
        )
        return app.openapi()
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


DOCUMENT = _openapi_document()
schema = schemathesis.openapi.from_dict(
    copy.deepcopy(DOCUMENT),
    config=schemathesis.Config.from_dict(
        {"generation": {"max-examples": MAX_EXAMPLES, "database": "none"}}
    ),
)


def _csv_bytes(_context: Any, value: Any) -> bytes:
    """The body of `POST /alliances/import` as sent: text as UTF-8, anything else as text."""
    if isinstance(value, bytes):
        return value
    return (value if isinstance(value, str) else str(value)).encode("utf-8")


schemathesis.serializer("text/csv")(_csv_bytes)

# Cells as the Servicebüro writes them (docs/alliance-csv.md), and some that are wrong.
CELL_EXAMPLES: dict[str, list[str]] = {
    "slug": ["lokales-buendnis-fuer-familie-goslar", "a", "-", "UPPER"],
    "name": ["Lokales Bündnis für Familie Goslar", "x" * 201],
    "land": ["NI", "Niedersachsen", "XX"],
    "landkreis": ["Landkreis Goslar"],
    "gemeinde": ["Goslar"],
    "plz": ["38640", "1234", "abcde"],
    "ort": ["Goslar"],
    "strasse": ["Markt 1"],
    "breitengrad": ["51,9059", "51.9059", "91", "nan", "inf", "1e400"],
    "laengengrad": ["10,4289", "10.4289", "-181", "nan", "inf", "1e400"],
    "gegruendet": ["01.03.2005", "2005-03-01", "31.02.2005", "99.99.9999", "0001-01-01"],
    "status": ["aktiv", "ruhend", "aufgelöst", "dormant", "?"],
    "personal": ["ehrenamtlich", "haupt- und ehrenamtlich", "paid", "?"],
    "website": ["https://www.goslar.de/familie", "ftp://x", "https://"],
    "social_media": ["instagram=https://www.instagram.com/familie_goslar", "=", "x=y|z"],
    "handlungsfelder": ["kinderbetreuung|Kinderarmut", "|", "unbekannt"],
    "partner": ["Stadt Goslar [kommune]|Harz GmbH [Unternehmen]", "[]", "X [y]"],
    "auszeichnungen": ["ausgezeichnet-in-die-zukunft:2019", ":", "x:99999999999999999999"],
    "koordination": ["Stadt Goslar, Familienbüro"],
    "kontakte": ["Eva Roth <eva.roth@example.org> (Koordination) [+49 5321 704-0]", "<>"],
}


@st.composite
def alliance_csv(draw: st.DrawFn) -> str:
    """A file in the import format: known columns, plausible and arbitrary cells."""
    columns = draw(st.lists(st.sampled_from(list(COLUMNS)), min_size=1, unique=True))
    if draw(st.booleans()):
        columns = list(dict.fromkeys(["name", "land", "plz", "ort", *columns]))
    cell = {
        column: st.one_of(st.just(""), st.sampled_from(examples), st.text(max_size=40))
        for column, examples in CELL_EXAMPLES.items()
    }
    rows = draw(st.lists(st.fixed_dictionaries({c: cell[c] for c in columns}), max_size=4))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, delimiter=";", lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return draw(st.sampled_from(["", "\ufeff"])) + out.getvalue()


# Input of the classes that once gave 500s (issue 6, defect 5): NULs, which PostgreSQL's
# text refuses; Unicode digits that int() refuses or reads; numbers past int()'s 4300
# digits; cursors whose JSON holds a lone surrogate or a NUL. Surrogates go into JSON
# bodies only: a URL or header cannot carry them (they have no UTF-8 form).
def _hand_made_cursor(sort_key: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(sort_key).encode()).decode().rstrip("=")


NASTY_TEXT = ["\x00", "Gos\x00lar", "²", "١٢", "9" * 5000, "-" + "9" * 5000, "1e400", "nan"]
NASTY_CURSORS = [_hand_made_cursor(["\ud800", "x"]), _hand_made_cursor(["\x00", "x"])]
NASTY_JSON_TEXT = [*NASTY_TEXT, "\ud800", "x\udfffy"]
NASTY_HEADERS = ["²", '"²"', "9" * 5000, '"' + "9" * 5000 + '"']  # Latin-1, as HTTP carries


@schema.hook
def flatmap_query(
    context: schemathesis.HookContext, query: dict[str, Any] | None
) -> SearchStrategy[dict[str, Any] | None]:
    """Now and then one query parameter holds bad input (a cursor a bad cursor)."""
    names = [parameter.name for parameter in context.operation.query] if context.operation else []
    if not names:
        return st.just(query)
    bad = st.builds(
        lambda name, text, cursor: {**(query or {}), name: cursor if name == "cursor" else text},
        st.sampled_from(names),
        st.sampled_from(NASTY_TEXT),
        st.sampled_from(NASTY_CURSORS),
    )
    return st.one_of(st.just(query), bad)


@schema.hook
def flatmap_path_parameters(
    context: schemathesis.HookContext, path_parameters: dict[str, Any] | None
) -> SearchStrategy[dict[str, Any] | None]:
    """Generated `{alliance_id}`s and ids of alliances that exist."""
    if context.operation is None or "{alliance_id}" not in context.operation.path:
        return st.just(path_parameters)
    existing = st.integers(0, SEEDED_ALLIANCES - 1).map(
        lambda index: {**(path_parameters or {}), "alliance_id": EXISTING_IDS[index]}
    )
    bad = st.sampled_from(NASTY_TEXT).map(
        lambda text: {**(path_parameters or {}), "alliance_id": text}
    )
    return st.one_of(existing, st.just(path_parameters), bad)


@schema.hook
def flatmap_headers(
    context: schemathesis.HookContext, headers: dict[str, Any] | None
) -> SearchStrategy[dict[str, Any] | None]:
    """Some PATCHes with `If-Match: *`, which matches whatever the version is."""
    if context.operation is None or context.operation.method.upper() != "PATCH":
        return st.just(headers)
    bad = st.sampled_from(NASTY_HEADERS).map(lambda text: {**(headers or {}), "if-match": text})
    return st.one_of(st.sampled_from([{**(headers or {}), "if-match": "*"}, headers]), bad)


@schema.hook
def flatmap_body(context: schemathesis.HookContext, body: Any) -> SearchStrategy[Any]:
    """Import files in the real format besides arbitrary text."""
    if context.operation is None:
        return st.just(body)
    if context.operation.path == "/alliances/import":
        return st.one_of(alliance_csv(), st.just(body))
    if not isinstance(body, dict) or not body:
        return st.just(body)
    bad = st.builds(
        lambda name, text: {**body, name: text},
        st.sampled_from(sorted(body)),
        st.sampled_from(NASTY_JSON_TEXT),
    )
    return st.one_of(st.just(body), bad)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A fresh database for the service: every fuzzing test runs on both backends."""
    if request.param == "sqlite":
        folder = tmp_path_factory.mktemp("directory-schemathesis-db")
        yield f"sqlite+aiosqlite:///{folder}/directory.db"
        return
    postgres: PostgresServer = request.getfixturevalue("postgres")
    with postgres.database("directory") as url:
        yield url


@pytest.fixture(scope="module")
def directory(
    kafka: KafkaServer, database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The directory as its own uvicorn process on a fresh database; yields its URL."""
    folder: Path = tmp_path_factory.mktemp("directory-schemathesis")
    STATUSES.clear()
    service = ServiceProcess(
        app="lobu.directory.main:create_app",
        port=free_port(),
        env={
            "LOBU_DIRECTORY_DATABASE_URL": database,
            "LOBU_DIRECTORY_KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
            "LOBU_DIRECTORY_ENVIRONMENT": "test",
            "LOBU_DIRECTORY_JWT_SECRET": TEST_JWT_SECRET,
            "LOBU_DIRECTORY_LOG_JSON": "false",
        },
        log_file=folder / "directory.log",
    )
    service.start()
    try:
        _wait_until_ready(service.url)
        yield service.url
    finally:
        service.stop()
        print(f"\nschemathesis: {sum(STATUSES.values())} requests, server log {service.log_file}")
        for (run, label, status), count in sorted(STATUSES.items()):
            print(f"  {run:9} {label:38} {status} x{count}")


def _wait_until_ready(url: str, timeout: float = 30.0) -> None:
    """Until /readyz says 200: it answers 503 (by design) while Kafka is still connecting."""
    deadline = time.monotonic() + timeout
    while requests.get(f"{url}/readyz", timeout=5).status_code != 200:
        if time.monotonic() > deadline:
            raise AssertionError(f"{url}/readyz did not answer 200 within {timeout} s")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def http(directory: str) -> Iterator[requests.Session]:
    """One keep-alive connection for all requests."""
    with requests.Session() as session:
        yield session


class Alliances:
    """Creates the alliances whose ids EXISTING_IDS holds."""

    def __init__(self, base_url: str, http: requests.Session) -> None:
        self.base_url = base_url
        self.http = http
        EXISTING_IDS[:] = [self._create() for _ in range(SEEDED_ALLIANCES)]

    def _create(self) -> str:
        body: dict[str, Any] = {
            "name": "Lokales Bündnis für Familie Goslar",
            "state": "NI",
            "postal_code": "38640",
            "city": "Goslar",
            "topics": ["kinderbetreuung"],
            "contacts": [{"name": "Eva Roth", "email": "eva.roth@example.org"}],
        }
        response = self.http.post(f"{self.base_url}/alliances", json=body, headers=ADMIN)
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    def deleted(self, alliance_id: str) -> None:
        """Put a new alliance where a deleted one was."""
        if alliance_id in EXISTING_IDS:
            EXISTING_IDS[EXISTING_IDS.index(alliance_id)] = self._create()


@pytest.fixture(scope="module")
def alliances(directory: str, http: requests.Session) -> Alliances:
    return Alliances(directory, http)


FUZZING = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,
    # The same cases on every run: a failure in CI is then a regression to reproduce,
    # not chance. Widen the search by hand with a higher MAX_EXAMPLES when hunting.
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)


def _checks_for(case: schemathesis.Case[Any]) -> list[Any]:
    return CHECKS


def test_the_fuzzed_document_is_the_one_the_service_serves(
    directory: str, http: requests.Session
) -> None:
    response = http.get(f"{directory}/openapi.json")

    assert response.status_code == 200
    assert response.json() == DOCUMENT


@schema.parametrize()
@FUZZING
def test_an_admin_never_gets_a_server_error(
    case: schemathesis.Case[Any], directory: str, http: requests.Session, alliances: Alliances
) -> None:
    response = case.call(base_url=directory, session=http, headers=ADMIN, timeout=30)
    STATUSES["admin", case.operation.label, response.status_code] += 1

    case.validate_response(response, checks=_checks_for(case))
    if case.method.upper() == "DELETE" and response.status_code == 204:
        alliances.deleted(str(case.path_parameters["alliance_id"]))


@schema.parametrize()
@FUZZING
def test_without_a_token_only_public_reads_answer(
    case: schemathesis.Case[Any], directory: str, http: requests.Session, alliances: Alliances
) -> None:
    if case.headers:
        case.headers.pop("Authorization", None)  # schemathesis' own, made from the document
    response = case.call(base_url=directory, session=http, timeout=30)
    STATUSES["anonymous", case.operation.label, response.status_code] += 1

    case.validate_response(response, checks=_checks_for(case))
    if case.operation.label not in PUBLIC_OPERATIONS:
        assert response.status_code in REFUSALS, (
            f"{case.operation.label} without a token answered {response.status_code}"
        )


def test_the_audit_trail_matches_its_documented_schema(
    directory: str, http: requests.Session, alliances: Alliances
) -> None:
    case = schema["/alliances/{alliance_id}/audit"]["GET"].Case(
        path_parameters={"alliance_id": EXISTING_IDS[0]}
    )
    response = case.call(base_url=directory, session=http, headers=ADMIN, timeout=30)

    assert response.status_code == 200
    case.validate_response(response, checks=[response_schema_conformance])


def test_an_import_file_with_old_mac_line_ends_is_no_server_error(
    directory: str, http: requests.Session
) -> None:
    case = schema["/alliances/import"]["POST"].Case(
        body=MAC_CSV, media_type="text/csv", query={"dry_run": True}
    )
    response = case.call(base_url=directory, session=http, headers=ADMIN, timeout=30)

    case.validate_response(response, checks=[not_a_server_error])
