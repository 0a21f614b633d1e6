"""Personal data in the delivery log is kept only as long as the delivery needs it.

A delivery with `personal_until` (a citizen's message to an alliance: its text, the
sender's name and address; a sign-in link) loses its body and Reply-To as soon as it
is sent, or is cancelled and loses them when `personal_until` passes without it being sent (a failed
one can be retried by an admin until then). The row itself stays, so the log still
says that a message went to whom and when. The dispatcher calls `erase_due` each round.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from lobu.notifications.models import Delivery, DeliveryStatus

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]
# Outcomes after which the body is of no more use.
FINISHED = (
    DeliveryStatus.SENT.value,
    DeliveryStatus.CANCELLED.value,
    DeliveryStatus.SUPPRESSED.value,
)
# Not sent yet (or failed, retryable by an admin) until `personal_until` passes.
UNFINISHED = (
    DeliveryStatus.PENDING.value,
    DeliveryStatus.RETRYING.value,
    DeliveryStatus.FAILED.value,
)
ERASED = {"body": "", "html_body": None, "reply_to": None, "personal_until": None}


class PersonalDataRetention:
    """Erases the personal data of deliveries that no longer need it."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, days: int) -> None:
        self._sessions = sessions
        self._days = days

    async def erase_due(self, now: datetime) -> int:
        """Erase what was sent, and cancel and erase what expired; return how many rows."""
        personal = col(Delivery.personal_until).is_not(None)
        sign_in = col(Delivery.template) == "sign_in_link"
        async with self._sessions() as session, session.begin():
            finished = await session.execute(
                update(Delivery)
                .where(personal, col(Delivery.status).in_(FINISHED))
                .values(**ERASED)
                .execution_options(synchronize_session=False)
            )
            expired = [
                await session.execute(
                    update(Delivery)
                    .where(
                        personal,
                        col(Delivery.personal_until) <= now,
                        col(Delivery.status).in_(UNFINISHED),
                        sign_in if link else ~sign_in,
                    )
                    .values(status=DeliveryStatus.CANCELLED.value, last_error=why, **ERASED)
                    .execution_options(synchronize_session=False)
                )
                for link, why in (
                    (False, f"not delivered within {self._days} days; message deleted"),
                    (True, "not delivered before the link expired; message deleted"),
                )
            ]
        counts = [int(getattr(result, "rowcount", 0) or 0) for result in (finished, *expired)]
        if counts[1] or counts[2]:
            logger.warning(
                "%d personal messages expired undelivered and were deleted", counts[1] + counts[2]
            )
        return sum(counts)
