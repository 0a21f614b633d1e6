"""The backlog gauges leave out what waits on purpose: deliveries of paused or disabled
subscriptions wait for an admin, so they must not keep LobuNotificationBacklogGrowing
firing; an active subscription's retrying deliveries (and mail) still count."""

from __future__ import annotations

from datetime import timedelta

import pytest

from lobu.notifications.dispatcher import DeliveryDispatcher
from lobu.notifications.models import Delivery, WebhookSubscription
from lobu.shared.contracts.directory import ALLIANCE_CREATED
from tests.notifications.webhooks.webhook_support import Clock, Metrics, Sessions

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


class NoMail:
    async def send(self, mail: object) -> None:
        raise AssertionError("nothing is sent here")


async def test_paused_and_disabled_subscriptions_do_not_count_as_backlog(
    sessions: Sessions, clock: Clock, metrics: Metrics
) -> None:
    created = {"active": clock.now - timedelta(minutes=5),
               "paused": clock.now - timedelta(days=3),
               "disabled": clock.now - timedelta(days=9)}  # fmt: skip
    async with sessions() as session, session.begin():
        for status in created:
            session.add(WebhookSubscription(id=status, url=f"http://127.0.0.1:9/{status}",
                                            event_types=[ALLIANCE_CREATED], status=status,
                                            secret="whsec_x"))  # fmt: skip
            for number, delivery_status in enumerate(["retrying", "pending"]):
                session.add(Delivery(
                    event_id=f"{status}-{number}", event_type=ALLIANCE_CREATED, channel="webhook",
                    recipient=status, subject="", body="{}", status=delivery_status,
                    created_at=created[status], next_attempt_at=clock.now + timedelta(hours=1),
                ))  # fmt: skip
        # A subscription deleted meanwhile: its leftovers do not count either.
        session.add(Delivery(
            event_id="gone-0", event_type=ALLIANCE_CREATED, channel="webhook", recipient="gone",
            subject="", body="{}", status="retrying", created_at=clock.now - timedelta(days=30),
        ))  # fmt: skip
        session.add(Delivery(
            event_id="mail-0", event_type=ALLIANCE_CREATED, recipient="grete@example.org",
            subject="Willkommen", body="Guten Tag", status="retrying",
            created_at=clock.now - timedelta(minutes=2),
        ))  # fmt: skip
    dispatcher = DeliveryDispatcher(sessions, NoMail(), metrics=metrics.mail, max_attempts=3,
                                    poll_seconds=3600, clock=clock)  # fmt: skip

    await dispatcher.refresh_metrics()

    backlog = "lobu_notifications_retry_backlog"
    age = "lobu_notifications_oldest_pending_age_seconds"
    assert metrics.value(backlog, channel="webhook") == 1  # the active one's only
    assert metrics.value(age, channel="webhook") == pytest.approx(300, abs=1)
    assert metrics.value(backlog, channel="email") == 1
    assert metrics.value(age, channel="email") == pytest.approx(120, abs=1)
    # The log's counts by status still show every row.
    by_status = "lobu_notifications_deliveries_by_status"
    assert metrics.value(by_status, channel="webhook", status="retrying") == 4

    async with sessions() as session, session.begin():
        paused = await session.get(WebhookSubscription, "paused")
        assert paused is not None
        paused.status = "active"  # resumed: its wait counts again
    await dispatcher.refresh_metrics()
    assert metrics.value(backlog, channel="webhook") == 2
    assert metrics.value(age, channel="webhook") == pytest.approx(3 * 86400, abs=1)
