"""HTTP routes of notifications."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Query, Request

from lobu.notifications.queries import DeliveryFilters, list_deliveries
from lobu.notifications.schemas import DeliveryPage
from lobu.shared import AdminCaller, ServiceRouter

router = ServiceRouter(tags=["deliveries"])


@router.get("/deliveries", response_model=DeliveryPage, summary="The delivery log (admin)")
async def get_deliveries(
    request: Request,
    _caller: AdminCaller,
    status: Annotated[Literal["pending", "sent", "failed", "cancelled"] | None, Query()] = None,
    alliance_id: Annotated[str | None, Query(max_length=64)] = None,
    event_id: Annotated[str | None, Query(max_length=64)] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> DeliveryPage:
    return await list_deliveries(
        request.app.state.runtime.sessions,
        DeliveryFilters(status=status, alliance_id=alliance_id, event_id=event_id),
        cursor=cursor,
        limit=limit,
    )
