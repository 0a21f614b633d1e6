"""Messages citizens write to an alliance: rate-limited, then handed to notifications.

The directory never mails and never shows the contacts: it publishes
`lobu.directory.contact-message.submitted.v1` on the internal topic through the outbox,
and notifications mails the contacts with Reply-To the sender. The event's contract is
marked as personal data, so the relay empties the outbox row once Kafka has it: the
directory keeps no message text.

The rate limit counts accepted messages per client and per alliance in fixed windows.
Each count is one `INSERT … ON CONFLICT DO UPDATE SET count = count + 1 RETURNING
count`: the row lock of the upsert orders concurrent requests, so of N requests at
once exactly `limit` see a count within it, however many processes serve them (a
"count, then insert" would let them all read the same count). Over the limit, the
transaction rolls back: nothing is published and the counts stay as they were.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from lobu.directory.contact_form import ContactForm
from lobu.directory.errors import ContactRateLimitedError
from lobu.directory.models import ContactRateWindow
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
        window = self._limits.window_seconds
        start = datetime.fromtimestamp(now.timestamp() // window * window, tz=now.tzinfo)
        # Windows before the last one count for nothing any more (and hold hashes).
        await session.execute(
            delete(ContactRateWindow).where(
                col(ContactRateWindow.window_start) < start - timedelta(seconds=window)
            )
        )
        keys = {
            f"alliance:{alliance_id}": self._limits.per_alliance,
            f"client:{client_key(client)}": self._limits.per_client,
        }
        for key in sorted(keys):  # one order for every request: no deadlock between two
            if await _count_one_more(session, key, start) > keys[key]:
                raise ContactRateLimitedError(key.split(":", 1)[0])


def client_key(address: str) -> str:
    """The rate limit's name for a client address: a hash, not the address."""
    return hashlib.sha256(f"lobu-contact:{address}".encode()).hexdigest()[:40]


async def _count_one_more(session: AsyncSession, key: str, start: datetime) -> int:
    """Add one to the key's count in the window, atomically; the count after it."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    table = ContactRateWindow.__table__  # type: ignore[attr-defined]
    statement = (
        dialect.insert(table)
        .values(key=key, window_start=start, count=1)
        .on_conflict_do_update(
            index_elements=["key", "window_start"], set_={"count": table.c["count"] + 1}
        )
        .returning(table.c["count"])
    )
    count: int = (await session.execute(statement)).scalar_one()
    return count
