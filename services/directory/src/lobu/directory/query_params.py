"""The search parameters shared by the list, the exports and the search page."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Depends, Query

from lobu.directory.errors import InvalidSearchError
from lobu.directory.schemas import (
    AwardCodeInput,
    PartnerTypeInput,
    StateInput,
    StatusInput,
    TopicInput,
)
from lobu.directory.search import AllianceQuery, Near

DEFAULT_RADIUS_KM = 25.0
# ASCII decimals only: float() would also read "١٢" (Arabic-Indic digits), "1_0" or "nan".
_COORDINATE = re.compile(r"\s*[+-]?[0-9]{1,3}(?:\.[0-9]{1,12})?\s*", re.ASCII)


def parse_near(near: str, radius_km: float | None) -> Near:
    """`"52.37,9.73"` and a radius as a Near; InvalidSearchError says what is wrong."""
    parts = near.split(",")
    try:
        if len(parts) != 2 or not all(_COORDINATE.fullmatch(part) for part in parts):
            raise ValueError(near)
        latitude, longitude = (float(part) for part in parts)
    except ValueError:
        raise InvalidSearchError(
            f"near={near!r} is not 'latitude,longitude' (e.g. near=52.3759,9.7320)", field="near"
        ) from None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise InvalidSearchError(f"near={near!r} is not a place on Earth", field="near")
    return Near(latitude, longitude, radius_km if radius_km is not None else DEFAULT_RADIUS_KM)


async def alliance_query(
    q: Annotated[
        str | None, Query(max_length=200, description="Words in name, place or partners")
    ] = None,
    state: Annotated[StateInput | None, Query(description="Land, e.g. NI or Niedersachsen")] = None,
    topic: Annotated[
        TopicInput | None, Query(description="A field of action (code or label)")
    ] = None,
    partner_type: Annotated[PartnerTypeInput | None, Query()] = None,
    status: Annotated[StatusInput | None, Query()] = None,
    award: Annotated[AwardCodeInput | None, Query()] = None,
    near: Annotated[
        str | None, Query(max_length=60, description="latitude,longitude; sorts by distance")
    ] = None,
    radius_km: Annotated[
        float | None, Query(gt=0, le=1000, description=f"with near; default {DEFAULT_RADIUS_KM:g}")
    ] = None,
    include_dissolved: Annotated[
        bool, Query(description="false: leave out dissolved alliances (unless status= names it)")
    ] = True,
) -> AllianceQuery:
    """The search as the query string describes it."""
    if radius_km is not None and near is None:
        raise InvalidSearchError("radius_km needs near=latitude,longitude", field="radius_km")
    return AllianceQuery(
        text=q, state=state, topic=topic, partner_type=partner_type, status=status,
        award=award, near=parse_near(near, radius_km) if near else None,
        include_dissolved=include_dissolved,
    )  # fmt: skip


SearchQuery = Annotated[AllianceQuery, Depends(alliance_query)]
