"""Sends due webhook deliveries, signed, with retries; never blocked by one receiver.

The same outbox as mail (rows of `deliveries`, channel `webhook`), the same claim
(compare-and-set into `sending` with a lease, `FOR UPDATE SKIP LOCKED` on PostgreSQL)
and the same injected clock; what differs is the sending. Mail goes out in rounds;
here every request is a task of its own, started whenever a slot is free, so a slow
receiver holds its own slots (`per_receiver`, taken into account when claiming) and
never the others' or the mail dispatcher's. Each attempt has a timeout.

Outcomes: 2xx sent (the subscription's failure count starts afresh); 410 Gone
disables the subscription; anything else (status, timeout, refused connection, an
address the SSRF guard refuses now) is retried after the schedule's next wait with
jitter, and failed after the last. `disable_after` failed attempts in a row disable
the subscription. Its waiting deliveries stay and go out when an admin resumes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from opentelemetry.trace import SpanKind
from prometheus_client import Counter, Gauge
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from lobu.notifications.deliveries import claim_for_sending
from lobu.notifications.errors import WebhookUrlRefusedError
from lobu.notifications.models import (
    DUE_STATUSES,
    Delivery,
    DeliveryStatus,
    WebhookStatus,
    WebhookSubscription,
)
from lobu.notifications.webhook_fanout import WEBHOOK
from lobu.notifications.webhook_signing import signature_header
from lobu.notifications.webhook_urls import Network, Resolver, check_url, resolve_host
from lobu.shared import as_utc, utc_now
from lobu.shared.tracing import context_of, tracer

IDLE_CONNECTION_SECONDS = 2.0
logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]
DEFAULT_SCHEDULE = (5, 30, 120, 600, 1800, 3600, 7200, 14400, 28800, 43200, 43200)
JITTER = 0.2  # each wait is drawn from [w * 0.8, w * 1.2]
CONTENT_TYPE = "application/cloudevents+json"
USER_AGENT = "lobu-webhooks/1 (Standard Webhooks)"


@dataclass(frozen=True)
class WebhookMetrics:
    """The sender's metrics (main.py): the shared delivery counter, and subscriptions."""

    outcomes: Counter  # channel ("webhook"), status: sent, retried, failed
    subscriptions: Gauge  # status: active, paused, disabled


@dataclass(frozen=True)
class WebhookPolicy:
    """How the sender behaves (from the settings)."""

    concurrency: int = 32
    per_receiver: int = 4
    timeout_seconds: float = 10.0
    schedule: Sequence[int] = DEFAULT_SCHEDULE
    disable_after: int = 50
    allowed_networks: Sequence[Network] = ()
    require_https: bool = False
    poll_seconds: float = 0.5


@dataclass(frozen=True)
class _Claimed:
    id: int
    attempts: int
    event_id: str
    body: bytes
    subscription_id: str
    url: str
    signing_secrets: tuple[str, ...]
    traceparent: str | None = None


class WebhookSender:
    """Works through due webhook deliveries in the background."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        metrics: WebhookMetrics,
        policy: WebhookPolicy,
        client: httpx.AsyncClient | None = None,
        clock: Clock = utc_now,
        resolver: Resolver = resolve_host,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._sessions = sessions
        self._metrics = metrics
        self._policy = policy
        self._own_client = client is None
        # An idle connection is dropped after 2 s, before receivers close theirs
        # (uvicorn after 5 s, httpx's own default): reusing one the receiver is closing
        # fails with ReadError and costs the delivery an attempt and a retry.
        self._client = client or httpx.AsyncClient(
            follow_redirects=False, limits=httpx.Limits(keepalive_expiry=IDLE_CONNECTION_SECONDS)
        )
        self._clock = clock
        self._resolver = resolver
        self._jitter = jitter
        # A crash mid-request leaves the delivery `sending`; after this it is sent again.
        self._lease = timedelta(seconds=policy.timeout_seconds + 60)
        self._in_flight: dict[asyncio.Task[None], str] = {}
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start sending in the background."""
        self._stopping.clear()
        self._task = asyncio.create_task(self._run(), name="webhook-sender")

    async def stop(self) -> None:
        """Stop claiming; requests in flight end within their timeout."""
        if self._task is not None:
            self._stopping.set()
            self._wake.set()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.drain()
        if self._own_client:
            await self._client.aclose()

    async def _run(self) -> None:
        rounds = 0
        while not self._stopping.is_set():
            try:
                await self.dispatch_due()
                if rounds % 10 == 0:
                    await self.refresh_metrics()
            except Exception as error:
                logger.error("webhook round failed: %s", type(error).__name__)
            rounds += 1
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._policy.poll_seconds)

    async def drain(self) -> None:
        """Wait for every request in flight (and its record)."""
        while self._in_flight:
            await asyncio.gather(*list(self._in_flight), return_exceptions=True)

    async def send_due(self) -> int:
        """Send what is due now and wait for the outcomes; how many were tried (tests)."""
        tried = 0
        while started := await self.dispatch_due():
            tried += started
            await asyncio.wait(list(self._in_flight), return_when=asyncio.FIRST_COMPLETED)
        await self.drain()
        return tried

    async def dispatch_due(self) -> int:
        """Claim due deliveries into the free slots and start them; how many started."""
        free = self._policy.concurrency - len(self._in_flight)
        if free <= 0:
            return 0
        claimed = await self._claim(free)
        for each in claimed:
            task = asyncio.create_task(self._deliver(each), name=f"webhook-{each.id}")
            self._in_flight[task] = each.subscription_id
            task.add_done_callback(self._finished)
        return len(claimed)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._in_flight.pop(task, None)
        self._wake.set()

    def _busy(self) -> dict[str, int]:
        busy: dict[str, int] = {}
        for subscription_id in self._in_flight.values():
            busy[subscription_id] = busy.get(subscription_id, 0) + 1
        return busy

    async def _claim(self, free: int) -> list[_Claimed]:
        now = self._clock()
        busy = self._busy()
        saturated = [key for key, count in busy.items() if count >= self._policy.per_receiver]
        active = select(col(WebhookSubscription.id)).where(
            col(WebhookSubscription.status) == WebhookStatus.ACTIVE.value
        )
        due = or_(
            col(Delivery.status).in_(DUE_STATUSES),
            # Claimed by a process that died before recording the outcome.
            col(Delivery.status) == DeliveryStatus.SENDING.value,
        )
        claimed: list[_Claimed] = []
        async with self._sessions() as session, session.begin():
            candidates = (
                await session.scalars(
                    select(Delivery)
                    .where(
                        col(Delivery.channel) == WEBHOOK,
                        and_(due, col(Delivery.next_attempt_at) <= now),
                        col(Delivery.recipient).in_(active.scalar_subquery()),
                        col(Delivery.recipient).not_in(saturated),
                    )
                    .order_by(col(Delivery.next_attempt_at), col(Delivery.id))
                    .limit(free * self._policy.per_receiver)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            subscriptions = {
                row.id: row
                for row in (
                    await session.scalars(
                        select(WebhookSubscription).where(
                            col(WebhookSubscription.id).in_({c.recipient for c in candidates})
                        )
                    )
                ).all()
            }
            for delivery in candidates:
                subscription = subscriptions.get(delivery.recipient)
                if len(claimed) >= free or subscription is None or delivery.id is None:
                    continue
                if busy.get(delivery.recipient, 0) >= self._policy.per_receiver:
                    continue
                if not await claim_for_sending(session, delivery, lease_until=now + self._lease):
                    continue
                busy[delivery.recipient] = busy.get(delivery.recipient, 0) + 1
                claimed.append(
                    _Claimed(
                        id=delivery.id,
                        attempts=delivery.attempts + 1,
                        event_id=delivery.event_id,
                        body=delivery.body.encode(),
                        subscription_id=subscription.id,
                        url=subscription.url,
                        signing_secrets=_signing_secrets(subscription, now),
                        traceparent=delivery.traceparent,
                    )
                )
        return claimed

    async def _deliver(self, claimed: _Claimed) -> None:
        try:
            with tracer().start_as_current_span(
                "send webhook",
                context=context_of(claimed.traceparent),
                kind=SpanKind.CLIENT,
                attributes={
                    "lobu.delivery.channel": WEBHOOK,
                    "lobu.delivery.attempt": claimed.attempts,
                },
            ) as span:
                status = await self._post(claimed)
                span.set_attribute("http.response.status_code", status)
        except WebhookUrlRefusedError:
            await self._record_failure(claimed, "refused by the SSRF guard")
            return
        except httpx.TimeoutException:
            await self._record_failure(claimed, "timeout")
            return
        except httpx.HTTPError as error:
            await self._record_failure(claimed, type(error).__name__)
            return
        if 200 <= status < 300:
            await self._record_success(claimed, status)
        elif status == 410:
            await self._record_gone(claimed)
        else:
            await self._record_failure(claimed, f"HTTP {status}")

    async def _post(self, claimed: _Claimed) -> int:
        checked = await check_url(
            claimed.url,
            allowed_networks=self._policy.allowed_networks,
            resolver=self._resolver,
            require_https=self._policy.require_https,
        )
        timestamp = int(self._clock().timestamp())
        host = checked.url.netloc.decode("ascii")
        headers = {
            "host": host,
            "content-type": CONTENT_TYPE,
            "user-agent": USER_AGENT,
            "webhook-id": claimed.event_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signature_header(
                claimed.signing_secrets,
                message_id=claimed.event_id,
                timestamp=timestamp,
                body=claimed.body,
            ),
        }
        # Connect to the address that was checked; TLS still verifies the host name.
        extensions = {"sni_hostname": checked.url.host} if checked.url.scheme == "https" else {}
        response = await self._client.post(
            checked.pinned,
            content=claimed.body,
            headers=headers,
            timeout=self._policy.timeout_seconds,
            extensions=extensions,
        )
        await response.aclose()
        return response.status_code

    async def _record_success(self, claimed: _Claimed, status: int) -> None:
        async with self._sessions() as session, session.begin():
            await _set_delivery(
                session,
                claimed,
                status=DeliveryStatus.SENT,
                values={"sent_at": self._clock(), "last_error": None},
            )
            await session.execute(
                update(WebhookSubscription)
                .where(
                    col(WebhookSubscription.id) == claimed.subscription_id,
                    col(WebhookSubscription.consecutive_failures) != 0,
                )
                .values(consecutive_failures=0)
            )
        self._metrics.outcomes.labels(WEBHOOK, "sent").inc()

    async def _record_gone(self, claimed: _Claimed) -> None:
        reason = "the receiver answered 410 Gone"
        async with self._sessions() as session, session.begin():
            await _set_delivery(
                session, claimed, status=DeliveryStatus.FAILED, values={"last_error": "HTTP 410"}
            )
            await self._disable(session, claimed.subscription_id, reason)
        self._metrics.outcomes.labels(WEBHOOK, "failed").inc()

    async def _record_failure(self, claimed: _Claimed, description: str) -> None:
        schedule = self._policy.schedule
        last = claimed.attempts > len(schedule)
        async with self._sessions() as session, session.begin():
            if last:
                await _set_delivery(
                    session,
                    claimed,
                    status=DeliveryStatus.FAILED,
                    values={"last_error": description},
                )
            else:
                wait = schedule[claimed.attempts - 1] * (1 + JITTER * (2 * self._jitter() - 1))
                await _set_delivery(
                    session,
                    claimed,
                    status=DeliveryStatus.RETRYING,
                    values={
                        "last_error": description,
                        "next_attempt_at": self._clock() + timedelta(seconds=wait),
                    },
                )
            failures = await session.scalar(
                update(WebhookSubscription)
                .where(col(WebhookSubscription.id) == claimed.subscription_id)
                .values(consecutive_failures=col(WebhookSubscription.consecutive_failures) + 1)
                .returning(col(WebhookSubscription.consecutive_failures))
            )
            if failures is not None and failures >= self._policy.disable_after:
                await self._disable(
                    session, claimed.subscription_id, f"{failures} failed attempts in a row"
                )
        logger.warning(
            "webhook delivery %s to %s failed (%s)%s",
            claimed.id,
            claimed.subscription_id,
            description,
            ", giving up" if last else "",
        )
        self._metrics.outcomes.labels(WEBHOOK, "failed" if last else "retried").inc()

    async def _disable(self, session: AsyncSession, subscription_id: str, reason: str) -> None:
        result = await session.execute(
            update(WebhookSubscription)
            .where(
                col(WebhookSubscription.id) == subscription_id,
                col(WebhookSubscription.status) == WebhookStatus.ACTIVE.value,
            )
            .values(
                status=WebhookStatus.DISABLED.value,
                disabled_reason=reason,
                disabled_at=self._clock(),
                updated_at=self._clock(),
            )
        )
        if getattr(result, "rowcount", 0) == 1:
            logger.warning("webhook %s disabled: %s", subscription_id, reason)

    async def refresh_metrics(self) -> None:
        """Set the subscriptions gauge by status."""
        async with self._sessions() as session:
            counts = dict(
                (
                    await session.execute(
                        select(col(WebhookSubscription.status), func.count()).group_by(
                            col(WebhookSubscription.status)
                        )
                    )
                ).all()
            )
        for status in WebhookStatus:
            self._metrics.subscriptions.labels(status.value).set(counts.get(status.value, 0))


def _signing_secrets(subscription: WebhookSubscription, now: datetime) -> tuple[str, ...]:
    """The current secret, and during a rotation's overlap the former one as well."""
    until = subscription.previous_secret_until
    if subscription.previous_secret and until is not None and as_utc(until) > now:
        return (subscription.secret, subscription.previous_secret)
    return (subscription.secret,)


async def _set_delivery(
    session: AsyncSession, claimed: _Claimed, *, status: DeliveryStatus, values: dict[str, object]
) -> None:
    await session.execute(
        update(Delivery)
        .where(
            col(Delivery.id) == claimed.id,
            col(Delivery.status) == DeliveryStatus.SENDING.value,
            col(Delivery.attempts) == claimed.attempts,
        )
        .values(status=status.value, **values)
        .execution_options(synchronize_session=False)
    )
