"""The Servicebüro's figures of an edition: actions and places per Land, registrations
and fill rate, and the same as CSV for German Excel.

What counts (docs/events.md): published actions (cancelled ones apart); a place is an
on-site action's postal code and town, counted once per Land however many actions it
has; online actions are counted apart. Registrations are the confirmed ones (their
seats), seats still waiting apart. The fill rate is the confirmed seats of actions
with a capacity over the sum of those capacities (None without any capacity).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from lobu.events.domain import end_of_day
from lobu.events.models import Action, ActionState, AllianceReplica, Registration
from lobu.events.models import RegistrationStatus as Status
from lobu.events.service.editions import load_edition
from lobu.shared import utc_now
from lobu.shared.contracts.vocabulary import STATES
from lobu.shared.text_search import normalise

UNKNOWN_LAND = "–"


@dataclass(frozen=True)
class ActionFigures:
    """One action as the statistics need it."""

    land: str | None
    state: str
    online: bool
    place: str | None  # normalised postal code and town of an on-site action
    capacity: int | None
    registration_required: bool
    registrations: int = 0
    seats_confirmed: int = 0
    seats_waiting: int = 0


@dataclass
class LandFigures:
    """The figures of one Land (or of all, for the totals)."""

    land: str
    actions: int = 0
    cancelled: int = 0
    online: int = 0
    registrations: int = 0
    seats_confirmed: int = 0
    seats_waiting: int = 0
    capacity: int = 0
    seats_in_capacity: int = 0  # confirmed seats of the actions with a capacity
    _places: set[str] = field(default_factory=set)

    @property
    def places(self) -> int:
        """Distinct on-site places."""
        return len(self._places)

    @property
    def fill_rate(self) -> float | None:
        """Confirmed seats over capacity, of the actions that have one."""
        return self.seats_in_capacity / self.capacity if self.capacity else None

    def add(self, action: ActionFigures) -> None:
        """Count one action in."""
        if action.state == ActionState.CANCELLED.value:
            self.cancelled += 1
            return
        self.actions += 1
        if action.online:
            self.online += 1
        elif action.place:
            self._places.add(action.place)
        self.registrations += action.registrations
        self.seats_confirmed += action.seats_confirmed
        self.seats_waiting += action.seats_waiting
        if action.capacity is not None and action.registration_required:
            self.capacity += action.capacity
            self.seats_in_capacity += action.seats_confirmed


def tally(actions: Iterable[ActionFigures]) -> tuple[list[LandFigures], LandFigures]:
    """Figures per Land (in the order of the Länder's names) and the totals."""
    by_land: dict[str, LandFigures] = {}
    total = LandFigures(land="")
    for action in actions:
        land = action.land or UNKNOWN_LAND
        by_land.setdefault(land, LandFigures(land=land)).add(action)
        total.add(action)
    ordered = sorted(by_land.values(), key=lambda f: STATES.get(f.land, "\uffff"))
    return ordered, total


@dataclass(frozen=True)
class EditionFigures:
    """An edition's statistics: per Land, the totals, and whether the day is over."""

    year: int
    date: dt.date
    final: bool
    by_land: list[LandFigures]
    total: LandFigures


class Statistics:
    """Counts an edition's actions and registrations."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def of(self, year: int) -> EditionFigures:
        """The figures of `year`'s edition (EditionNotFoundError when there is none)."""
        async with self.sessions() as session:
            edition = await load_edition(session, year)
            rows = (
                await session.execute(
                    select(Action, col(AllianceReplica.state))
                    .outerjoin(AllianceReplica, col(AllianceReplica.id) == col(Action.alliance_id))
                    .where(col(Action.edition_year) == year,
                           col(Action.state).in_([ActionState.PUBLISHED.value,
                                                  ActionState.CANCELLED.value]))
                )
            ).all()  # fmt: skip
            counts = (
                await session.execute(
                    select(col(Registration.action_id), col(Registration.status),
                           func.count(), func.sum(col(Registration.seats)))
                    .join(Action, col(Action.id) == col(Registration.action_id))
                    .where(col(Action.edition_year) == year)
                    .group_by(col(Registration.action_id), col(Registration.status))
                )
            ).all()  # fmt: skip
        per_action: dict[tuple[str, str], tuple[int, int]] = {
            (action_id, status): (int(number), int(seats or 0))
            for action_id, status, number, seats in counts
        }
        figures = [_figures(action, land, per_action) for action, land in rows]
        by_land, total = tally(figures)
        return EditionFigures(
            year=year, date=edition.date, final=utc_now() >= end_of_day(edition.date),
            by_land=by_land, total=total,
        )  # fmt: skip


def _figures(
    action: Action, land: str | None, counts: dict[tuple[str, str], tuple[int, int]]
) -> ActionFigures:
    # Seats from the action's own counter: it outlives the registrations (retention).
    confirmed, _seats = counts.get((action.id, Status.CONFIRMED.value), (0, 0))
    seats = action.seats_taken
    _waiting, waiting_seats = counts.get((action.id, Status.WAITLISTED.value), (0, 0))
    place = None
    if not action.online and (action.city or action.postal_code):
        place = normalise(f"{action.postal_code or ''} {action.city or ''}")
    return ActionFigures(
        land=land or None, state=action.state, online=action.online, place=place,
        capacity=action.capacity, registration_required=action.registration_required,
        registrations=confirmed, seats_confirmed=seats, seats_waiting=waiting_seats,
    )  # fmt: skip


def percent_de(rate: float | None) -> str:
    """ "62,5" (one decimal, comma), or "" without a rate."""
    return "" if rate is None else f"{rate * 100:.1f}".replace(".", ",")


CSV_HEADER = ["Land", "Aktionen", "Abgesagt", "Orte", "Online", "Anmeldungen",
              "Plätze bestätigt", "Plätze Warteliste", "Kapazität", "Auslastung (%)"]  # fmt: skip


def csv_rows(figures: EditionFigures) -> Iterator[list[str]]:
    """The header, one row per Land and the totals ("Gesamt"), as text cells."""
    yield CSV_HEADER
    for row in [*figures.by_land, figures.total]:
        name = "Gesamt" if row is figures.total else STATES.get(row.land, row.land)
        yield [name, str(row.actions), str(row.cancelled), str(row.places), str(row.online),
               str(row.registrations), str(row.seats_confirmed), str(row.seats_waiting),
               str(row.capacity), percent_de(row.fill_rate)]  # fmt: skip
