"""The programme's query string, shared by the list, the map data and the feeds."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Depends, Path, Query

from lobu.events.domain import PUBLIC_STATES
from lobu.events.errors import InvalidQueryError, NotAllowedError
from lobu.events.models import ActionState
from lobu.events.programme import Near, ProgrammeQuery
from lobu.events.schemas import ActionStateName
from lobu.shared import OptionalCaller, as_utc
from lobu.shared.contracts.events import TargetGroup
from lobu.shared.contracts.vocabulary import StateCode

DEFAULT_RADIUS_KM = 25.0

YearPath = Annotated[int, Path(ge=2000, le=2100, description="The edition's year")]


def parse_near(near: str, radius_km: float | None) -> Near:
    """`"52.37,9.73"` and a radius as a Near; InvalidQueryError says what is wrong."""
    try:
        latitude, longitude = (float(part) for part in near.split(","))
    except ValueError:
        raise InvalidQueryError(
            f"near={near!r} is not 'latitude,longitude' (e.g. near=52.3759,9.7320)", field="near"
        ) from None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise InvalidQueryError(f"near={near!r} is not a place on Earth", field="near")
    return Near(latitude, longitude, radius_km if radius_km is not None else DEFAULT_RADIUS_KM)


def _aware(moment: dt.datetime | None, name: str) -> dt.datetime | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        raise InvalidQueryError(f"{name} needs a UTC offset, e.g. 2027-05-15T10:00:00+02:00")
    return as_utc(moment)


def programme_query(
    year: YearPath,
    caller: OptionalCaller,
    state: Annotated[
        ActionStateName | None,
        Query(description="Lifecycle state; published by default; others for editors only"),
    ] = None,
    land: Annotated[StateCode | None, Query(description="The alliance's Land, e.g. NI")] = None,
    alliance: Annotated[str | None, Query(alias="alliance_id", max_length=64)] = None,
    day: Annotated[dt.date | None, Query(description="Takes place on this day (Berlin)")] = None,
    starts_from: Annotated[dt.datetime | None, Query(alias="from")] = None,
    starts_until: Annotated[dt.datetime | None, Query(alias="until")] = None,
    target_group: Annotated[TargetGroup | None, Query()] = None,
    q: Annotated[
        str | None, Query(max_length=200, description="Words in title, description, place")
    ] = None,
    near: Annotated[
        str | None, Query(max_length=60, description="latitude,longitude; sorts by distance")
    ] = None,
    radius_km: Annotated[
        float | None, Query(gt=0, le=1000, description=f"with near; default {DEFAULT_RADIUS_KM:g}")
    ] = None,
) -> ProgrammeQuery:
    """The selection as the query string describes it, limited to what the caller may see."""
    if radius_km is not None and near is None:
        raise InvalidQueryError("radius_km needs near=latitude,longitude", field="radius_km")
    wanted = ActionState(state) if state else ActionState.PUBLISHED
    only_alliance = None
    if wanted not in PUBLIC_STATES:
        if caller is None:
            raise NotAllowedError(f"Actions that are {wanted.value} are shown to editors only.")
        if not caller.is_admin:
            only_alliance = caller.alliance_id or ""
    return ProgrammeQuery(
        year=year, states=frozenset({wanted}), land=land, alliance_id=alliance, day=day,
        starts_from=_aware(starts_from, "from"), starts_until=_aware(starts_until, "until"),
        target_group=target_group, text=q, near=parse_near(near, radius_km) if near else None,
        only_alliance=only_alliance,
    )  # fmt: skip


ProgrammeQueryDep = Annotated[ProgrammeQuery, Depends(programme_query)]
