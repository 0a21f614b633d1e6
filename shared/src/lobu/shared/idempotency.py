"""Idempotency-Key on POST (draft-ietf-httpapi-idempotency-key-header-07).

A client that may retry a POST sends `Idempotency-Key: "<unique value>"` (a
structured-field string; a bare token, Stripe's style, is accepted too). Every POST
route of a `ServiceRouter` then answers:

- the first request with that key: runs as usual; its response (any status below
  500) is stored with a fingerprint of the request (method, path, query, body);
- the same key and the same request again: the stored response, replayed byte for
  byte with `Idempotent-Replayed: true`; the route does not run again;
- the same key with another request: 422 problem+json (`idempotency_key_reused`);
- the same key while the first request still runs: 409 problem+json
  (`idempotency_key_in_use`); the client retries later.

Keys belong to the caller (the token's role and subject; callers without a token
share one scope) and live for `idempotency_key_retention` (a day); the retention job
deletes them. A request that ends in an error the route raised (a 4xx problem, a
500) stores nothing, so a retry runs again: it had no effect to repeat.

The claim is one `INSERT … ON CONFLICT DO NOTHING` on the key, committed before the
route runs, so of two processes on one PostgreSQL database exactly one runs the
request. A process that dies while it runs leaves the key claimed until its lease
(`CLAIM_LEASE`) ends; then a retry runs it again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi import Request, Response
from sqlalchemy import ColumnElement, and_, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from lobu.shared.auth import Caller, authenticate
from lobu.shared.clock import Clock, as_utc, utc_now
from lobu.shared.database import insert_ignoring_duplicates
from lobu.shared.errors import LobuError
from lobu.shared.idempotency_keys import IdempotencyKey

__all__ = [
    "CLAIM_LEASE",
    "IDEMPOTENCY_HEADER",
    "IdempotencyKeyInUseError",
    "IdempotencyKeyReusedError",
    "IdempotencyStore",
    "InvalidIdempotencyKeyError",
    "parse_idempotency_key",
    "respond_idempotently",
]

IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
# How long a claimed key waits for its request before a retry may run it again.
CLAIM_LEASE = timedelta(seconds=60)
MAX_KEY_LENGTH = 255

Handler = Callable[[Request], Awaitable[Response]]


class InvalidIdempotencyKeyError(LobuError):
    """The Idempotency-Key header is not a usable key (400)."""

    code = "idempotency_key_invalid"
    status = 400
    title = "Invalid Idempotency-Key"


class IdempotencyKeyReusedError(LobuError):
    """The key was used before for another request (422, as the draft says)."""

    code = "idempotency_key_reused"
    status = 422
    title = "Idempotency-Key reused"


class IdempotencyKeyInUseError(LobuError):
    """The first request with this key is still running (409, as the draft says)."""

    code = "idempotency_key_in_use"
    status = 409
    title = "Idempotency-Key in use"


def parse_idempotency_key(value: str) -> str:
    """The key of a header value: an sf-string (`"abc"`) or a bare token (`abc`)."""
    value = value.strip()
    if len(value) >= 2 and value.startswith('"') and value.endswith('"'):
        inner, key = value[1:-1], []
        escaped = False
        for char in inner:
            if escaped:
                if char not in '"\\':
                    raise InvalidIdempotencyKeyError("Idempotency-Key: a bad escape in the string")
                key.append(char)
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                raise InvalidIdempotencyKeyError("Idempotency-Key: a quote inside the string")
            else:
                key.append(char)
        if escaped:
            raise InvalidIdempotencyKeyError("Idempotency-Key: the string ends in a backslash")
        parsed = "".join(key)
    else:
        parsed = value
        if any(char in parsed for char in ' "\\,;'):
            raise InvalidIdempotencyKeyError(
                'Idempotency-Key must be a string such as "8e03978e-40d5-43e8-bc93-6894a57f9324"'
            )
    if not parsed or len(parsed) > MAX_KEY_LENGTH:
        raise InvalidIdempotencyKeyError(
            f"Idempotency-Key must have 1 to {MAX_KEY_LENGTH} characters"
        )
    if not all(" " <= char <= "~" for char in parsed):
        raise InvalidIdempotencyKeyError("Idempotency-Key must be printable ASCII")
    return parsed


@dataclass(frozen=True)
class StoredResponse:
    """A response as it was sent: status, raw headers, body."""

    status_code: int
    headers: list[tuple[str, str]]
    body: bytes

    def to_response(self) -> Response:
        """The response again, marked as a replay."""
        response = Response(content=self.body, status_code=self.status_code)
        response.raw_headers = [
            (name.encode("latin-1"), value.encode("latin-1")) for name, value in self.headers
        ] + [(REPLAYED_HEADER.lower().encode(), b"true")]
        return response


@dataclass(frozen=True)
class Claim:
    """This process runs the request with the key; `lease` tells its claim from a later one."""

    scope: str
    key: str
    lease: datetime


class IdempotencyStore:
    """The service database's record of Idempotency-Keys and their responses."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        retention: timedelta = timedelta(days=1),
        lease: timedelta = CLAIM_LEASE,
        clock: Clock = utc_now,
    ) -> None:
        self._sessions = sessions
        self._retention = retention
        self._lease = lease
        self._clock = clock

    async def begin(self, scope: str, key: str, fingerprint: str) -> Claim | StoredResponse:
        """Claim the key for this request, or return the response to replay.

        Raises `IdempotencyKeyReusedError` (another request had the key) or
        `IdempotencyKeyInUseError` (its first request still runs).
        """
        while True:
            now = self._clock()
            lease = now + self._lease
            async with self._sessions() as session, session.begin():
                inserted = await session.execute(
                    insert_ignoring_duplicates(
                        session, IdempotencyKey, scope=scope, key=key,
                        fingerprint=fingerprint, created_at=now, locked_until=lease,
                    ).returning(col(IdempotencyKey.key))
                )  # fmt: skip
                if inserted.first() is not None:
                    return Claim(scope, key, lease)
                row = await session.scalar(
                    select(IdempotencyKey).where(
                        col(IdempotencyKey.scope) == scope, col(IdempotencyKey.key) == key
                    )
                )
                if row is None:
                    continue  # the retention job deleted it in between: claim again
                outcome = await self._decide(session, row, fingerprint, now, lease)
            if outcome is not None:
                return outcome

    async def _decide(
        self,
        session: AsyncSession,
        row: IdempotencyKey,
        fingerprint: str,
        now: datetime,
        lease: datetime,
    ) -> Claim | StoredResponse | None:
        expired = as_utc(row.created_at) <= now - self._retention
        abandoned = row.locked_until is not None and as_utc(row.locked_until) <= now
        if not expired and row.fingerprint != fingerprint:
            raise IdempotencyKeyReusedError(
                "This Idempotency-Key was used for another request (another body, path or "
                "method); send a new key for a new request."
            )
        if expired or abandoned:
            # Take the key over, unless another retry did so first (compare and set).
            taken = await session.execute(
                update(IdempotencyKey)
                .where(
                    col(IdempotencyKey.scope) == row.scope,
                    col(IdempotencyKey.key) == row.key,
                    col(IdempotencyKey.created_at) == row.created_at,
                    col(IdempotencyKey.locked_until).is_(None)
                    if row.locked_until is None
                    else col(IdempotencyKey.locked_until) == row.locked_until,
                )
                .values(
                    fingerprint=fingerprint, created_at=now, locked_until=lease,
                    status_code=None, response_headers=None, response_body=None,
                )
                .returning(col(IdempotencyKey.key))
            )  # fmt: skip
            return Claim(row.scope, row.key, lease) if taken.first() is not None else None
        if row.locked_until is not None or row.status_code is None:
            raise IdempotencyKeyInUseError(
                "A request with this Idempotency-Key is still being processed; retry later."
            )
        return StoredResponse(
            status_code=row.status_code,
            headers=[(str(name), str(value)) for name, value in row.response_headers or []],
            body=row.response_body or b"",
        )

    async def complete(self, claim: Claim, response: StoredResponse) -> None:
        """Store the response of the claimed request; from now on it is replayed."""
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(IdempotencyKey)
                .where(_owned(claim))
                .values(
                    locked_until=None,
                    status_code=response.status_code,
                    response_headers=[list(header) for header in response.headers],
                    response_body=response.body,
                )
            )

    async def release(self, claim: Claim) -> None:
        """Forget the claim: the request had no response to keep, a retry runs it again."""
        async with self._sessions() as session, session.begin():
            await session.execute(delete(IdempotencyKey).where(_owned(claim)))


def _owned(claim: Claim) -> ColumnElement[bool]:
    return and_(
        col(IdempotencyKey.scope) == claim.scope,
        col(IdempotencyKey.key) == claim.key,
        col(IdempotencyKey.locked_until) == claim.lease,
    )


def _fingerprint(request: Request, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (request.method, request.url.path, request.url.query):
        digest.update(part.encode("utf-8", "surrogateescape") + b"\x00")
    digest.update(body)
    return digest.hexdigest()


def _scope(request: Request) -> str:
    # A route that needs a caller has authenticated it already; on the others a token
    # is optional, and one that came along is verified here (401 if bad, as the route would).
    caller: Caller | None = None
    if request.headers.get("Authorization"):
        caller = authenticate(request, admin=False)
    if caller is None:
        return "anonymous"
    return f"{caller.role.value}:{caller.subject}"[:200]


async def respond_idempotently(
    request: Request, handler: Handler, store: IdempotencyStore
) -> Response:
    """Run `handler` once per Idempotency-Key and request; replay its response after."""
    key = parse_idempotency_key(request.headers[IDEMPOTENCY_HEADER])
    body = await request.body()  # kept by the request: the handler reads it again
    outcome = await store.begin(_scope(request), key, _fingerprint(request, body))
    if isinstance(outcome, StoredResponse):
        return outcome.to_response()
    try:
        response = await handler(request)
    except Exception:
        await store.release(outcome)
        raise
    content = getattr(response, "body", None)
    if response.status_code >= 500 or not isinstance(content, bytes):
        await store.release(outcome)  # nothing to replay (an error, a stream)
        return response
    headers = [
        (name.decode("latin-1"), value.decode("latin-1")) for name, value in response.raw_headers
    ]
    await store.complete(outcome, StoredResponse(response.status_code, headers, content))
    return response
