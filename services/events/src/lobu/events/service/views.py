"""Actions and registrations as the API and the events show them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from lobu.events.domain import seats_free
from lobu.events.models import Action, AllianceReplica, Registration, RegistrationStatus
from lobu.events.schemas import ActionPrivate, ActionPublic, RegistrationPrivate
from lobu.shared import as_utc
from lobu.shared.contracts.events import ActionSnapshot, RegistrationFact
from lobu.shared.text_search import search_text_of

SnapshotT = TypeVar("SnapshotT", bound=ActionSnapshot)
FactT = TypeVar("FactT", bound=RegistrationFact)


def _alliance_values(alliance: AllianceReplica | None) -> dict[str, Any]:
    return {
        "alliance_name": alliance.name if alliance and alliance.name else "",
        "alliance_slug": alliance.slug if alliance and alliance.slug else None,
        "land": alliance.state if alliance and alliance.state else None,
    }


def public_view(
    action: Action, alliance: AllianceReplica | None, *, distance_km: float | None = None
) -> ActionPublic:
    """What everyone may see of an action."""
    return ActionPublic(
        id=action.id,
        edition_year=action.edition_year,
        alliance_id=action.alliance_id,
        **_alliance_values(alliance),
        title=action.title,
        description=action.description,
        starts_at=as_utc(action.starts_at),
        ends_at=as_utc(action.ends_at),
        online=action.online,
        online_url=action.online_url,
        street=action.street,
        postal_code=action.postal_code,
        city=action.city,
        latitude=action.latitude,
        longitude=action.longitude,
        target_groups=action.target_groups,
        accessibility=action.accessibility,
        capacity=action.capacity,
        registration_required=action.registration_required,
        seats_free=seats_free(action.capacity, action.seats_taken),
        state=action.state,
        version=action.version,
        distance_km=distance_km,
    )


async def private_view(
    session: AsyncSession, action: Action, alliance: AllianceReplica | None
) -> ActionPrivate:
    """What the action's coordinators and admins see."""
    await session.refresh(action)
    waiting = await session.scalar(
        select(func.coalesce(func.sum(col(Registration.seats)), 0)).where(
            col(Registration.action_id) == action.id,
            col(Registration.status) == RegistrationStatus.WAITLISTED.value,
        )
    )
    return ActionPrivate(
        **public_view(action, alliance).model_dump(),
        rejection_reason=action.rejection_reason,
        cancellation_reason=action.cancellation_reason,
        seats_taken=action.seats_taken,
        seats_waiting=int(waiting or 0),
        created_at=as_utc(action.created_at),
        updated_at=as_utc(action.updated_at),
    )


def snapshot(
    model: type[SnapshotT], action: Action, alliance: AllianceReplica | None, **extra: Any
) -> SnapshotT:
    """The public event data of an action."""
    return model(
        id=action.id,
        edition_year=action.edition_year,
        alliance_id=action.alliance_id,
        **_alliance_values(alliance),
        title=action.title,
        starts_at=as_utc(action.starts_at),
        ends_at=as_utc(action.ends_at),
        online=action.online,
        postal_code=action.postal_code,
        city=action.city,
        latitude=action.latitude,
        longitude=action.longitude,
        target_groups=action.target_groups,
        capacity=action.capacity,
        registration_required=action.registration_required,
        state=action.state,
        version=action.version,
        **extra,
    )


def place_of(action: Action) -> str | None:
    """Street, postal code and city in one line, as a letter would have it."""
    town = " ".join(part for part in (action.postal_code, action.city) if part)
    return ", ".join(part for part in (action.street, town) if part) or None


def registration_fact(
    model: type[FactT],
    registration: Registration,
    action: Action,
    alliance: AllianceReplica | None,
    *,
    cancel_url: str | None = None,
    **extra: Any,
) -> FactT:
    """The internal event data of a registration (personal data)."""
    return model(
        registration_id=registration.id,
        action_id=action.id,
        edition_year=action.edition_year,
        alliance_id=action.alliance_id,
        alliance_name=_alliance_values(alliance)["alliance_name"],
        action_title=action.title,
        starts_at=as_utc(action.starts_at),
        ends_at=as_utc(action.ends_at),
        online=action.online,
        place=place_of(action),
        online_url=action.online_url,
        name=registration.name,
        email=registration.email,
        seats=registration.seats,
        status=registration.status,
        cancel_url=cancel_url,
        **extra,
    )


def registration_view(registration: Registration) -> RegistrationPrivate:
    """A registration with its personal data, for editors."""
    return RegistrationPrivate(
        id=registration.id,
        arrival=registration.arrival,
        name=registration.name,
        email=registration.email,
        seats=registration.seats,
        status=registration.status,
        promoted=registration.promoted,
        cancellation_reason=registration.cancellation_reason,
        created_at=as_utc(registration.created_at),
        confirmed_at=as_utc(registration.confirmed_at) if registration.confirmed_at else None,
        cancelled_at=as_utc(registration.cancelled_at) if registration.cancelled_at else None,
    )


def action_search_text(action: Action, alliance: AllianceReplica | None) -> str:
    """The normalised text the programme's `q` matches (words by prefix)."""
    return search_text_of(
        action.title,
        action.description,
        action.city,
        action.street,
        action.postal_code,
        alliance.name if alliance else None,
    )


async def load_with_alliance(
    session: AsyncSession, action_ids: Sequence[str]
) -> list[tuple[Action, AllianceReplica | None]]:
    """Actions and their alliances' replicas, in the order of `action_ids`."""
    rows = (
        await session.execute(
            select(Action, AllianceReplica)
            .outerjoin(AllianceReplica, col(AllianceReplica.id) == col(Action.alliance_id))
            .where(col(Action.id).in_(list(action_ids)))
        )
    ).all()
    by_id = {action.id: (action, alliance) for action, alliance in rows}
    return [by_id[action_id] for action_id in action_ids if action_id in by_id]
