"""Browser sessions (lobu.shared.web_sessions): who may see a page, and forms need CSRF."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse
from fastapi.testclient import TestClient

from lobu.shared import ServiceRouter, ServiceSettings
from lobu.shared.auth import Role, TokenVerifier, create_token
from lobu.shared.web_sessions import (
    SESSION_COOKIE,
    AdminPage,
    CheckedForm,
    CoordinatorPage,
    SessionIssuer,
    install_page_handlers,
    set_session_cookie,
)
from tests.support.tokens import TEST_AUTH, TEST_JWT_SECRET

pytestmark = pytest.mark.unit

SETTINGS = ServiceSettings(**TEST_AUTH, directory_url="http://portal.test:8001")
ISSUER = SessionIssuer(SETTINGS)


def _app() -> FastAPI:
    router = ServiceRouter()

    @router.get("/verwaltung", response_class=PlainTextResponse)
    async def staff(caller: AdminPage) -> str:
        return f"staff {caller.subject}"

    @router.get("/mein-buendnis", response_class=PlainTextResponse)
    async def mine(caller: CoordinatorPage) -> str:
        return f"alliance {caller.alliance_id}"

    @router.post("/mein-buendnis", response_class=PlainTextResponse)
    async def save(caller: CoordinatorPage, form: CheckedForm) -> str:
        return f"saved {form.get('name')} for {caller.alliance_id}"

    app = FastAPI()
    app.state.token_verifier = TokenVerifier(SETTINGS)
    install_page_handlers(app, SETTINGS)
    app.include_router(router)
    return app


def _session(
    role: Role, alliance_id: str | None = None, *, lifetime_minutes: int = 30
) -> tuple[str, str]:
    token, session = ISSUER.issue(
        subject="person:1", role=role, email="grete@example.org", alliance_id=alliance_id,
        lifetime=timedelta(minutes=lifetime_minutes),
    )  # fmt: skip
    return token, session.csrf_token


@pytest.fixture
def client() -> TestClient:
    return TestClient(_app(), follow_redirects=False)


def test_an_anonymous_visitor_is_sent_to_sign_in_and_back(client: TestClient) -> None:
    answer = client.get("/mein-buendnis")
    assert answer.status_code == 303
    assert answer.headers["location"] == (
        "http://portal.test:8001/anmelden?weiter=http%3A%2F%2Ftestserver%2Fmein-buendnis"
    )


def test_the_session_cookie_names_the_person_and_their_role(client: TestClient) -> None:
    token, _ = _session(Role.ALLIANCE, "a-1")
    assert client.get("/mein-buendnis", cookies={SESSION_COOKIE: token}).text == "alliance a-1"
    admin, _ = _session(Role.ADMIN)
    assert client.get("/verwaltung", cookies={SESSION_COOKIE: admin}).text == "staff person:1"


def test_a_person_without_the_role_gets_a_german_403_page(client: TestClient) -> None:
    token, _ = _session(Role.ALLIANCE, "a-1")
    answer = client.get("/verwaltung", cookies={SESSION_COOKIE: token})
    assert answer.status_code == 403
    assert "text/html" in answer.headers["content-type"]
    assert "Servicebüros vorbehalten" in answer.text
    admin, _ = _session(Role.ADMIN)
    assert client.get("/mein-buendnis", cookies={SESSION_COOKIE: admin}).status_code == 403


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(_session(Role.ADMIN, lifetime_minutes=-1)[0], id="expired"),
        pytest.param(create_token(secret=TEST_JWT_SECRET, role=Role.ADMIN), id="a-bearer-token"),
        pytest.param(
            create_token(secret="another-secret-of-at-least-32-bytes!!", role=Role.ADMIN),
            id="forged",
        ),
    ],
)
def test_a_cookie_that_is_not_a_valid_session_counts_as_signed_out(
    client: TestClient, token: str
) -> None:
    assert client.get("/verwaltung", cookies={SESSION_COOKIE: token}).status_code == 303


def test_a_form_without_the_sessions_csrf_value_is_refused(client: TestClient) -> None:
    token, csrf = _session(Role.ALLIANCE, "a-1")
    cookies = {SESSION_COOKIE: token}
    refused = client.post("/mein-buendnis", data={"name": "Neu"}, cookies=cookies)
    assert refused.status_code == 403
    assert "Formular" in refused.text
    wrong = client.post("/mein-buendnis", data={"name": "Neu", "csrf_token": "x"}, cookies=cookies)
    assert wrong.status_code == 403
    _, other_sessions_csrf = _session(Role.ALLIANCE, "a-1")
    stolen = {"name": "Neu", "csrf_token": other_sessions_csrf}
    assert client.post("/mein-buendnis", data=stolen, cookies=cookies).status_code == 403
    accepted = client.post(
        "/mein-buendnis", data={"name": "Neu", "csrf_token": csrf}, cookies=cookies
    )
    assert accepted.text == "saved Neu for a-1"


def test_a_form_posted_with_a_bearer_token_needs_no_csrf_value(client: TestClient) -> None:
    token = create_token(secret=TEST_JWT_SECRET, role=Role.ALLIANCE, alliance_id="a-2")
    answer = client.post(
        "/mein-buendnis", data={"name": "Neu"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.text == "saved Neu for a-2"


def test_an_anonymous_form_post_is_refused_before_its_body_is_read(client: TestClient) -> None:
    answer = client.post("/mein-buendnis", data={"name": "x" * 10})
    assert answer.status_code == 303  # to the sign-in page, without a redirect back for a POST
    assert answer.headers["location"] == "http://portal.test:8001/anmelden"


@pytest.mark.parametrize(("environment", "secure"), [("production", True), ("test", False)])
def test_the_cookie_is_httponly_lax_and_secure_in_production(
    environment: str, secure: bool
) -> None:
    settings = ServiceSettings(
        environment=environment, jwt_secret="a-production-secret-of-at-least-32-bytes"
    )
    token, session = SessionIssuer(settings).issue(
        subject="s", role=Role.ADMIN, email="e@example.org", alliance_id=None,
        lifetime=timedelta(minutes=5), now=datetime.now(UTC),
    )  # fmt: skip
    response = PlainTextResponse("")
    set_session_cookie(response, token, session, secure=settings.secure_cookies)
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert ("Secure" in cookie) is secure
    assert "Path=/" in cookie


def test_the_page_reads_the_session_once_per_request() -> None:
    """Dependencies after the first reuse what it verified (no second signature check)."""
    from lobu.shared.web_sessions import browser_session

    token, _ = _session(Role.ADMIN)
    scope = {"type": "http", "headers": [(b"cookie", f"{SESSION_COOKIE}={token}".encode())]}
    request = Request(scope)
    request.scope["app"] = _app()
    first = browser_session(request)
    assert first is not None
    assert browser_session(request) is first
