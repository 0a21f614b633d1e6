"""HTTP routes of notifications: the delivery log and manual retries (admin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query, Request

from lobu.notifications.deliveries import retry_delivery, retry_failed
from lobu.notifications.models import DeliveryStatus
from lobu.notifications.queries import DeliveryFilters, list_deliveries
from lobu.notifications.routing import Category
from lobu.notifications.schemas import DeliveryPage, DeliveryView, RetriedCount, RetryFailed
from lobu.shared import AdminCaller, ServiceRouter

router = ServiceRouter(tags=["deliveries"])

DeliveryId = Annotated[int, Path(ge=1, le=2**63 - 1)]


@router.get("/deliveries", response_model=DeliveryPage, summary="The delivery log (admin)")
async def get_deliveries(
    request: Request,
    _caller: AdminCaller,
    status: Annotated[DeliveryStatus | None, Query()] = None,
    alliance_id: Annotated[str | None, Query(max_length=64)] = None,
    event_id: Annotated[str | None, Query(max_length=64)] = None,
    event_type: Annotated[str | None, Query(max_length=200)] = None,
    category: Annotated[Category | None, Query()] = None,
    recipient: Annotated[str | None, Query(max_length=320)] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> DeliveryPage:
    return await list_deliveries(
        request.app.state.runtime.sessions,
        DeliveryFilters(
            status=status.value if status else None,
            alliance_id=alliance_id,
            event_id=event_id,
            event_type=event_type,
            category=category.value if category else None,
            recipient=recipient,
        ),
        cursor=cursor,
        limit=limit,
    )


@router.post(
    "/deliveries/{delivery_id}/retry",
    response_model=DeliveryView,
    summary="Send a failed delivery again (admin)",
    responses={409: {"description": "The delivery is not failed"}},
)
async def post_delivery_retry(
    request: Request, _caller: AdminCaller, delivery_id: DeliveryId
) -> DeliveryView:
    return await retry_delivery(request.app.state.runtime.sessions, delivery_id)


@router.post(
    "/deliveries/retry-failed",
    response_model=RetriedCount,
    summary="Send every failed delivery of an event type again (admin)",
)
async def post_retry_failed(
    request: Request, _caller: AdminCaller, body: RetryFailed
) -> RetriedCount:
    retried = await retry_failed(request.app.state.runtime.sessions, body.event_type)
    return RetriedCount(retried=retried)
