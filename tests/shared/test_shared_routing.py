"""GuardedRoute: the token before the body, and bodies limited while they stream in."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import APIRouter, FastAPI, Request
from pydantic import BaseModel

from lobu.shared.auth import AdminCaller, CurrentCaller, Role, TokenVerifier
from lobu.shared.errors import PROBLEM_JSON, install_problem_handlers
from lobu.shared.routing import DEFAULT_MAX_BODY_BYTES, ServiceRouter, check_guarded
from lobu.shared.settings import ServiceSettings
from tests.support.tokens import TEST_AUTH, bearer

pytestmark = [pytest.mark.unit, pytest.mark.asyncio(loop_scope="session")]

FILE_LIMIT = 4096
ADMIN = bearer(Role.ADMIN)
COORDINATOR = bearer(Role.ALLIANCE, "a-1")


class Thing(BaseModel):
    name: str


def guarded_app() -> FastAPI:
    router = ServiceRouter()

    @router.post("/things")
    async def create(body: Thing, caller: AdminCaller) -> dict[str, str]:
        return {"name": body.name, "by": caller.subject}

    @router.post("/files", max_body_size=FILE_LIMIT)
    async def upload(request: Request, _caller: CurrentCaller) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    @router.post("/public")
    async def public(body: Thing) -> dict[str, str]:
        return {"name": body.name}

    app = FastAPI()
    app.state.token_verifier = TokenVerifier(ServiceSettings(**TEST_AUTH))
    install_problem_handlers(app)
    app.include_router(router)
    return app


APP = guarded_app()


@pytest_asyncio.fixture(loop_scope="session")
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=APP)
    async with httpx.AsyncClient(transport=transport, base_url="http://shared") as http:
        yield http


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    chunks_read: int

    def problem(self) -> dict[str, Any]:
        assert self.headers["content-type"] == PROBLEM_JSON
        document: dict[str, Any] = json.loads(self.body)
        return document


@dataclass
class RawRequest:
    """A request sent straight to the ASGI app: chunks as given, any Content-Length."""

    path: str
    chunks: list[bytes]
    headers: dict[str, str] = field(default_factory=dict)

    async def send_to(self, app: FastAPI) -> Answer:
        pending = list(self.chunks)
        read = 0
        out: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            nonlocal read
            if not pending:
                return {"type": "http.disconnect"}
            read += 1
            return {"type": "http.request", "body": pending.pop(0), "more_body": bool(pending)}

        async def send(message: dict[str, Any]) -> None:
            out.append(message)

        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
            "method": "POST", "scheme": "http", "path": self.path, "raw_path": self.path.encode(),
            "query_string": b"", "root_path": "", "client": ("127.0.0.1", 5000),
            "server": ("shared", 80),
            "headers": [(k.lower().encode(), v.encode()) for k, v in self.headers.items()],
        }  # fmt: skip
        await app(scope, receive, send)
        start = next(m for m in out if m["type"] == "http.response.start")
        body = b"".join(m.get("body", b"") for m in out if m["type"] == "http.response.body")
        headers = {k.decode(): v.decode() for k, v in start["headers"]}
        return Answer(start["status"], headers, body, read)


JSON = {"Content-Type": "application/json"}


# --- authentication before the body ------------------------------------------------------


@pytest.mark.parametrize("body", [b"{", b'{"name": 1}', b"x" * (2 * DEFAULT_MAX_BODY_BYTES)])
async def test_an_anonymous_write_gets_401_whatever_its_body(body: bytes) -> None:
    # Defect 7: FastAPI parsed (and refused with 422) the body before looking at the token.
    answer = await RawRequest(
        "/things", [body], {**JSON, "Content-Length": str(len(body))}
    ).send_to(APP)

    assert answer.status == 401
    assert answer.problem()["code"] == "http_401"
    assert answer.chunks_read == 0  # not one byte of the body was received


async def test_a_bad_token_gets_401_before_the_body_is_read() -> None:
    headers = {**JSON, "Authorization": "Bearer not.a.token"}

    answer = await RawRequest("/things", [b"{"], headers).send_to(APP)

    assert answer.status == 401
    assert answer.chunks_read == 0


async def test_a_coordinator_gets_403_on_an_admin_write_before_the_body_is_read() -> None:
    answer = await RawRequest("/things", [b"{"], {**JSON, **COORDINATOR}).send_to(APP)

    assert answer.status == 403
    assert answer.chunks_read == 0


async def test_an_admin_with_a_bad_body_gets_422(client: httpx.AsyncClient) -> None:
    response = await client.post("/things", content=b'{"name": 1}', headers={**JSON, **ADMIN})

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "name"


async def test_the_caller_verified_first_reaches_the_route(client: httpx.AsyncClient) -> None:
    response = await client.post("/things", json={"name": "Goslar"}, headers=ADMIN)

    assert response.status_code == 200
    assert response.json() == {"name": "Goslar", "by": "developer"}


async def test_a_plain_router_with_a_body_route_is_refused() -> None:
    router = APIRouter()

    @router.post("/things")
    async def create(body: Thing) -> None:
        return None

    with pytest.raises(TypeError, match="ServiceRouter"):
        check_guarded([router])


# --- body limits ---------------------------------------------------------------------------


def assert_too_large(answer: Answer, limit: int) -> None:
    assert answer.status == 413
    problem = answer.problem()
    assert problem["code"] == "request_too_large"
    assert problem["max_bytes"] == limit
    assert str(limit) in problem["detail"]


async def test_a_declared_length_over_the_limit_gets_413_before_reading() -> None:
    body = b"x" * (DEFAULT_MAX_BODY_BYTES + 1)

    answer = await RawRequest(
        "/public", [body], {**JSON, "Content-Length": str(len(body))}
    ).send_to(APP)

    assert_too_large(answer, DEFAULT_MAX_BODY_BYTES)
    assert answer.chunks_read == 0


async def test_a_chunked_body_without_length_is_stopped_at_the_limit() -> None:
    chunk = b" " * 65536
    chunks = [chunk] * (DEFAULT_MAX_BODY_BYTES // len(chunk) + 10)

    answer = await RawRequest("/public", chunks, JSON).send_to(APP)

    assert_too_large(answer, DEFAULT_MAX_BODY_BYTES)
    assert answer.chunks_read <= DEFAULT_MAX_BODY_BYTES // len(chunk) + 1  # stopped, not drained


async def test_a_body_longer_than_its_content_length_is_stopped_at_the_limit() -> None:
    chunks = [b" " * 65536] * 40

    answer = await RawRequest("/public", chunks, {**JSON, "Content-Length": "16"}).send_to(APP)

    assert_too_large(answer, DEFAULT_MAX_BODY_BYTES)


async def test_a_route_may_accept_more_and_counts_it_while_streaming() -> None:
    exact = await RawRequest("/files", [b"a" * 1000] * 4 + [b"a" * 96], ADMIN).send_to(APP)
    over = await RawRequest("/files", [b"a" * 1000] * 5, ADMIN).send_to(APP)

    assert exact.status == 200
    assert json.loads(exact.body) == {"bytes": FILE_LIMIT}
    assert_too_large(over, FILE_LIMIT)


async def test_a_huge_content_length_is_413_not_an_error() -> None:
    headers = {**JSON, "Content-Length": "9" * 5000}

    answer = await RawRequest("/public", [b"{}"], headers).send_to(APP)

    assert_too_large(answer, DEFAULT_MAX_BODY_BYTES)


# --- JSON strings no database can store --------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        (b'{"name": "Gos\\u0000lar"}', "name", "NUL"),
        (b'{"name": "\\ud800"}', "name", "surrogate"),
        (b'{"name": "ok", "\\u0000": 1}', "body", "NUL"),
        (b'{"name": ' + b"9" * 5000 + b"}", "body", "4300"),
        (b"[" * 100_000 + b"]" * 100_000, "body", "recursion"),
        (b'{"name": "\xff"}', "body", "utf-8"),
    ],
)
async def test_json_that_cannot_be_stored_gets_422_naming_the_field(
    client: httpx.AsyncClient, body: bytes, field: str, message: str
) -> None:
    response = await client.post("/public", content=body, headers=JSON)

    assert response.status_code == 422
    problem = response.json()
    assert problem["errors"][0]["field"] == field
    assert message.lower() in problem["detail"].lower()
