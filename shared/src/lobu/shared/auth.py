"""Bearer-token authentication: JWTs verified with PyJWT, roles `admin` and `alliance`.

The dependencies are `async def` although they never wait: FastAPI runs a plain `def`
dependency in its thread pool, a hop that cost a search request more than its query.

Locally tokens are HS256 with a shared secret (`lobu token` prints one); in
production RS256 with the identity provider's public key. Every token must name the
configured issuer (`iss`, "lobu" by default) and audience.

Routes that need a caller are authenticated before their body is read: see
`lobu.shared.routing.GuardedRoute`, which calls `authenticate` with the same rules as
the dependencies here and leaves the caller on the request for them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

import jwt
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param

from lobu.shared.settings import ServiceSettings

ISSUER = "lobu"
# Where GuardedRoute leaves the caller it verified before the body was read.
_CALLER_STATE = "lobu_caller"


class Role(StrEnum):
    """What a caller may do: Servicebüro staff, or one alliance's coordinator."""

    ADMIN = "admin"
    ALLIANCE = "alliance"


@dataclass(frozen=True)
class Caller:
    """The verified bearer of a token."""

    subject: str
    role: Role
    alliance_id: str | None = None

    @property
    def is_admin(self) -> bool:
        """True for Servicebüro staff."""
        return self.role is Role.ADMIN

    def may_edit_alliance(self, alliance_id: str) -> bool:
        """Admins edit every alliance; a coordinator only their own."""
        return self.is_admin or (self.role is Role.ALLIANCE and self.alliance_id == alliance_id)


class InvalidTokenError(Exception):
    """The token is missing a claim, expired, forged or otherwise unusable."""


class TokenVerifier:
    """Checks signature, expiry, audience and the lobu claims of a token."""

    def __init__(self, settings: ServiceSettings) -> None:
        self._algorithm = settings.jwt_algorithm
        key = settings.jwt_public_key if self._algorithm == "RS256" else settings.jwt_secret
        if not key:
            raise ValueError(f"no key configured for {self._algorithm} tokens")
        self._key: str = key
        self._audience = settings.jwt_audience
        self._issuer = settings.jwt_issuer

    def verify(self, token: str) -> Caller:
        """The caller a valid token names; InvalidTokenError says what is wrong."""
        return caller_of(self.claims(token))

    def claims(self, token: str, *, require: tuple[str, ...] = ()) -> dict[str, Any]:
        """The claims of a valid token, which must also carry `require`."""
        try:
            return jwt.decode(
                token,
                self._key,
                algorithms=[self._algorithm],
                audience=self._audience,
                issuer=self._issuer,
                options={"require": ["exp", "sub", "role", "iss", "aud", *require]},
            )
        except jwt.PyJWTError as error:
            raise InvalidTokenError(str(error)) from error


def caller_of(claims: dict[str, Any]) -> Caller:
    """The caller that verified claims name; InvalidTokenError for unusable ones."""
    try:
        role = Role(claims["role"])
    except ValueError:
        raise InvalidTokenError(f"unknown role {claims['role']!r}") from None
    alliance_id = claims.get("alliance_id")
    if alliance_id is not None and not isinstance(alliance_id, str):
        raise InvalidTokenError("the claim alliance_id must be a string")
    if role is Role.ALLIANCE and not alliance_id:
        raise InvalidTokenError("an alliance token needs the claim alliance_id")
    return Caller(subject=str(claims["sub"]), role=role, alliance_id=alliance_id)


def create_token(
    *,
    secret: str,
    role: Role,
    alliance_id: str | None = None,
    subject: str = "developer",
    audience: str = "lobu",
    issuer: str = ISSUER,
    lifetime: timedelta = timedelta(hours=12),
) -> str:
    """Sign an HS256 token for local development and tests."""
    if role is Role.ALLIANCE and not alliance_id:
        raise ValueError("an alliance token needs --alliance-id")
    now = datetime.now(UTC)
    claims: dict[str, object] = {
        "iss": issuer,
        "aud": audience,
        "sub": subject,
        "role": role.value,
        "iat": now,
        "exp": now + lifetime,
        "jti": str(uuid.uuid4()),
    }
    if alliance_id:
        claims["alliance_id"] = alliance_id
    return jwt.encode(claims, secret, algorithm="HS256")


_bearer = HTTPBearer(auto_error=False, description="A lobu JWT (`lobu token --role admin`)")

_NO_TOKEN = "This request needs a bearer token (Authorization: Bearer <JWT>)."  # noqa: S105


def _unauthorized(detail: str, *, invalid: bool) -> HTTPException:
    challenge = 'Bearer error="invalid_token"' if invalid else "Bearer"
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail=detail, headers={"WWW-Authenticate": challenge}
    )


def _verified(request: Request, token: str) -> Caller:
    verifier: TokenVerifier = request.app.state.token_verifier
    try:
        caller = verifier.verify(token)
    except InvalidTokenError as error:
        raise _unauthorized(f"Invalid bearer token: {error}", invalid=True) from error
    setattr(request.state, _CALLER_STATE, caller)
    return caller


def _require_admin(caller: Caller) -> Caller:
    if not caller.is_admin:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="This request needs the role admin.")
    return caller


def authenticate(request: Request, *, admin: bool) -> Caller:
    """The caller of `request` from its Authorization header; 401 or 403 as the routes answer.

    Reads headers only, never the body, so it can run before the body is received.
    """
    scheme, token = get_authorization_scheme_param(request.headers.get("Authorization"))
    if scheme.lower() != "bearer" or not token:
        raise _unauthorized(_NO_TOKEN, invalid=False)
    caller = _verified(request, token)
    return _require_admin(caller) if admin else caller


async def optional_caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller | None:
    """The caller when a valid token came along, None without one; 401 for a bad one."""
    known: Caller | None = getattr(request.state, _CALLER_STATE, None)
    if known is not None:
        return known
    if credentials is None:
        return None
    return _verified(request, credentials.credentials)


async def required_caller(caller: Annotated[Caller | None, Depends(optional_caller)]) -> Caller:
    """The caller; 401 without a token."""
    if caller is None:
        raise _unauthorized(_NO_TOKEN, invalid=False)
    return caller


async def admin_caller(caller: Annotated[Caller, Depends(required_caller)]) -> Caller:
    """The caller, who must be Servicebüro staff; 403 otherwise."""
    return _require_admin(caller)


OptionalCaller = Annotated[Caller | None, Depends(optional_caller)]
CurrentCaller = Annotated[Caller, Depends(required_caller)]
AdminCaller = Annotated[Caller, Depends(admin_caller)]
