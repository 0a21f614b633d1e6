"""The day-before reminders: to each confirmed participant, and to the coordinators the
list of who is coming. Each at most once, also with several processes running it.

"Sent" is a row of `action_reminders_sent`, inserted with ON CONFLICT DO NOTHING in the same
transaction as the outbox event. Of two processes reminding the same registration at
once, the second's insert waits for the first's transaction on the primary key and
then inserts nothing, so it writes no event: the key decides, not a look beforehand.
Mail goes out through notifications (`events.registration`).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from lobu.events.domain import BERLIN, end_of_day, reminder_due
from lobu.events.models import Action, ActionState, AllianceReplica, Registration, ReminderSent
from lobu.events.models import RegistrationStatus as Status
from lobu.events.service.views import place_of, registration_fact
from lobu.shared import add_event, as_utc, transaction, utc_now
from lobu.shared.contracts.events import (
    REGISTRATION_REMINDED,
    REGISTRATIONS_LISTED,
    Participant,
    RegistrationReminded,
    RegistrationsListed,
)
from lobu.shared.database import insert_ignoring_duplicates

logger = logging.getLogger(__name__)
Clock = Callable[[], dt.datetime]
PARTICIPANT, ROSTER = "participant", "roster"


@dataclass(frozen=True)
class ReminderRun:
    """What one run queued."""

    participants: int = 0
    rosters: int = 0


async def _claim(
    session: AsyncSession, kind: str, subject_id: str, *, action_id: str, now: dt.datetime
) -> bool:
    """Insert the row that says this reminder is sent; False if it was there already."""
    claimed = await session.scalar(
        insert_ignoring_duplicates(
            session,
            ReminderSent,
            kind=kind,
            subject_id=subject_id,
            action_id=action_id,
            sent_at=now,
        ).returning(ReminderSent.__table__.c.kind)  # type: ignore[attr-defined]
    )
    return claimed is not None


class Reminders:
    """Queues the reminders due now (called by the scheduler, or by tests with a clock)."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], *, source: str, hour: int,
        clock: Clock = utc_now,
    ) -> None:  # fmt: skip
        self.sessions = sessions
        self._source = source
        self._hour = hour
        self.clock = clock

    async def send_due(self) -> ReminderRun:
        """Remind for every published action with registration whose day-before has come."""
        now = self.clock()
        tomorrow = now.astimezone(BERLIN).date() + dt.timedelta(days=1)
        async with self.sessions() as session:
            rows = (
                await session.execute(
                    select(col(Action.id), col(Action.starts_at)).where(
                        col(Action.state) == ActionState.PUBLISHED.value,
                        col(Action.registration_required).is_(True),
                        col(Action.starts_at) > now,
                        col(Action.starts_at) < end_of_day(tomorrow),
                    )
                )
            ).all()
        due = [action_id for action_id, starts_at in rows
               if reminder_due(as_utc(starts_at), now, hour=self._hour)]  # fmt: skip
        participants = rosters = 0
        for action_id in sorted(due):
            async with transaction(self.sessions) as session:
                sent, listed = await self._remind_in(session, action_id, now=now)
            participants += sent
            rosters += listed
        return ReminderRun(participants=participants, rosters=rosters)

    async def _remind_in(
        self, session: AsyncSession, action_id: str, *, now: dt.datetime
    ) -> tuple[int, int]:
        action = await session.get(Action, action_id)
        if action is None or action.state != ActionState.PUBLISHED.value:
            return 0, 0
        alliance = await session.get(AllianceReplica, action.alliance_id)
        confirmed = list(
            await session.scalars(
                select(Registration)
                .where(col(Registration.action_id) == action.id,
                       col(Registration.status) == Status.CONFIRMED.value)
                .order_by(col(Registration.arrival))
            )
        )  # fmt: skip
        sent = 0
        for registration in confirmed:
            if await _claim(session, PARTICIPANT, registration.id, action_id=action.id, now=now):
                add_event(
                    session, event_type=REGISTRATION_REMINDED, source=self._source,
                    subject=registration.id,
                    data=registration_fact(RegistrationReminded, registration, action, alliance),
                )  # fmt: skip
                sent += 1
        if not await _claim(session, ROSTER, action.id, action_id=action.id, now=now):
            return sent, 0
        waiting = await session.scalar(
            select(func.coalesce(func.sum(col(Registration.seats)), 0)).where(
                col(Registration.action_id) == action.id,
                col(Registration.status) == Status.WAITLISTED.value,
            )
        )
        add_event(
            session, event_type=REGISTRATIONS_LISTED, source=self._source, subject=action.id,
            data=RegistrationsListed(
                action_id=action.id, edition_year=action.edition_year,
                alliance_id=action.alliance_id,
                alliance_name=alliance.name if alliance and alliance.name else "",
                action_title=action.title, starts_at=as_utc(action.starts_at),
                ends_at=as_utc(action.ends_at), online=action.online, place=place_of(action),
                online_url=action.online_url, capacity=action.capacity,
                seats_confirmed=sum(r.seats for r in confirmed), seats_waiting=int(waiting or 0),
                participants=[Participant(name=r.name, email=r.email, seats=r.seats)
                              for r in confirmed],
            ),
        )  # fmt: skip
        return sent, 1


class ReminderScheduler:
    """Runs `Reminders.send_due` every `interval` seconds in the service process."""

    def __init__(self, reminders: Reminders, *, interval: float) -> None:
        self._reminders = reminders
        self._interval = interval
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start the loop."""
        self._task = asyncio.create_task(self._run(), name="events-reminders")

    async def stop(self) -> None:
        """Stop the loop and wait for it."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await self._reminders.send_due()
            except Exception:
                logger.exception("reminder round failed; trying again")
            await asyncio.sleep(self._interval)
