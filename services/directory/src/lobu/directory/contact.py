"""Messages citizens write to an alliance: rate-limited, then handed to notifications.

The directory never mails and never shows the contacts: it publishes
`lobu.directory.contact-message.submitted.v1` on the internal topic through the outbox,
and notifications mails the contacts with Reply-To the sender. The event's contract is
marked as personal data, so the relay empties the outbox row once Kafka has it: the
directory keeps no message text.

The rate limit counts accepted messages per client and per alliance in fixed windows
(rate_limits.py); over the limit, the transaction rolls back: nothing is published.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from lobu.directory.contact_form import ContactForm
from lobu.directory.errors import ContactRateLimitedError
from lobu.directory.rate_limits import hashed_key, over_limit
from lobu.directory.schemas import AlliancePrivate
from lobu.shared import add_event, transaction, utc_now
from lobu.shared.contracts.directory import CONTACT_MESSAGE_SUBMITTED, ContactMessageSubmitted

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ContactLimits:
    """Accepted messages per window: from one client address, and to one alliance."""

    per_client: int
    per_alliance: int
    window_seconds: int


class ContactMessages:
    """Accepts contact messages for alliances and publishes them for notifications."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], *, source: str, limits: ContactLimits
    ) -> None:
        self._sessions = sessions
        self._source = source
        self._limits = limits

    async def submit(self, alliance: AlliancePrivate, form: ContactForm, *, client: str) -> str:
        """Publish the message (one transaction with the counts); returns its id.

        Raises ContactRateLimitedError when the client or the alliance is over its limit.
        """
        now = utc_now()
        message = ContactMessageSubmitted(
            message_id=str(uuid.uuid4()),
            alliance_id=alliance.id,
            alliance_name=alliance.name,
            sender_name=form.values["name"],
            sender_email=form.email,
            message=form.values["nachricht"],
            submitted_at=now,
        )
        async with transaction(self._sessions) as session:
            await self._check_limits(session, alliance.id, client, now)
            add_event(
                session,
                event_type=CONTACT_MESSAGE_SUBMITTED,
                source=self._source,
                subject=alliance.id,
                data=message,
            )
        logger.info("contact message %s for alliance %s accepted", message.message_id, alliance.id)
        return message.message_id

    async def _check_limits(
        self, session: AsyncSession, alliance_id: str, client: str, now: datetime
    ) -> None:
        limits = {
            f"alliance:{alliance_id}": self._limits.per_alliance,
            f"client:{client_key(client)}": self._limits.per_client,
        }
        limited = await over_limit(
            session, limits, now=now, window_seconds=self._limits.window_seconds
        )
        if limited is not None:
            raise ContactRateLimitedError(limited.split(":", 1)[0])


def client_key(address: str) -> str:
    """The rate limit's name for a client address: a hash, not the address."""
    return hashed_key("contact", address)
