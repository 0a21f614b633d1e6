"""The replica of `directory.alliance`: names, Land and slug of the alliances, and what
happens to an alliance's actions when it leaves the directory or is dissolved.

Each handler runs inside the consumer's transaction, with the inbox entry, so its
effect happens once per event; `version` drops stale and duplicate updates.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from lobu.events.models import Action, ActionState, AllianceReplica
from lobu.events.service.actions import audit
from lobu.events.service.locking import lock_action
from lobu.events.service.registrations import cancel_registrations_of
from lobu.events.service.views import action_search_text, snapshot
from lobu.shared import Envelope, add_event, read_event_data, utc_now
from lobu.shared.contracts.directory import AllianceDeleted, AllianceUpdated
from lobu.shared.contracts.events import (
    ACTION_CANCELLED,
    ActionCancellationReason,
    ActionCancelled,
)

logger = logging.getLogger(__name__)

SYSTEM_ACTOR = "directory"


class AllianceReplicas:
    """The handlers of `directory.alliance`."""

    def __init__(self, *, source: str) -> None:
        self._source = source

    async def on_snapshot(self, session: AsyncSession, envelope: Envelope) -> None:
        """Created, updated or republished: keep the newest version."""
        # AllianceUpdated reads all three: the others are the same record without
        # changed_fields, which defaults to empty.
        data = read_event_data(AllianceUpdated, envelope.data)
        replica = await session.get(AllianceReplica, data.id)
        if replica is not None and (replica.deleted or replica.version >= data.version):
            logger.info("dropping stale alliance v%d of %s", data.version, data.id)
            return
        if replica is None:
            replica = AllianceReplica(id=data.id)
            session.add(replica)
        renamed = replica.name != data.name
        replica.slug, replica.name, replica.state = data.slug, data.name, data.state
        replica.city, replica.postal_code = data.city, data.postal_code
        replica.latitude, replica.longitude = data.latitude, data.longitude
        replica.status, replica.version = data.status, data.version
        replica.updated_at = utc_now()
        await session.flush()
        if renamed:
            for action in await _actions_of(session, data.id):
                action.search_text = action_search_text(action, replica)
        if data.status == "dissolved":
            await self._withdraw(session, replica, reason="alliance_dissolved")

    async def on_deleted(self, session: AsyncSession, envelope: Envelope) -> None:
        """The alliance left the directory: a tombstone, and its actions withdrawn."""
        data = read_event_data(AllianceDeleted, envelope.data)
        replica = await session.get(AllianceReplica, data.id)
        if replica is not None and replica.version >= data.version and replica.deleted:
            return
        if replica is None:
            replica = AllianceReplica(id=data.id, version=data.version)
            session.add(replica)
        replica.version = max(replica.version, data.version)
        replica.deleted = True
        replica.updated_at = utc_now()
        await session.flush()
        await self._withdraw(session, replica, reason="alliance_deleted")

    async def _withdraw(
        self, session: AsyncSession, alliance: AllianceReplica, *, reason: ActionCancellationReason
    ) -> None:
        """Cancel every action of the alliance still on its way or in the programme."""
        for candidate in await _actions_of(session, alliance.id):
            if candidate.state == ActionState.CANCELLED.value:
                continue
            action, _serial = await lock_action(session, candidate.id)
            was_public = action.state in (ActionState.SUBMITTED.value, ActionState.PUBLISHED.value)
            action.state = ActionState.CANCELLED.value
            action.cancellation_reason = reason
            action.version += 1
            action.updated_at = utc_now()
            await session.flush()
            audit(session, action, step="withdrawn", actor=SYSTEM_ACTOR, detail=reason)
            if was_public:
                add_event(
                    session, event_type=ACTION_CANCELLED, source=self._source, subject=action.id,
                    data=snapshot(ActionCancelled, action, alliance, reason=reason),
                )  # fmt: skip
            await cancel_registrations_of(
                session, action, alliance, reason="alliance_withdrawn", source=self._source
            )


async def _actions_of(session: AsyncSession, alliance_id: str) -> list[Action]:
    return list(
        await session.scalars(
            select(Action).where(col(Action.alliance_id) == alliance_id).order_by(col(Action.id))
        )
    )
