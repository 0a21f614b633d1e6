"""Sign-in without passwords: a one-time link by mail, then a session cookie.

A person enters their address. If it is on the Servicebüro's staff list (setting
`staff_emails`, role admin) or a contact of an alliance (role alliance), the
directory stores the SHA-256 of a new random secret and publishes
`sign-in-link.requested` on the internal topic; notifications mails the link. Every
request gets the same answer, whether the address is known or not. Rate limits per
address and per client (rate_limits.py) hold across processes.

Following the link deletes its row in the statement that reads it, so it works once,
also when two clicks race. Who the person is gets checked again then (a contact
removed in the meantime gets no session). The session is a short-lived token of the
same kind as the API's (lobu.shared.web_sessions), for one alliance at a time: a
contact of several alliances switches between them. Every step is audited with the
address's keyed hash, never the address.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from lobu.directory.contact_lookup import alliances_with_contact
from lobu.directory.models import Alliance
from lobu.directory.rate_limits import hashed_key, over_limit
from lobu.directory.settings import DirectorySettings
from lobu.directory.sign_in_models import SignInAuditEntry, SignInLink
from lobu.shared import Role, add_event, as_utc, transaction, utc_now
from lobu.shared.contracts.directory import SIGN_IN_LINK_REQUESTED, SignInLinkRequested
from lobu.shared.privacy import AddressHasher, normalise_address
from lobu.shared.web_sessions import BrowserSession, PageLinks, SessionIssuer

logger = logging.getLogger(__name__)


class SignInRefusedError(Exception):
    """The link is unknown, used, expired, or names someone who may no longer sign in."""


class SignInRateLimitedError(Exception):
    """Too many link requests for this address or from this client in the window."""


@dataclass(frozen=True)
class SignedIn:
    """A new session: the cookie's token, what it says, and where to go next."""

    token: str
    session: BrowserSession
    next_url: str


@dataclass(frozen=True)
class Membership:
    """An alliance the signed-in address is a contact of."""

    alliance_id: str
    name: str


class SignIns:
    """The sign-in use cases; built once in main.py."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        source: str,
        settings: DirectorySettings,
        hasher: AddressHasher,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._sessions = sessions
        self._source = source
        self._settings = settings
        self._hasher = hasher
        self._clock = clock
        self._links = PageLinks.from_settings(settings)
        private_key = settings.jwt_private_key
        self._issuer = SessionIssuer(
            settings, private_key=private_key.get_secret_value() if private_key else None
        )
        self._staff = {normalise_address(address) for address in settings.staff_emails}

    async def request_link(self, email: str, *, client: str, next_url: str | None) -> None:
        """Send a link if the address is known; the same outcome for the caller either way.

        Raises SignInRateLimitedError over either limit (nothing is sent then).
        """
        address = normalise_address(email)
        now = self._clock()
        limits = {
            f"sign-in-address:{hashed_key('sign-in', address)}": (
                self._settings.sign_in_limit_per_address
            ),
            f"sign-in-client:{hashed_key('sign-in-client', client)}": (
                self._settings.sign_in_limit_per_client
            ),
        }
        address_hash = self._hasher.hash(address)
        async with transaction(self._sessions) as session:
            limited = await over_limit(
                session, limits, now=now, window_seconds=self._settings.sign_in_window_seconds
            )
            if limited is None:
                sent = await self._send_link(session, address, now=now, next_url=next_url)
                action = "link_sent" if sent else "link_not_sent"
                self._audit(session, action, now=now, client=client, address_hash=address_hash)
            else:  # the count past the limit stays past it: nothing to roll back
                self._audit(
                    session, "rate_limited", now=now, client=client, address_hash=address_hash,
                    limited=limited.split(":")[0],
                )  # fmt: skip
        if limited is not None:
            raise SignInRateLimitedError

    async def follow(self, secret: str) -> SignedIn:
        """Use a link once: the new session, or SignInRefusedError."""
        now = self._clock()
        table = SignInLink.__table__  # type: ignore[attr-defined]
        async with transaction(self._sessions) as session:
            row = (
                await session.execute(
                    delete(table).where(table.c.token_hash == _digest(secret)).returning(table)
                )
            ).first()
            signed_in = None
            if row is not None and as_utc(row.expires_at) > now:
                signed_in = await self._start(session, row, now=now)
            if signed_in is None:
                self._audit(session, "link_refused", now=now, known=row is not None)
        if signed_in is None:
            raise SignInRefusedError
        return signed_in

    async def memberships(self, email: str) -> list[Membership]:
        """The alliances `email` is a contact of now, by name."""
        async with self._sessions() as session:
            alliances = await alliances_with_contact(session, normalise_address(email))
        return sorted(
            (Membership(alliance.id, alliance.name) for alliance in alliances),
            key=lambda membership: (membership.name.casefold(), membership.alliance_id),
        )

    async def switch(self, current: BrowserSession, alliance_id: str) -> SignedIn:
        """A session for another alliance of the same contact; SignInRefusedError if not one."""
        if current.caller.role is not Role.ALLIANCE:
            raise SignInRefusedError
        now = self._clock()
        if alliance_id not in {m.alliance_id for m in await self.memberships(current.email)}:
            raise SignInRefusedError
        async with transaction(self._sessions) as session:
            signed_in = self._issue(current.email, Role.ALLIANCE, alliance_id, now=now)
            self._audit(session, "alliance_switched", now=now, signed_in=signed_in)
        return SignedIn(
            signed_in.token, signed_in.session, f"{self._links.directory}/mein-buendnis"
        )

    async def sign_out(self, current: BrowserSession | None) -> None:
        """Record the end of a session (the cookie is cleared by the page)."""
        if current is None:
            return
        async with transaction(self._sessions) as session:
            self._audit(
                session, "signed_out", now=self._clock(),
                address_hash=self._hasher.hash(current.email), role=current.caller.role.value,
                alliance_id=current.caller.alliance_id, session_id=current.session_id,
            )  # fmt: skip

    async def _send_link(
        self, session: AsyncSession, address: str, *, now: datetime, next_url: str | None
    ) -> bool:
        staff = address in self._staff
        alliances = [] if staff else await alliances_with_contact(session, address)
        if not staff and not alliances:
            return False
        secret = secrets.token_urlsafe(32)
        expires = now + timedelta(minutes=self._settings.sign_in_link_minutes)
        session.add(
            SignInLink(
                token_hash=_digest(secret), email=address,
                role=(Role.ADMIN if staff else Role.ALLIANCE).value,
                alliance_ids=[alliance.id for alliance in alliances],
                next_url=self.safe_next(next_url), created_at=now, expires_at=expires,
            )
        )  # fmt: skip
        add_event(
            session,
            event_type=SIGN_IN_LINK_REQUESTED,
            source=self._source,
            subject=str(uuid.uuid4()),
            data=SignInLinkRequested(
                request_id=str(uuid.uuid4()), email=address,
                link=f"{self._links.directory}/anmelden/{secret}", expires_at=expires,
                requested_at=now, staff=staff,
                alliance_names=sorted(alliance.name for alliance in alliances)[:20],
            ),
        )  # fmt: skip
        return True

    async def _start(self, session: AsyncSession, link: Any, *, now: datetime) -> SignedIn | None:
        """The session a valid link opens, if its person may still sign in."""
        role = Role(link.role)
        alliance_id = None
        if role is Role.ADMIN:
            if link.email not in self._staff:
                return None
        else:
            alliances = await alliances_with_contact(session, link.email)
            if not alliances:
                return None
            alliance_id = min(alliances, key=_by_name).id
        signed_in = self._issue(link.email, role, alliance_id, now=now)
        self._audit(session, "signed_in", now=now, signed_in=signed_in)
        landing = "verwaltung" if role is Role.ADMIN else "mein-buendnis"
        next_url = link.next_url or f"{self._links.directory}/{landing}"
        return SignedIn(signed_in.token, signed_in.session, next_url)

    def _issue(self, email: str, role: Role, alliance_id: str | None, *, now: datetime) -> SignedIn:
        token, browser_session = self._issuer.issue(
            subject=f"person:{self._hasher.hash(email)[:16]}", role=role, email=email,
            alliance_id=alliance_id, lifetime=timedelta(minutes=self._settings.session_minutes),
            now=now,
        )  # fmt: skip
        return SignedIn(token, browser_session, "")

    def safe_next(self, url: str | None) -> str | None:
        """`url` if it leads to one of the platform's pages (no open redirect), else None."""
        if not url or len(url) > 500:
            return None
        links = self._links
        for base in (links.directory, links.surveys, links.events, links.notifications):
            if url == base or url.startswith(f"{base}/"):
                return url
        return None

    def _audit(
        self,
        session: AsyncSession,
        action: str,
        *,
        now: datetime,
        signed_in: SignedIn | None = None,
        client: str | None = None,
        **values: Any,
    ) -> None:
        entry = SignInAuditEntry(at=now, action=action)
        if signed_in is not None:
            caller = signed_in.session.caller
            entry.address_hash = self._hasher.hash(signed_in.session.email)
            entry.role = caller.role.value
            entry.alliance_id = caller.alliance_id
            entry.session_id = signed_in.session.session_id
        if client is not None:
            entry.client_hash = hashed_key("sign-in-client", client)
        for name in ("address_hash", "role", "alliance_id", "session_id"):
            if name in values:
                setattr(entry, name, values.pop(name))
        entry.details = values
        session.add(entry)
        logger.info("sign-in: %s (role %s, alliance %s)", action, entry.role, entry.alliance_id)

    async def audit_entries(self, *, limit: int = 200) -> list[SignInAuditEntry]:
        """The newest audit entries first."""
        async with self._sessions() as session:
            rows = await session.scalars(
                select(SignInAuditEntry).order_by(col(SignInAuditEntry.id).desc()).limit(limit)
            )
            return list(rows)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _by_name(alliance: Alliance) -> tuple[str, str]:
    return (alliance.name.casefold(), alliance.id)
