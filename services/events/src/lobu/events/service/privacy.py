"""What the events service holds of an address, and its erasure (lobu.shared.privacy).

Personal data here: participants' registrations (name, email) and, should a
coordinator's login be an address, the actions' audit. Erasing a registration goes
the way of a cancellation under the action's lock: confirmed seats are given back and
the waiting list moves (`promote_waiting`, whose promotions are mailed as always). No
cancellation event is written for the erased registration: it would carry the
address again, and the person asked to be forgotten, not to be mailed.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from lobu.events.models import Action, ActionAudit, AllianceReplica, Registration, ReminderSent
from lobu.events.models import RegistrationStatus as Status
from lobu.events.service.locking import give_back_seats, lock_action
from lobu.events.service.registrations import promote_waiting
from lobu.shared.privacy import ErasedCounts, FoundRecords

ERASED_ACTOR = "gelöscht"


class EventsPersonalData:
    """The events service's `PersonalDataHandler`: registrations and audit entries."""

    def __init__(self, *, source: str) -> None:
        self._source = source

    async def find(self, session: AsyncSession, email: str) -> FoundRecords:
        """The person's registrations, with the action they are for."""
        rows = await session.execute(
            select(Registration, col(Action.title), col(Action.starts_at))
            .join(Action, col(Action.id) == col(Registration.action_id))
            .where(func.lower(col(Registration.email)) == email)
            .order_by(col(Registration.created_at))
        )
        registrations: list[dict[str, Any]] = [
            {
                "id": registration.id,
                "action_id": registration.action_id,
                "action_title": title,
                "action_starts_at": starts_at,
                "name": registration.name,
                "email": registration.email,
                "seats": registration.seats,
                "status": registration.status,
                "registered_at": registration.created_at,
                "confirmed_at": registration.confirmed_at,
                "cancelled_at": registration.cancelled_at,
            }
            for registration, title, starts_at in rows.tuples()
        ]
        audit = await session.scalars(
            select(ActionAudit).where(func.lower(col(ActionAudit.actor)) == email)
        )
        entries = [
            {"action_id": entry.action_id, "step": entry.step, "at": entry.at} for entry in audit
        ]
        return {"registrations": registrations, "action_audit": entries}

    async def erase(self, session: AsyncSession, email: str) -> ErasedCounts:
        """Delete the registrations (seats freed, waiting list moved); anonymise the audit."""
        action_ids = sorted(
            set(
                await session.scalars(
                    select(col(Registration.action_id)).where(
                        func.lower(col(Registration.email)) == email
                    )
                )
            )
        )
        erased = 0
        for action_id in action_ids:  # in id order: two erasures never lock in a cycle
            action, _serial = await lock_action(session, action_id)
            registrations = list(
                await session.scalars(
                    select(Registration).where(
                        col(Registration.action_id) == action_id,
                        func.lower(col(Registration.email)) == email,
                    )
                )
            )
            for registration in registrations:
                if registration.status == Status.CONFIRMED.value:
                    await give_back_seats(session, action_id, registration.seats)
                await session.execute(
                    delete(ReminderSent).where(col(ReminderSent.subject_id) == registration.id)
                )
                await session.delete(registration)
                erased += 1
            await session.flush()
            alliance = await session.get(AllianceReplica, action.alliance_id)
            await promote_waiting(session, action, alliance, source=self._source)
        audit = await session.execute(
            update(ActionAudit)
            .where(func.lower(col(ActionAudit.actor)) == email)
            .values(actor=ERASED_ACTOR)
            .execution_options(synchronize_session=False)
        )
        return {"registrations": erased, "action_audit": int(getattr(audit, "rowcount", 0) or 0)}
