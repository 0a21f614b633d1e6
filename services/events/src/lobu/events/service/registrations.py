"""Registration of participants: capacity never oversold, a fair waiting list.

Every use case here follows the same table of contents: lock the action
(locking.py), check, then apply, all in one transaction with its events. The rule
of the waiting list is `domain.promotions`; docs/events.md explains it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from lobu.events.domain import WaitingRequest, promotions
from lobu.events.errors import (
    ActionNotFoundError,
    NotAllowedError,
    RegistrationClosedError,
    RegistrationNotFoundError,
    TooManySeatsError,
)
from lobu.events.models import Action, ActionState, AllianceReplica, Registration
from lobu.events.models import RegistrationStatus as Status
from lobu.events.schemas import RegistrationCreate, RegistrationPage, RegistrationReceipt
from lobu.events.service.locking import LocalQueues, give_back_seats, lock_action, take_seats
from lobu.events.service.views import registration_fact, registration_view
from lobu.shared import Caller, add_event, as_utc, transaction, utc_now
from lobu.shared.contracts.events import (
    REGISTRATION_CANCELLED,
    REGISTRATION_CONFIRMED,
    REGISTRATION_PROMOTED,
    REGISTRATION_WAITLISTED,
    CancellationReason,
    RegistrationCancelled,
    RegistrationConfirmed,
    RegistrationPromoted,
    RegistrationWaitlisted,
)
from lobu.shared.pagination import decode_cursor, encode_cursor


def hash_token(token: str) -> str:
    """What is stored of a cancel link's secret."""
    return hashlib.sha256(token.encode()).hexdigest()


class Registrations:
    """Registers, shows, cancels and lists registrations."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        source: str,
        public_url: str,
        max_seats: int,
    ) -> None:
        self.sessions = sessions
        self._source = source
        self._public_url = public_url.rstrip("/")
        self._max_seats = max_seats
        self._queues = LocalQueues()

    def cancel_url(self, registration_id: str, token: str) -> str:
        """The absolute secret link of a registration."""
        return f"{self._public_url}/registrations/{registration_id}/{token}"

    async def register(self, action_id: str, request: RegistrationCreate) -> RegistrationReceipt:
        """Confirm the seats if they fit, else put the request on the waiting list, whole."""
        if request.seats > self._max_seats:
            raise TooManySeatsError(
                f"One registration takes at most {self._max_seats} seats.",
                max_seats=self._max_seats,
            )
        token = secrets.token_urlsafe(32)
        registration_id = str(uuid.uuid4())
        async with self._queues.of(action_id), transaction(self.sessions) as session:
            # 1. Lock: from here on this is the only request touching the action's seats.
            action, arrival = await lock_action(session, action_id)
            _check_open_for_registration(action)
            # 2. Apply: the seats are taken by the database's own condition, or not at all.
            confirmed = await take_seats(session, action.id, request.seats)
            now = utc_now()
            registration = Registration(
                id=registration_id,
                action_id=action.id,
                arrival=arrival,
                name=request.name,
                email=str(request.email),
                seats=request.seats,
                status=(Status.CONFIRMED if confirmed else Status.WAITLISTED).value,
                token_hash=hash_token(token),
                created_at=now,
                confirmed_at=now if confirmed else None,
            )
            session.add(registration)
            # 3. Events, in the same transaction (the outbox).
            alliance = await session.get(AllianceReplica, action.alliance_id)
            cancel_url = self.cancel_url(registration.id, token)
            seats_ahead = None
            if confirmed:
                data: RegistrationConfirmed | RegistrationWaitlisted = registration_fact(
                    RegistrationConfirmed, registration, action, alliance, cancel_url=cancel_url
                )
            else:
                seats_ahead = await _seats_waiting_before(session, registration)
                data = registration_fact(
                    RegistrationWaitlisted, registration, action, alliance,
                    cancel_url=cancel_url, seats_ahead=seats_ahead,
                )  # fmt: skip
            add_event(
                session,
                event_type=REGISTRATION_CONFIRMED if confirmed else REGISTRATION_WAITLISTED,
                source=self._source,
                subject=registration.id,
                data=data,
            )
            return _receipt(registration, cancel_url=cancel_url, seats_ahead=seats_ahead)

    async def show(self, registration_id: str, token: str) -> RegistrationReceipt:
        """The registration behind a secret link."""
        async with self.sessions() as session:
            registration = await _by_link(session, registration_id, token)
            seats_ahead = None
            if registration.status == Status.WAITLISTED.value:
                seats_ahead = await _seats_waiting_before(session, registration)
            active = registration.status != Status.CANCELLED.value
            return _receipt(
                registration,
                cancel_url=self.cancel_url(registration_id, token) if active else None,
                seats_ahead=seats_ahead,
            )

    async def cancel(self, registration_id: str, token: str) -> RegistrationReceipt:
        """Cancel by the secret link and promote waiting requests at once (idempotent)."""
        async with self.sessions() as session:
            action_id = (await _by_link(session, registration_id, token)).action_id
        async with self._queues.of(action_id), transaction(self.sessions) as session:
            action, _serial = await lock_action(session, action_id)
            registration = await _by_link(session, registration_id, token)
            if registration.status != Status.CANCELLED.value:
                alliance = await session.get(AllianceReplica, action.alliance_id)
                await _cancel_one(session, registration, action, alliance,
                                  reason="participant", source=self._source)  # fmt: skip
                await promote_waiting(session, action, alliance, source=self._source)
            return _receipt(registration, cancel_url=None, seats_ahead=None)

    async def list(
        self, action_id: str, *, actor: Caller, cursor: str | None, limit: int
    ) -> RegistrationPage:
        """Every registration of the action in order of arrival (admins, its coordinators)."""
        after = decode_cursor(cursor, types=(int,))[0] if cursor else -1
        async with self.sessions() as session:
            action = await session.get(Action, action_id)
            if action is None:
                raise ActionNotFoundError(f"There is no action {action_id!r}.")
            if not actor.may_edit_alliance(action.alliance_id):
                raise NotAllowedError("Only the Servicebüro or this alliance's coordinators.")
            rows = list(
                await session.scalars(
                    select(Registration)
                    .where(col(Registration.action_id) == action_id,
                           col(Registration.arrival) > after)
                    .order_by(col(Registration.arrival))
                    .limit(limit + 1)
                )
            )  # fmt: skip
        more = len(rows) > limit
        rows = rows[:limit]
        return RegistrationPage(
            items=[registration_view(row) for row in rows],
            next_cursor=encode_cursor([rows[-1].arrival]) if more else None,
        )


def _check_open_for_registration(action: Action) -> None:
    if action.state != ActionState.PUBLISHED.value:
        raise RegistrationClosedError("This action is not open for registration.")
    if not action.registration_required:
        raise RegistrationClosedError("This action needs no registration: just come along.")
    if as_utc(action.starts_at) <= utc_now():
        raise RegistrationClosedError("This action has begun; registration is closed.")


async def _by_link(session: AsyncSession, registration_id: str, token: str) -> Registration:
    registration = await session.get(Registration, registration_id, populate_existing=True)
    # The same answer for an unknown id and a wrong token, compared in constant time.
    if registration is None or not hmac.compare_digest(registration.token_hash, hash_token(token)):
        raise RegistrationNotFoundError("This link names no registration.")
    return registration


async def _seats_waiting_before(session: AsyncSession, registration: Registration) -> int:
    ahead = await session.scalar(
        select(func.coalesce(func.sum(col(Registration.seats)), 0)).where(
            col(Registration.action_id) == registration.action_id,
            col(Registration.status) == Status.WAITLISTED.value,
            col(Registration.arrival) < registration.arrival,
        )
    )
    return int(ahead or 0)


def _receipt(
    registration: Registration, *, cancel_url: str | None, seats_ahead: int | None
) -> RegistrationReceipt:
    return RegistrationReceipt(
        id=registration.id,
        action_id=registration.action_id,
        seats=registration.seats,
        status=registration.status,
        cancel_url=cancel_url,
        seats_ahead=seats_ahead,
    )


async def _cancel_one(
    session: AsyncSession,
    registration: Registration,
    action: Action,
    alliance: AllianceReplica | None,
    *,
    reason: CancellationReason,
    source: str,
) -> None:
    """End one registration (under the action's lock) and say so on the internal topic."""
    if registration.status == Status.CONFIRMED.value:
        await give_back_seats(session, action.id, registration.seats)
    registration.status = Status.CANCELLED.value
    registration.cancelled_at = utc_now()
    registration.cancellation_reason = reason
    await session.flush()
    add_event(
        session,
        event_type=REGISTRATION_CANCELLED,
        source=source,
        subject=registration.id,
        data=registration_fact(
            RegistrationCancelled, registration, action, alliance, reason=reason
        ),
    )


async def promote_waiting(
    session: AsyncSession, action: Action, alliance: AllianceReplica | None, *, source: str
) -> list[Registration]:
    """Confirm the waiting requests that fit now, by the rule of `domain.promotions`.

    Runs under the action's lock, after every change that frees seats.
    """
    if action.state != ActionState.PUBLISHED.value:
        return []
    await session.refresh(action)
    waiting = list(
        await session.scalars(
            select(Registration)
            .where(col(Registration.action_id) == action.id,
                   col(Registration.status) == Status.WAITLISTED.value)
            .order_by(col(Registration.arrival))
        )
    )  # fmt: skip
    by_id = {registration.id: registration for registration in waiting}
    chosen = promotions(
        [WaitingRequest(r.id, r.arrival, r.seats) for r in waiting],
        capacity=action.capacity,
        seats_taken=action.seats_taken,
    )
    promoted = []
    for request in chosen:
        registration = by_id[request.registration_id]
        if not await take_seats(session, action.id, registration.seats):
            break  # cannot happen under the lock; the database's condition has the last word
        registration.status = Status.CONFIRMED.value
        registration.promoted = True
        registration.confirmed_at = utc_now()
        await session.flush()
        add_event(
            session,
            event_type=REGISTRATION_PROMOTED,
            source=source,
            subject=registration.id,
            data=registration_fact(RegistrationPromoted, registration, action, alliance),
        )
        promoted.append(registration)
    return promoted


async def cancel_registrations_of(
    session: AsyncSession,
    action: Action,
    alliance: AllianceReplica | None,
    *,
    reason: CancellationReason,
    source: str,
) -> int:
    """End every active registration of a cancelled action (under its lock)."""
    active = list(
        await session.scalars(
            select(Registration)
            .where(col(Registration.action_id) == action.id,
                   col(Registration.status) != Status.CANCELLED.value)
            .order_by(col(Registration.arrival))
        )
    )  # fmt: skip
    for registration in active:
        await _cancel_one(session, registration, action, alliance, reason=reason, source=source)
    return len(active)


__all__ = ["Registrations", "cancel_registrations_of", "promote_waiting"]
