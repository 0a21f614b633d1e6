"""Privacy requests: entered by the Servicebüro, fanned out, joined from the answers.

A request is stored and published (`privacy.request`) in one transaction; the address
travels in the event only and is never stored here (the outbox forgets its copy once
published). Each service answers on `privacy.answer`; `on_answer` records an answer
under a row lock of its request (`SELECT ... FOR UPDATE` on PostgreSQL), so that
answers handled at the same moment by several consumer processes see each other and
exactly one of them completes the request; the answers' primary key takes each
service's answer once.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from lobu.directory.privacy_models import PrivacyAnswer, PrivacyRequest
from lobu.shared import (
    Caller,
    Envelope,
    LobuError,
    add_event,
    read_event_data,
    transaction,
    utc_now,
)
from lobu.shared.contracts.privacy import (
    PRIVACY_REQUESTED,
    PrivacyAnswered,
    PrivacyKind,
    PrivacyRequested,
)
from lobu.shared.privacy import AddressHasher

logger = logging.getLogger(__name__)

PENDING = "pending"
DONE = "done"


class PrivacyRequestNotFoundError(LobuError):
    """No privacy request has that id."""

    code = "privacy_request_not_found"
    status = 404
    title = "Privacy request not found"


class PrivacyExportNotAvailableError(LobuError):
    """An erasure request has nothing to export."""

    code = "privacy_export_not_available"
    status = 404
    title = "No export"


@dataclass(frozen=True)
class RequestStatus:
    """A request with its answers, as the API and the page show it."""

    request: PrivacyRequest
    answers: dict[str, PrivacyAnswer]

    @property
    def services(self) -> dict[str, str]:
        """Every asked service's state: done once it answered."""
        return {name: DONE if name in self.answers else PENDING for name in self.request.services}

    def export_document(self) -> dict[str, Any]:
        """The access request's export: everything found, per service and category."""
        return {
            "request_id": self.request.id,
            "kind": self.request.kind,
            "state": self.request.state,
            "requested_at": self.request.created_at,
            "completed_at": self.request.completed_at,
            "services": {
                name: (answer.export or {}) for name, answer in sorted(self.answers.items())
            },
        }


class PrivacyRequests:
    """Enters, shows and completes privacy requests."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        source: str,
        hasher: AddressHasher,
        services: list[str],
    ) -> None:
        self.sessions = sessions
        self._source = source
        self._hasher = hasher
        self._services = sorted(set(services))

    async def submit(self, email: str, kind: PrivacyKind, *, actor: Caller) -> RequestStatus:
        """Store the request and publish it to every service holding personal data."""
        request = PrivacyRequest(
            id=str(uuid.uuid4()),
            kind=kind,
            address_hash=self._hasher.hash(email),
            requested_by=actor.subject,
            services=self._services,
        )
        async with transaction(self.sessions) as session:
            session.add(request)
            await session.flush()
            add_event(
                session,
                event_type=PRIVACY_REQUESTED,
                source=self._source,
                subject=request.id,
                data=PrivacyRequested(request_id=request.id, kind=kind, email=email),
            )
        return RequestStatus(request=request, answers={})

    async def status(self, request_id: str) -> RequestStatus:
        """The request and its answers; 404 for an unknown id."""
        async with self.sessions() as session:
            request = await session.get(PrivacyRequest, request_id)
            if request is None:
                raise PrivacyRequestNotFoundError(f"There is no privacy request {request_id!r}.")
            answers = await session.scalars(
                select(PrivacyAnswer).where(col(PrivacyAnswer.request_id) == request_id)
            )
            return RequestStatus(request=request, answers={a.service: a for a in answers})

    async def recent(self, *, limit: int = 100) -> list[PrivacyRequest]:
        """The latest requests, newest first (the audit list)."""
        async with self.sessions() as session:
            rows = await session.scalars(
                select(PrivacyRequest).order_by(col(PrivacyRequest.created_at).desc()).limit(limit)
            )
            return list(rows)

    async def on_answer(self, session: AsyncSession, envelope: Envelope) -> None:
        """Record one service's answer; the last of them completes the request."""
        answer = read_event_data(PrivacyAnswered, envelope.data)
        request = await session.get(
            PrivacyRequest, answer.request_id, with_for_update=True, populate_existing=True
        )
        if request is None:
            logger.warning("answer to an unknown privacy request; ignored")
            return
        if await session.get(PrivacyAnswer, (answer.request_id, answer.service)) is not None:
            return
        if answer.kind == "access":
            counts = {category: len(records) for category, records in answer.found.items()}
            export: dict[str, list[dict[str, Any]]] | None = dict(answer.found)
        else:
            counts, export = dict(answer.erased), None
        session.add(
            PrivacyAnswer(
                request_id=answer.request_id, service=answer.service, counts=counts, export=export
            )
        )
        await session.flush()
        answered = set(
            await session.scalars(
                select(col(PrivacyAnswer.service)).where(
                    col(PrivacyAnswer.request_id) == answer.request_id
                )
            )
        )
        if request.state == PENDING and answered >= set(request.services):
            request.state = DONE
            request.completed_at = utc_now()
            logger.info("privacy request %s done", request.id)
