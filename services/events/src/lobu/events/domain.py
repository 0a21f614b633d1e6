"""Rules of the Aktionstag that need no I/O: dates, the lifecycle, the waiting list."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from lobu.events.errors import InvalidTransitionError
from lobu.events.models import ActionState

BERLIN = ZoneInfo("Europe/Berlin")
# The International Day of Families.
DAY_OF_FAMILIES = (5, 15)

_DRAFT, _SUBMITTED, _PUBLISHED = ActionState.DRAFT, ActionState.SUBMITTED, ActionState.PUBLISHED
_REJECTED, _CANCELLED = ActionState.REJECTED, ActionState.CANCELLED

# Which step may start from which states.
TRANSITIONS: dict[str, tuple[frozenset[ActionState], ActionState]] = {
    "submit": (frozenset({_DRAFT, _REJECTED}), _SUBMITTED),
    "publish": (frozenset({_SUBMITTED}), _PUBLISHED),
    "reject": (frozenset({_SUBMITTED, _PUBLISHED}), _REJECTED),
    "cancel": (frozenset({_DRAFT, _SUBMITTED, _PUBLISHED, _REJECTED}), _CANCELLED),
}
# Coordinators change their action only while the Servicebüro is not looking at it.
COORDINATOR_EDITABLE = frozenset({_DRAFT, _REJECTED})
PUBLIC_STATES = frozenset({_PUBLISHED, _CANCELLED})


def default_edition_date(year: int) -> dt.date:
    """15 May of `year`."""
    return dt.date(year, *DAY_OF_FAMILIES)


def end_of_day(day: dt.date) -> dt.datetime:
    """Midnight after `day` in Berlin, as aware UTC."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), BERLIN).astimezone(dt.UTC)


def start_of_day(day: dt.date) -> dt.datetime:
    """Midnight before `day` in Berlin, as aware UTC."""
    return dt.datetime.combine(day, dt.time(), BERLIN).astimezone(dt.UTC)


def next_step(current: ActionState, step: str) -> ActionState:
    """The state after `step`; InvalidTransitionError if `current` does not allow it."""
    allowed, target = TRANSITIONS[step]
    if current not in allowed:
        raise InvalidTransitionError(
            f"An action that is {current.value} cannot be {_PAST[step]} "
            f"(only one that is {' or '.join(sorted(s.value for s in allowed))}).",
            state=current.value,
        )
    return target


_PAST = {"submit": "submitted", "publish": "published", "reject": "rejected", "cancel": "cancelled"}


def seats_free(capacity: int | None, seats_taken: int) -> int | None:
    """Free seats; None when the action has no capacity (no limit)."""
    return None if capacity is None else max(0, capacity - seats_taken)


def fits(capacity: int | None, seats_taken: int, seats: int) -> bool:
    """Whether `seats` more fit."""
    return capacity is None or seats_taken + seats <= capacity


@dataclass(frozen=True)
class WaitingRequest:
    """A waiting registration: its place in the order of arrival and its seats."""

    registration_id: str
    arrival: int
    seats: int


def promotions(
    waiting: Sequence[WaitingRequest], *, capacity: int | None, seats_taken: int
) -> list[WaitingRequest]:
    """The waiting requests to confirm now, by the rule in docs/events.md.

    In order of arrival, each request that fits entirely into the seats still free is
    promoted, whole; one that does not fit keeps its place and the next is tried. So
    no request is ever split, and a small request never waits behind a large one that
    cannot be served. After the promotions no waiting request fits (the invariant that
    lets a new request be confirmed at once whenever it fits).
    """
    promoted: list[WaitingRequest] = []
    taken = seats_taken
    for request in sorted(waiting, key=lambda r: r.arrival):
        if fits(capacity, taken, request.seats):
            promoted.append(request)
            taken += request.seats
    return promoted


def reminder_due(starts_at: dt.datetime, now: dt.datetime, *, hour: int) -> bool:
    """Whether the day-before reminder of an action starting at `starts_at` is due now.

    From `hour` o'clock (Berlin) on the day before the action until it begins; a
    service that was down that day still reminds on the morning itself.
    """
    day_before = starts_at.astimezone(BERLIN).date() - dt.timedelta(days=1)
    due_from = dt.datetime.combine(day_before, dt.time(hour), BERLIN)
    return due_from <= now < starts_at
