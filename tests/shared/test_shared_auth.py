"""Bearer tokens: who may call, and what the HTTP API answers when they may not."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
import pytest_asyncio
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI

from lobu.shared.auth import (
    AdminCaller,
    Caller,
    CurrentCaller,
    InvalidTokenError,
    OptionalCaller,
    Role,
    TokenVerifier,
    create_token,
)
from lobu.shared.errors import PROBLEM_JSON, install_problem_handlers
from lobu.shared.settings import ServiceSettings
from tests.support.tokens import TEST_AUTH, TEST_JWT_SECRET

pytestmark = pytest.mark.unit

SECRET = TEST_JWT_SECRET


def verifier(**settings: Any) -> TokenVerifier:
    return TokenVerifier(ServiceSettings(**{**TEST_AUTH, **settings}))


def signed(claims: dict[str, Any], secret: str = SECRET) -> str:
    """A token with exactly these claims (plus a valid audience and expiry unless given)."""
    defaults: dict[str, Any] = {
        "sub": "ute",
        "aud": "lobu",
        "iss": "lobu",
        "exp": datetime.now(UTC) + timedelta(hours=1),
    }
    return jwt.encode({**defaults, **claims}, secret, algorithm="HS256")


# --- TokenVerifier and create_token ------------------------------------------------------


def test_an_admin_token_verifies_to_an_admin_caller() -> None:
    token = create_token(secret=SECRET, role=Role.ADMIN, subject="servicebuero")

    caller = verifier().verify(token)

    assert caller == Caller(subject="servicebuero", role=Role.ADMIN, alliance_id=None)
    assert caller.is_admin


def test_an_alliance_token_verifies_to_that_alliances_coordinator() -> None:
    token = create_token(secret=SECRET, role=Role.ALLIANCE, alliance_id="a-7", subject="jörg")

    caller = verifier().verify(token)

    assert caller == Caller(subject="jörg", role=Role.ALLIANCE, alliance_id="a-7")
    assert not caller.is_admin


def test_an_expired_token_is_rejected() -> None:
    token = create_token(secret=SECRET, role=Role.ADMIN, lifetime=timedelta(seconds=-60))

    with pytest.raises(InvalidTokenError, match="expired"):
        verifier().verify(token)


def test_a_token_signed_with_another_secret_is_rejected() -> None:
    token = create_token(secret="someone-elses-secret-of-sufficient-length", role=Role.ADMIN)

    with pytest.raises(InvalidTokenError, match=r"[Ss]ignature"):
        verifier().verify(token)


def test_a_token_for_another_audience_is_rejected() -> None:
    token = create_token(secret=SECRET, role=Role.ADMIN, audience="not-lobu")

    with pytest.raises(InvalidTokenError, match=r"[Aa]udience"):
        verifier().verify(token)


def test_a_token_for_a_configured_audience_is_accepted() -> None:
    token = create_token(secret=SECRET, role=Role.ADMIN, audience="lobu-staging")

    assert verifier(jwt_audience="lobu-staging").verify(token).is_admin


@pytest.mark.parametrize("role", ["superuser", "ADMIN", "", ["admin"]])
def test_a_token_with_an_unknown_role_is_rejected(role: Any) -> None:
    with pytest.raises(InvalidTokenError):
        verifier().verify(signed({"role": role}))


def test_an_alliance_token_without_alliance_id_is_rejected() -> None:
    with pytest.raises(InvalidTokenError, match="alliance_id"):
        verifier().verify(signed({"role": "alliance"}))


@pytest.mark.parametrize("missing", ["exp", "sub", "role", "aud", "iss"])
def test_a_token_missing_a_required_claim_is_rejected(missing: str) -> None:
    claims = {
        "sub": "ute",
        "role": "admin",
        "aud": "lobu",
        "iss": "lobu",
        "exp": datetime.now(UTC) + timedelta(hours=1),
    }
    del claims[missing]

    with pytest.raises(InvalidTokenError, match=missing):
        verifier().verify(jwt.encode(claims, SECRET, algorithm="HS256"))


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c", "Bearer x.y.z"])
def test_a_token_that_is_not_a_jwt_is_rejected(token: str) -> None:
    with pytest.raises(InvalidTokenError):
        verifier().verify(token)


def test_an_unsigned_token_is_rejected() -> None:
    token = jwt.encode(
        {"sub": "x", "role": "admin", "aud": "lobu", "exp": datetime.now(UTC) + timedelta(hours=1)},
        key=None,
        algorithm="none",
    )

    with pytest.raises(InvalidTokenError):
        verifier().verify(token)


def test_create_token_refuses_an_alliance_token_without_alliance_id() -> None:
    with pytest.raises(ValueError, match="alliance"):
        create_token(secret=SECRET, role=Role.ALLIANCE)


def test_a_verifier_without_a_key_cannot_be_built() -> None:
    with pytest.raises(ValueError, match="jwt_secret is not set"):
        verifier(jwt_secret="")


def test_a_token_from_another_issuer_is_rejected() -> None:
    # Defect 6: `iss` was written but never checked.
    token = create_token(secret=SECRET, role=Role.ADMIN, issuer="someone-else")

    with pytest.raises(InvalidTokenError, match=r"[Ii]ssuer"):
        verifier().verify(token)


def test_a_token_from_a_configured_issuer_is_accepted() -> None:
    token = create_token(secret=SECRET, role=Role.ADMIN, issuer="https://idp.example.org")

    assert verifier(jwt_issuer="https://idp.example.org").verify(token).is_admin
    with pytest.raises(InvalidTokenError, match=r"[Ii]ssuer"):
        verifier().verify(token)


def test_rs256_tokens_are_verified_with_the_public_key() -> None:
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = (
        private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    rs256 = verifier(jwt_algorithm="RS256", jwt_public_key=public_pem)
    claims = {
        "sub": "idp-user",
        "role": "admin",
        "aud": "lobu",
        "iss": "lobu",
        "exp": datetime.now(UTC) + timedelta(hours=1),
    }

    assert rs256.verify(jwt.encode(claims, private_key, algorithm="RS256")).subject == "idp-user"
    with pytest.raises(InvalidTokenError):
        rs256.verify(create_token(secret=SECRET, role=Role.ADMIN))


def test_an_admin_may_edit_every_alliance() -> None:
    admin = Caller(subject="s", role=Role.ADMIN)

    assert admin.may_edit_alliance("a-1")
    assert admin.may_edit_alliance("a-2")


def test_a_coordinator_may_edit_only_their_own_alliance() -> None:
    coordinator = Caller(subject="c", role=Role.ALLIANCE, alliance_id="a-1")

    assert coordinator.may_edit_alliance("a-1")
    assert not coordinator.may_edit_alliance("a-2")


def test_a_coordinator_without_alliance_may_edit_none() -> None:
    assert not Caller(subject="c", role=Role.ALLIANCE).may_edit_alliance("a-1")


# --- through a FastAPI app ---------------------------------------------------------------


def auth_app() -> FastAPI:
    app = FastAPI()
    app.state.token_verifier = TokenVerifier(ServiceSettings(**TEST_AUTH))
    install_problem_handlers(app)

    @app.get("/admin")
    async def admin_only(caller: AdminCaller) -> dict[str, str]:
        return {"subject": caller.subject}

    @app.get("/me")
    async def me(caller: CurrentCaller) -> dict[str, str | None]:
        return {
            "subject": caller.subject,
            "role": caller.role.value,
            "alliance": caller.alliance_id,
        }

    @app.get("/maybe")
    async def maybe(caller: OptionalCaller) -> dict[str, str | None]:
        return {"subject": caller.subject if caller else None}

    return app


@pytest_asyncio.fixture(loop_scope="session")
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=auth_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://shared") as http:
        yield http


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


ADMIN_TOKEN = create_token(secret=SECRET, role=Role.ADMIN, subject="servicebuero")
ALLIANCE_TOKEN = create_token(secret=SECRET, role=Role.ALLIANCE, alliance_id="a-1", subject="ute")


@pytest.mark.asyncio(loop_scope="session")
async def test_a_request_without_token_gets_401_problem_json_with_www_authenticate(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/admin")

    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.headers["www-authenticate"] == "Bearer"
    body = response.json()
    assert body["status"] == 401
    assert body["code"] == "http_401"
    assert body["title"] == "Unauthorized"
    assert "bearer token" in body["detail"]


@pytest.mark.asyncio(loop_scope="session")
async def test_a_request_with_a_bad_token_gets_401_naming_invalid_token(
    client: httpx.AsyncClient,
) -> None:
    forged = create_token(secret="not-the-secret-but-long-enough-anyway", role=Role.ADMIN)

    response = await client.get("/me", headers=bearer(forged))

    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM_JSON
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    assert response.json()["detail"].startswith("Invalid bearer token")


@pytest.mark.asyncio(loop_scope="session")
async def test_a_bad_token_is_refused_even_where_a_token_is_optional(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/maybe", headers=bearer("garbage"))

    assert response.status_code == 401


@pytest.mark.asyncio(loop_scope="session")
async def test_an_optional_caller_is_none_without_token(client: httpx.AsyncClient) -> None:
    response = await client.get("/maybe")

    assert response.status_code == 200
    assert response.json() == {"subject": None}


@pytest.mark.asyncio(loop_scope="session")
async def test_an_alliance_token_on_an_admin_route_gets_403(client: httpx.AsyncClient) -> None:
    response = await client.get("/admin", headers=bearer(ALLIANCE_TOKEN))

    assert response.status_code == 403
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["code"] == "http_403"
    assert "admin" in response.json()["detail"]


@pytest.mark.asyncio(loop_scope="session")
async def test_an_admin_token_on_an_admin_route_gets_200(client: httpx.AsyncClient) -> None:
    response = await client.get("/admin", headers=bearer(ADMIN_TOKEN))

    assert response.status_code == 200
    assert response.json() == {"subject": "servicebuero"}


@pytest.mark.asyncio(loop_scope="session")
async def test_any_valid_token_names_the_current_caller(client: httpx.AsyncClient) -> None:
    response = await client.get("/me", headers=bearer(ALLIANCE_TOKEN))

    assert response.status_code == 200
    assert response.json() == {"subject": "ute", "role": "alliance", "alliance": "a-1"}
