"""Actions: entered by their alliance's coordinators, moderated by the Servicebüro."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from lobu.events.domain import COORDINATOR_EDITABLE, PUBLIC_STATES, next_step
from lobu.events.errors import (
    ActionNotFoundError,
    AllianceUnknownError,
    CapacityConflictError,
    EntryClosedError,
    InvalidActionError,
    InvalidTransitionError,
    NotAllowedError,
    StaleVersionError,
)
from lobu.events.models import Action, ActionAudit, ActionState, AllianceReplica
from lobu.events.schemas import (
    ActionCreate,
    ActionPrivate,
    ActionPublic,
    ActionUpdate,
    check_action_values,
)
from lobu.events.service.editions import load_edition
from lobu.events.service.locking import lock_action
from lobu.events.service.registrations import cancel_registrations_of, promote_waiting
from lobu.events.service.views import action_search_text, private_view, public_view, snapshot
from lobu.shared import Caller, add_event, as_utc, transaction, utc_now
from lobu.shared.contracts.events import (
    ACTION_CANCELLED,
    ACTION_PUBLISHED,
    ACTION_REJECTED,
    ACTION_SUBMITTED,
    ActionCancelled,
    ActionPublished,
    ActionRejected,
    ActionSubmitted,
)

_EDITABLE_FIELDS = (
    "title", "description", "starts_at", "ends_at", "online", "online_url", "street",
    "postal_code", "city", "latitude", "longitude", "target_groups", "accessibility",
    "capacity", "registration_required",
)  # fmt: skip


def audit(session: AsyncSession, action: Action, *, step: str, actor: Caller | str,
          detail: str | None = None) -> None:  # fmt: skip
    """Record a step in the action's audit trail."""
    subject, role = (actor, "system") if isinstance(actor, str) else (actor.subject, actor.role)
    session.add(ActionAudit(action_id=action.id, version=action.version, step=step,
                            actor=subject, actor_role=str(role), detail=detail))  # fmt: skip


def _check_editor(actor: Caller, action: Action) -> None:
    if not actor.may_edit_alliance(action.alliance_id):
        raise NotAllowedError("Only the Servicebüro or this alliance's coordinators may do this.")


async def _check_entry_open(session: AsyncSession, actor: Caller, year: int) -> None:
    if actor.is_admin:
        return
    edition = await load_edition(session, year)
    now = utc_now()
    if not as_utc(edition.entry_opens_at) <= now < as_utc(edition.entry_closes_at):
        raise EntryClosedError(
            f"Actions for {year} can be entered from {as_utc(edition.entry_opens_at):%Y-%m-%d} "
            f"until {as_utc(edition.entry_closes_at):%Y-%m-%d}; ask the Servicebüro.",
        )


async def _live_alliance(session: AsyncSession, alliance_id: str) -> AllianceReplica:
    alliance = await session.get(AllianceReplica, alliance_id)
    if alliance is None or alliance.deleted or alliance.status == "dissolved":
        raise AllianceUnknownError(
            f"The directory knows no active alliance {alliance_id!r} (yet).", field="alliance_id"
        )
    return alliance


class Actions:
    """Enters, changes, moderates, cancels and shows actions."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, source: str) -> None:
        self.sessions = sessions
        self._source = source

    async def create(self, year: int, request: ActionCreate, *, actor: Caller) -> ActionPrivate:
        """A new draft of the caller's alliance (admins name the alliance)."""
        if actor.is_admin:
            if not request.alliance_id:
                raise AllianceUnknownError("An admin names the alliance: alliance_id.")
            alliance_id = request.alliance_id
        else:
            if request.alliance_id not in (None, actor.alliance_id):
                raise NotAllowedError("Coordinators enter actions of their own alliance only.")
            alliance_id = actor.alliance_id or ""
        async with transaction(self.sessions) as session:
            await load_edition(session, year)
            await _check_entry_open(session, actor, year)
            alliance = await _live_alliance(session, alliance_id)
            values = request.model_dump(exclude={"alliance_id"})
            # Stored in UTC: SQLite would otherwise keep the wall time and drop the offset.
            values["starts_at"], values["ends_at"] = (
                as_utc(request.starts_at),
                as_utc(request.ends_at),
            )
            now = utc_now()
            action = Action(
                id=str(uuid.uuid4()),
                edition_year=year,
                alliance_id=alliance_id,
                **{**values, "online": bool(values["online"]),
                   "target_groups": values["target_groups"] or [],
                   "registration_required": bool(values["registration_required"])},
                created_at=now,
                updated_at=now,
            )  # fmt: skip
            action.search_text = action_search_text(action, alliance)
            session.add(action)
            await session.flush()
            audit(session, action, step="created", actor=actor)
            return await private_view(session, action, alliance)

    async def update(
        self, action_id: str, change: ActionUpdate, *, expected_version: int | None, actor: Caller
    ) -> ActionPrivate:
        """Apply a partial change; coordinators only to drafts and rejected actions."""
        requested = change.model_dump(exclude_unset=True)
        async with transaction(self.sessions) as session:
            action, _serial = await lock_action(session, action_id)
            _check_editor(actor, action)
            if expected_version is not None and expected_version != action.version:
                raise StaleVersionError(
                    f"The action has changed since you loaded it (version {expected_version}, "
                    f"now {action.version}).",
                    current_version=action.version,
                )
            state = ActionState(action.state)
            if state is ActionState.CANCELLED:
                raise InvalidTransitionError("A cancelled action cannot be changed.")
            if not actor.is_admin:
                if state not in COORDINATOR_EDITABLE:
                    raise InvalidTransitionError(
                        f"An action that is {state.value} can be changed by the Servicebüro "
                        "only; cancel it or ask the Servicebüro.",
                        state=state.value,
                    )
                await _check_entry_open(session, actor, action.edition_year)
            merged: dict[str, Any] = {name: getattr(action, name) for name in _EDITABLE_FIELDS}
            merged.update({k: v for k, v in requested.items() if v is not None or k in (
                "online_url", "street", "postal_code", "latitude", "longitude",
                "accessibility", "capacity")})  # fmt: skip
            merged["starts_at"], merged["ends_at"] = (
                as_utc(merged["starts_at"]),
                as_utc(merged["ends_at"]),
            )
            try:
                check_action_values(merged)
            except ValueError as error:
                raise InvalidActionError(str(error)) from None
            capacity = merged["capacity"]
            if capacity is not None and capacity < action.seats_taken:
                raise CapacityConflictError(
                    f"{action.seats_taken} seats are confirmed; the capacity cannot be lower."
                )
            for name, value in merged.items():
                setattr(action, name, value)
            alliance = await session.get(AllianceReplica, action.alliance_id)
            action.search_text = action_search_text(action, alliance)
            action.version += 1
            action.updated_at = utc_now()
            await session.flush()
            audit(session, action, step="changed", actor=actor, detail=", ".join(sorted(requested)))
            # A larger capacity (or none) may let waiting requests in at once.
            await promote_waiting(session, action, alliance, source=self._source)
            return await private_view(session, action, alliance)

    async def submit(self, action_id: str, *, actor: Caller) -> ActionPrivate:
        """Hand the action to the Servicebüro for moderation."""
        return await self._step(action_id, "submit", actor=actor)

    async def publish(self, action_id: str, *, actor: Caller) -> ActionPrivate:
        """Accept the action into the public programme (admin)."""
        return await self._step(action_id, "publish", actor=actor)

    async def reject(self, action_id: str, *, reason: str, actor: Caller) -> ActionPrivate:
        """Send the action back with a reason the coordinator reads (admin)."""
        return await self._step(action_id, "reject", actor=actor, reason=reason)

    async def cancel(self, action_id: str, *, reason: str | None, actor: Caller) -> ActionPrivate:
        """Call the action off; its participants are told."""
        return await self._step(action_id, "cancel", actor=actor, reason=reason)

    async def _step(
        self, action_id: str, step: str, *, actor: Caller, reason: str | None = None
    ) -> ActionPrivate:
        async with transaction(self.sessions) as session:
            action, _serial = await lock_action(session, action_id)
            _check_editor(actor, action)
            if step in ("publish", "reject") and not actor.is_admin:
                raise NotAllowedError("Only the Servicebüro moderates actions.")
            if step == "submit":
                await _check_entry_open(session, actor, action.edition_year)
            target = next_step(ActionState(action.state), step)
            alliance = await session.get(AllianceReplica, action.alliance_id)
            if step == "publish" and (alliance is None or alliance.deleted):
                raise AllianceUnknownError("The action's alliance is no longer in the directory.")
            action.state = target.value
            action.version += 1
            action.updated_at = utc_now()
            action.rejection_reason = reason if step == "reject" else action.rejection_reason
            if step == "cancel":
                action.cancellation_reason = "cancelled"
            await session.flush()
            audit(session, action, step=step, actor=actor, detail=reason)
            await session.refresh(action)
            if step == "submit":
                self._publish(
                    session, action, ACTION_SUBMITTED, snapshot(ActionSubmitted, action, alliance)
                )
            elif step == "publish":
                self._publish(
                    session, action, ACTION_PUBLISHED, snapshot(ActionPublished, action, alliance)
                )
            elif step == "reject":
                self._publish(
                    session,
                    action,
                    ACTION_REJECTED,
                    snapshot(ActionRejected, action, alliance, reason=reason or ""),
                )
            else:
                self._publish(
                    session,
                    action,
                    ACTION_CANCELLED,
                    snapshot(ActionCancelled, action, alliance, reason="cancelled"),
                )
                await cancel_registrations_of(session, action, alliance, reason="action_cancelled",
                                              source=self._source)  # fmt: skip
            return await private_view(session, action, alliance)

    def _publish(self, session: AsyncSession, action: Action, event_type: str, data: Any) -> None:
        add_event(session, event_type=event_type, source=self._source, subject=action.id, data=data)

    async def get_public(self, action_id: str) -> ActionPublic:
        """A published (or cancelled) action; 404 for every other."""
        async with self.sessions() as session:
            action = await session.get(Action, action_id)
            if action is None or ActionState(action.state) not in PUBLIC_STATES:
                raise ActionNotFoundError(f"There is no published action {action_id!r}.")
            return public_view(action, await session.get(AllianceReplica, action.alliance_id))

    async def get_private(self, action_id: str, *, actor: Caller) -> ActionPrivate:
        """Any action of the caller's alliance (admins: any action)."""
        async with self.sessions() as session:
            action = await session.get(Action, action_id)
            if action is None:
                raise ActionNotFoundError(f"There is no action {action_id!r}.")
            _check_editor(actor, action)
            alliance = await session.get(AllianceReplica, action.alliance_id)
            return await private_view(session, action, alliance)
