"""A service's part in the privacy flow: find or erase one address's data, then answer.

The directory owns privacy requests (docs/architecture.md, "Privacy"); it publishes
each on `privacy.request`. Every service holding personal data implements a
`PersonalDataHandler` (what it holds of an address, and how it erases it) and calls
`subscribe_to_privacy_requests`: its own reliable consumer group then reads the
requests, runs the handler and writes the answer to the outbox, in one transaction with
the inbox entry, so a request is answered exactly once however often it is read.

An address is compared in its normalised form (trimmed, lower case). Where lobu must
remember an address it erased (the audit, a suppression entry), it keeps the keyed
hash of `AddressHasher` instead: equal for equal addresses, useless without the secret.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any, Protocol

from pydantic_core import to_jsonable_python
from sqlalchemy.ext.asyncio import AsyncSession

from lobu.shared.consumer import EventHandler
from lobu.shared.contracts.base import read_event_data
from lobu.shared.contracts.privacy import (
    PRIVACY_ANSWERED,
    PRIVACY_REQUESTED,
    PrivacyAnswered,
    PrivacyRequested,
)
from lobu.shared.contracts.registry import definition_for
from lobu.shared.envelope import Envelope
from lobu.shared.outbox import add_event
from lobu.shared.runtime import ServiceRuntime
from lobu.shared.settings import ServiceSettings
from lobu.shared.topics import PRIVACY_REQUEST

__all__ = [
    "AddressHasher",
    "ErasedCounts",
    "FoundRecords",
    "PersonalDataHandler",
    "normalise_address",
    "privacy_request_handler",
    "subscribe_to_privacy_requests",
]

# What a service holds of an address, per category (e.g. "contacts"): JSON records.
FoundRecords = dict[str, list[dict[str, Any]]]
# How many records of each category an erasure removed or anonymised.
ErasedCounts = dict[str, int]


def normalise_address(email: str) -> str:
    """The form in which addresses are compared: trimmed, lower case."""
    return email.strip().lower()


class AddressHasher:
    """The keyed hash (HMAC-SHA256) that stands for an address where it may not be kept."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the privacy hash secret needs at least 16 bytes")
        self._secret = secret

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> AddressHasher:
        """The configured `privacy_hash_secret`, else a key derived from the JWT secret."""
        if settings.privacy_hash_secret is not None:
            return cls(settings.privacy_hash_secret.get_secret_value().encode())
        base = settings.jwt_secret or settings.jwt_public_key or ""
        return cls(hashlib.sha256(b"lobu-privacy-hash:" + base.encode()).digest())

    def hash(self, email: str) -> str:
        """64 hex digits; the same for the same address in any spelling of case."""
        digest = hmac.new(self._secret, normalise_address(email).encode(), hashlib.sha256)
        return digest.hexdigest()


class PersonalDataHandler(Protocol):
    """What one service holds of an address, and how it erases it.

    Both run inside the consumer's transaction; the answer is written in it too.
    `email` comes normalised. `erase` must be idempotent (a second run erases nothing
    and says so) and must not publish the address again: its events say what changed
    without it.
    """

    async def find(self, session: AsyncSession, email: str) -> FoundRecords:
        """The records holding `email`, per category (JSON-ready values)."""
        ...

    async def erase(self, session: AsyncSession, email: str) -> ErasedCounts:
        """Remove or irreversibly anonymise every record of `email`; counts per category."""
        ...


def privacy_request_handler(
    service: str, handler: PersonalDataHandler, *, source: str
) -> EventHandler:
    """The consumer's handler of `privacy.request` for `service`."""

    async def handle(session: AsyncSession, envelope: Envelope) -> None:
        request = read_event_data(PrivacyRequested, envelope.data)
        email = normalise_address(str(request.email))
        if request.kind == "access":
            found = to_jsonable_python(await handler.find(session, email))
            answer = PrivacyAnswered(
                request_id=request.request_id, service=service, kind="access", found=found
            )
        else:
            erased = await handler.erase(session, email)
            answer = PrivacyAnswered(
                request_id=request.request_id, service=service, kind="erasure", erased=erased
            )
        add_event(
            session,
            event_type=PRIVACY_ANSWERED,
            source=source,
            subject=request.request_id,  # all answers of a request on one partition
            data=answer,
        )

    return handle


def subscribe_to_privacy_requests(runtime: ServiceRuntime, handler: PersonalDataHandler) -> None:
    """Answer privacy requests with `handler`, in a consumer group of their own.

    A group of its own (`<service>-privacy`), so a backlog of mail or replicas never
    delays a request, and a request never waits behind them.
    """
    runtime.declare_publications([definition_for(PRIVACY_ANSWERED)])
    runtime.add_consumer(
        name=f"{runtime.service}-privacy",
        topics=[PRIVACY_REQUEST],
        handlers={
            PRIVACY_REQUESTED: privacy_request_handler(
                runtime.service, handler, source=runtime.source
            )
        },
    )
