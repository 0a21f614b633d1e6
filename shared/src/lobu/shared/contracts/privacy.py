"""The privacy flow: a request for one address fans out, every service answers.

The directory (the Servicebüro's hub) owns privacy requests. `privacy.request` carries
the address to every service holding personal data; each answers on `privacy.answer`
with what it found (access) or how much it erased (erasure). Both topics are internal
and carry personal data (the address, the found records): `personal_data` makes the
outbox forget a row's copy once Kafka has it.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import EmailStr, Field

from lobu.shared.contracts.base import ContractModel, EventDefinition
from lobu.shared.topics import PRIVACY_ANSWER, PRIVACY_REQUEST

PRIVACY_REQUESTED = "lobu.privacy.request.submitted.v1"
PRIVACY_ANSWERED = "lobu.privacy.answer.given.v1"

PrivacyKind = Literal["access", "erasure"]


class PrivacyRequested(ContractModel):
    """The Servicebüro asked what lobu holds about `email` (access) or to erase it."""

    request_id: str = Field(max_length=64)
    kind: PrivacyKind
    email: EmailStr


class PrivacyAnswered(ContractModel):
    """One service's answer to a privacy request.

    `found` (access only): the records per category, as the service holds them.
    `erased` (erasure only): how many records of each category went; never the data.
    """

    request_id: str = Field(max_length=64)
    service: str = Field(max_length=50)
    kind: PrivacyKind
    found: dict[str, list[dict[str, Any]]] = Field(default_factory=dict)
    erased: dict[str, int] = Field(default_factory=dict)


PRIVACY_EVENTS = (
    EventDefinition(
        PRIVACY_REQUESTED,
        PRIVACY_REQUEST,
        PrivacyRequested,
        "The Servicebüro asked for access to, or erasure of, one address's data.",
        personal_data=True,
    ),
    EventDefinition(
        PRIVACY_ANSWERED,
        PRIVACY_ANSWER,
        PrivacyAnswered,
        "A service's answer to a privacy request: what it found, or how much it erased.",
        personal_data=True,
    ),
)
