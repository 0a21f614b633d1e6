"""Webhook subscriptions: the admin's use cases (one transaction each).

A subscription names a URL (checked by the SSRF guard) and public event types; its
deliveries are rows of the delivery log with channel `webhook`, so listing and retrying
them is the mail log's mechanism narrowed to the subscription.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from lobu.notifications.deliveries import retry_delivery
from lobu.notifications.errors import (
    DeliveryNotFoundError,
    UnknownWebhookEventTypeError,
    WebhookNotFoundError,
)
from lobu.notifications.models import (
    UNSENT_STATUSES,
    Delivery,
    DeliveryStatus,
    WebhookStatus,
    WebhookSubscription,
)
from lobu.notifications.queries import DeliveryFilters, list_deliveries
from lobu.notifications.schemas import (
    DeliveryPage,
    DeliveryView,
    WebhookCreate,
    WebhookCreated,
    WebhookSecret,
    WebhookView,
)
from lobu.notifications.webhook_fanout import WEBHOOK, WEBHOOK_EVENT_TYPES
from lobu.notifications.webhook_signing import new_secret
from lobu.notifications.webhook_urls import Network, Resolver, check_url, resolve_host
from lobu.shared import as_utc, utc_now

logger = logging.getLogger(__name__)


def as_webhook_view(row: WebhookSubscription) -> WebhookView:
    """The API's view of a subscription, times in UTC."""
    return WebhookView(
        id=row.id,
        url=row.url,
        event_types=list(row.event_types),
        status=row.status,
        disabled_reason=row.disabled_reason,
        disabled_at=as_utc(row.disabled_at) if row.disabled_at else None,
        consecutive_failures=row.consecutive_failures,
        previous_secret_until=(
            as_utc(row.previous_secret_until) if row.previous_secret_until else None
        ),
        created_at=as_utc(row.created_at),
        updated_at=as_utc(row.updated_at),
    )


class WebhookSubscriptions:
    """Create, list, pause, resume, delete and rotate subscriptions; their delivery log."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        allowed_networks: Sequence[Network],
        require_https: bool = False,
        secret_overlap_seconds: float = 86400.0,
        resolver: Resolver = resolve_host,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._allowed = allowed_networks
        self._require_https = require_https
        self._overlap = timedelta(seconds=secret_overlap_seconds)
        self._resolver = resolver

    async def create(self, request: WebhookCreate) -> WebhookCreated:
        """Subscribe `request.url` to the event types; the answer holds the secret."""
        unknown = sorted(set(request.event_types) - WEBHOOK_EVENT_TYPES)
        if unknown:
            raise UnknownWebhookEventTypeError(
                f"webhooks carry public event types only; unknown: {', '.join(unknown)}",
                allowed=sorted(WEBHOOK_EVENT_TYPES),
            )
        checked = await check_url(
            request.url,
            allowed_networks=self._allowed,
            resolver=self._resolver,
            require_https=self._require_https,
        )
        row = WebhookSubscription(
            id=uuid.uuid4().hex,
            url=str(checked.url),
            event_types=sorted(set(request.event_types)),
            secret=new_secret(),
        )
        async with self._sessions() as session, session.begin():
            session.add(row)
        logger.info("webhook %s subscribed to %d event types", row.id, len(row.event_types))
        return WebhookCreated(**as_webhook_view(row).model_dump(), secret=row.secret)

    async def list(self) -> list[WebhookView]:
        """Every subscription, oldest first."""
        async with self._sessions() as session:
            rows = (
                await session.scalars(
                    select(WebhookSubscription).order_by(
                        col(WebhookSubscription.created_at), col(WebhookSubscription.id)
                    )
                )
            ).all()
        return [as_webhook_view(row) for row in rows]

    async def get(self, webhook_id: str) -> WebhookView:
        """One subscription."""
        async with self._sessions() as session:
            return as_webhook_view(await _find(session, webhook_id))

    async def pause(self, webhook_id: str) -> WebhookView:
        """Hold its deliveries (they wait, and go out on resume)."""
        return await self._set_status(webhook_id, WebhookStatus.PAUSED)

    async def resume(self, webhook_id: str) -> WebhookView:
        """Send again, also after lobu disabled it; the failure count starts afresh."""
        return await self._set_status(webhook_id, WebhookStatus.ACTIVE)

    async def _set_status(self, webhook_id: str, status: WebhookStatus) -> WebhookView:
        async with self._sessions() as session, session.begin():
            row = await _find(session, webhook_id, for_update=True)
            row.status = status.value
            row.updated_at = utc_now()
            if status is WebhookStatus.ACTIVE:
                row.consecutive_failures = 0
                row.disabled_reason = None
                row.disabled_at = None
            await session.flush()
            logger.info("webhook %s is %s", webhook_id, status.value)
            return as_webhook_view(row)

    async def delete(self, webhook_id: str) -> None:
        """Remove the subscription; its unsent deliveries are cancelled (the log stays)."""
        async with self._sessions() as session, session.begin():
            row = await _find(session, webhook_id, for_update=True)
            await session.delete(row)
            await session.execute(
                update(Delivery)
                .where(
                    col(Delivery.channel) == WEBHOOK,
                    col(Delivery.recipient) == webhook_id,
                    col(Delivery.status).in_(UNSENT_STATUSES),
                )
                .values(
                    status=DeliveryStatus.CANCELLED.value,
                    last_error="the subscription was deleted",
                )
                .execution_options(synchronize_session=False)
            )
        logger.info("webhook %s deleted", webhook_id)

    async def rotate_secret(self, webhook_id: str) -> WebhookSecret:
        """A new secret; the current one keeps signing beside it for the overlap period."""
        async with self._sessions() as session, session.begin():
            row = await _find(session, webhook_id, for_update=True)
            now = self._clock()
            row.previous_secret = row.secret
            row.previous_secret_until = now + self._overlap
            row.secret = new_secret()
            row.updated_at = now
            await session.flush()
            logger.info("webhook %s has a new secret", webhook_id)
            return WebhookSecret(
                id=row.id, secret=row.secret, previous_secret_until=row.previous_secret_until
            )

    async def deliveries(
        self, webhook_id: str, *, status: str | None, cursor: str | None, limit: int
    ) -> DeliveryPage:
        """The subscription's delivery log, newest first."""
        await self.get(webhook_id)
        return await list_deliveries(
            self._sessions,
            DeliveryFilters(status=status, channel=WEBHOOK, recipient=webhook_id),
            cursor=cursor,
            limit=limit,
        )

    async def retry(self, webhook_id: str, delivery_id: int) -> DeliveryView:
        """Send a failed delivery of this subscription again (as `POST /deliveries/{id}/retry`)."""
        async with self._sessions() as session:
            await _find(session, webhook_id)
            owner = await session.scalar(
                select(col(Delivery.recipient)).where(
                    col(Delivery.id) == delivery_id, col(Delivery.channel) == WEBHOOK
                )
            )
        if owner != webhook_id:
            raise DeliveryNotFoundError(f"webhook {webhook_id} has no delivery {delivery_id}")
        return await retry_delivery(self._sessions, delivery_id)


async def _find(
    session: AsyncSession, webhook_id: str, *, for_update: bool = False
) -> WebhookSubscription:
    query = select(WebhookSubscription).where(col(WebhookSubscription.id) == webhook_id)
    row = await session.scalar(query.with_for_update() if for_update else query)
    if row is None:
        raise WebhookNotFoundError(f"there is no webhook {webhook_id}")
    return row
