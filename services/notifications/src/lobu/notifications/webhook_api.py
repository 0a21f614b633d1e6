"""HTTP routes of webhook subscriptions (admin): subscribe, list, pause, rotate, the log."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query, Request, Response

from lobu.notifications.models import DeliveryStatus
from lobu.notifications.schemas import (
    DeliveryPage,
    DeliveryView,
    WebhookCreate,
    WebhookCreated,
    WebhookList,
    WebhookSecret,
    WebhookView,
)
from lobu.notifications.webhooks import WebhookSubscriptions
from lobu.shared import AdminCaller, ServiceRouter

router = ServiceRouter(tags=["webhooks"])

WebhookId = Annotated[str, Path(min_length=1, max_length=64, pattern="^[0-9a-f]{1,64}$")]
DeliveryId = Annotated[int, Path(ge=1, le=2**63 - 1)]
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No such webhook"}}


def _subscriptions(request: Request) -> WebhookSubscriptions:
    subscriptions: WebhookSubscriptions = request.app.state.webhooks
    return subscriptions


@router.post(
    "/webhooks",
    status_code=201,
    response_model=WebhookCreated,
    summary="Subscribe a URL to public event types (admin); the answer holds the secret",
    responses={422: {"description": "Unknown event type, or a URL lobu does not send to"}},
)
async def post_webhook(
    request: Request, response: Response, _caller: AdminCaller, body: WebhookCreate
) -> WebhookCreated:
    created = await _subscriptions(request).create(body)
    response.headers["Location"] = f"/webhooks/{created.id}"
    return created


@router.get("/webhooks", response_model=WebhookList, summary="Every webhook (admin)")
async def get_webhooks(request: Request, _caller: AdminCaller) -> WebhookList:
    return WebhookList(items=await _subscriptions(request).list())


@router.get(
    "/webhooks/{webhook_id}",
    response_model=WebhookView,
    summary="One webhook (admin)",
    responses=NOT_FOUND,
)
async def get_webhook(request: Request, _caller: AdminCaller, webhook_id: WebhookId) -> WebhookView:
    return await _subscriptions(request).get(webhook_id)


@router.post(
    "/webhooks/{webhook_id}/pause",
    response_model=WebhookView,
    summary="Hold a webhook's deliveries (admin)",
    responses=NOT_FOUND,
)
async def post_webhook_pause(
    request: Request, _caller: AdminCaller, webhook_id: WebhookId
) -> WebhookView:
    return await _subscriptions(request).pause(webhook_id)


@router.post(
    "/webhooks/{webhook_id}/resume",
    response_model=WebhookView,
    summary="Send a paused or disabled webhook's deliveries again (admin)",
    responses=NOT_FOUND,
)
async def post_webhook_resume(
    request: Request, _caller: AdminCaller, webhook_id: WebhookId
) -> WebhookView:
    return await _subscriptions(request).resume(webhook_id)


@router.delete(
    "/webhooks/{webhook_id}",
    status_code=204,
    summary="Remove a webhook (admin)",
    responses=NOT_FOUND,
)
async def delete_webhook(request: Request, _caller: AdminCaller, webhook_id: WebhookId) -> Response:
    await _subscriptions(request).delete(webhook_id)
    return Response(status_code=204)


@router.post(
    "/webhooks/{webhook_id}/rotate-secret",
    response_model=WebhookSecret,
    summary="A new secret; the former one signs as well during the overlap (admin)",
    responses=NOT_FOUND,
)
async def post_webhook_rotate_secret(
    request: Request, _caller: AdminCaller, webhook_id: WebhookId
) -> WebhookSecret:
    return await _subscriptions(request).rotate_secret(webhook_id)


@router.get(
    "/webhooks/{webhook_id}/deliveries",
    response_model=DeliveryPage,
    summary="A webhook's delivery log (admin)",
    responses=NOT_FOUND,
)
async def get_webhook_deliveries(
    request: Request,
    _caller: AdminCaller,
    webhook_id: WebhookId,
    status: Annotated[DeliveryStatus | None, Query()] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> DeliveryPage:
    return await _subscriptions(request).deliveries(
        webhook_id, status=status.value if status else None, cursor=cursor, limit=limit
    )


@router.post(
    "/webhooks/{webhook_id}/deliveries/{delivery_id}/retry",
    response_model=DeliveryView,
    summary="Send a failed delivery of a webhook again (admin)",
    responses={**NOT_FOUND, 409: {"description": "The delivery is not failed"}},
)
async def post_webhook_delivery_retry(
    request: Request, _caller: AdminCaller, webhook_id: WebhookId, delivery_id: DeliveryId
) -> DeliveryView:
    return await _subscriptions(request).retry(webhook_id, delivery_id)
