"""Webhooks end to end in one process: a real receiver verifies with `standardwebhooks`.

SQLite, the sender with a clock the test moves (no jitter, so waits are exact), and
a uvicorn receiver on a free loopback port (allowed by the sender's allow-list, as
`make run` allows it).
"""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import select
from sqlmodel import col

from lobu.notifications.consumers import alliance_handlers, with_webhooks
from lobu.notifications.models import Delivery, WebhookStatus
from lobu.notifications.schemas import WebhookCreate, WebhookCreated
from lobu.notifications.webhook_fanout import WEBHOOK_EVENT_TYPES, WEBHOOK_TOPICS
from lobu.notifications.webhooks import WebhookSubscriptions
from lobu.shared.contracts.directory import ALLIANCE_CREATED
from lobu.shared.contracts.registry import EVENT_DEFINITIONS
from lobu.shared.topics import DIRECTORY_ALLIANCE_CONTACTS, EVENTS_REGISTRATION, SURVEYS_INVITATION
from tests.notifications.conftest import SettingsFactory, reactions_for
from tests.notifications.webhooks.webhook_receiver import Receivers
from tests.notifications.webhooks.webhook_support import (
    LOOPBACK,
    Clock,
    Metrics,
    Sessions,
    alliance_created,
    publish,
    sender_for,
    webhook_deliveries,
)

pytestmark = [pytest.mark.unit, pytest.mark.asyncio(loop_scope="session")]


def subscriptions_for(sessions: Sessions, **overrides: object) -> WebhookSubscriptions:
    return WebhookSubscriptions(sessions, allowed_networks=LOOPBACK, **overrides)  # type: ignore[arg-type]


async def subscribe(sessions: Sessions, url: str) -> WebhookCreated:
    return await subscriptions_for(sessions).create(
        WebhookCreate(url=url, event_types=[ALLIANCE_CREATED])
    )


# --- what a delivery is -----------------------------------------------------------------


async def test_a_delivery_is_the_structured_cloudevent_signed_as_standard_webhooks_verify(
    sessions: Sessions, receivers: Receivers, clock: Clock, metrics: Metrics
) -> None:
    hook = await subscribe(sessions, receivers.at("/portal"))
    event = alliance_created(str(uuid.uuid4()))
    await publish(sessions, event)

    assert await sender_for(sessions, metrics, clock).send_due() == 1

    (got,) = receivers.of("/portal")
    assert hook.secret.startswith("whsec_")
    assert got.verifies_with(hook.secret)
    assert got.headers["webhook-id"] == event.id
    assert int(got.headers["webhook-timestamp"]) == int(clock.now.timestamp())
    assert got.headers["content-type"] == "application/cloudevents+json"
    body = json.loads(got.body)
    assert body["specversion"] == "1.0"
    assert (body["id"], body["type"], body["source"], body["subject"]) == (
        event.id,
        ALLIANCE_CREATED,
        "/lobu/directory",
        event.subject,
    )
    assert body["data"] == event.data
    (row,) = await webhook_deliveries(sessions, hook.id)
    assert (row.status, row.attempts) == ("sent", 1)
    assert (
        metrics.value("lobu_notifications_deliveries_total", channel="webhook", status="sent") == 1
    )


async def test_a_wrong_secret_or_a_changed_body_does_not_verify(
    sessions: Sessions, receivers: Receivers, clock: Clock, metrics: Metrics
) -> None:
    hook = await subscribe(sessions, receivers.at("/tamper"))
    other = await subscribe(sessions, receivers.at("/other"))
    await publish(sessions, alliance_created(str(uuid.uuid4())))
    await sender_for(sessions, metrics, clock).send_due()

    (got,) = receivers.of("/tamper")
    assert not got.verifies_with(other.secret)
    tampered = type(got)(path=got.path, headers=got.headers, body=got.body.replace(b"1.0", b"1.1"))
    assert not tampered.verifies_with(hook.secret)


async def test_only_public_topics_feed_webhooks_never_personal_data() -> None:
    personal = {DIRECTORY_ALLIANCE_CONTACTS, SURVEYS_INVITATION, EVENTS_REGISTRATION}

    assert WEBHOOK_EVENT_TYPES
    assert not personal & set(WEBHOOK_TOPICS)
    assert all(EVENT_DEFINITIONS[t].topic not in personal for t in WEBHOOK_EVENT_TYPES)


async def test_the_consumer_writes_mail_and_webhook_deliveries_in_one_transaction(
    sessions: Sessions, receivers: Receivers, notification_settings: SettingsFactory
) -> None:
    hook = await subscribe(sessions, receivers.at("/consumer"))
    event = alliance_created(str(uuid.uuid4()))
    handlers = with_webhooks(alliance_handlers(reactions_for(notification_settings())))

    async with sessions() as session, session.begin():
        await handlers[ALLIANCE_CREATED](session, event)

    async with sessions() as session:
        channels = sorted(
            (
                await session.scalars(
                    select(col(Delivery.channel)).where(col(Delivery.event_id) == event.id)
                )
            ).all()
        )
    assert channels == ["email", "webhook"]  # the Servicebüro's notice, and the webhook
    assert [row.event_id for row in await webhook_deliveries(sessions, hook.id)] == [event.id]


# --- retries, rotation ------------------------------------------------------------------


async def test_retries_follow_the_schedule_on_the_injected_clock_with_one_webhook_id(
    sessions: Sessions, receivers: Receivers, clock: Clock, metrics: Metrics
) -> None:
    hook = await subscribe(sessions, receivers.at("/flaky"))
    receivers.answers["/flaky"] = [503, 500, 200]
    event = alliance_created(str(uuid.uuid4()))
    await publish(sessions, event)
    sender = sender_for(sessions, metrics, clock, schedule=(5, 30, 120))
    started = clock.now

    assert await sender.send_due() == 1
    (row,) = await webhook_deliveries(sessions, hook.id)
    assert (row.status, row.last_error) == ("retrying", "HTTP 503")
    clock.advance(4.9)
    assert await sender.send_due() == 0  # not due before 5 s
    clock.advance(0.1)
    assert await sender.send_due() == 1
    clock.advance(29.9)
    assert await sender.send_due() == 0  # then 30 s
    clock.advance(0.1)
    assert await sender.send_due() == 1

    got = receivers.of("/flaky")
    assert [each.headers["webhook-id"] for each in got] == [event.id] * 3
    assert [int(each.headers["webhook-timestamp"]) for each in got] == [
        int(started.timestamp()) + offset for offset in (0, 5, 35)
    ]
    assert all(each.verifies_with(hook.secret) for each in got)
    assert len({each.body for each in got}) == 1
    (row,) = await webhook_deliveries(sessions, hook.id)
    assert (row.status, row.attempts) == ("sent", 3)
    assert (
        metrics.value("lobu_notifications_deliveries_total", channel="webhook", status="retried")
        == 2
    )


async def test_the_default_schedule_starts_soon_and_retries_for_more_than_a_day(
    notification_settings: SettingsFactory,
) -> None:
    schedule = notification_settings().webhook_retry_schedule

    assert schedule[:3] == [5, 30, 120]
    assert schedule == sorted(schedule)
    assert sum(schedule) * 0.8 > 24 * 3600  # even with the shortest jitter


async def test_a_delivery_fails_after_the_last_attempt_and_can_be_retried_by_hand(
    sessions: Sessions, receivers: Receivers, clock: Clock, metrics: Metrics
) -> None:
    hook = await subscribe(sessions, receivers.at("/down"))
    receivers.answers["/down"] = [500, 500, 200]
    await publish(sessions, alliance_created(str(uuid.uuid4())))
    sender = sender_for(sessions, metrics, clock, schedule=(5,))
    await sender.send_due()
    clock.advance(5)
    await sender.send_due()
    (row,) = await webhook_deliveries(sessions, hook.id)
    assert (row.status, row.attempts) == ("failed", 2)

    retried = await subscriptions_for(sessions).retry(hook.id, row.id or 0)
    assert retried.status == "pending"
    await sender.send_due()

    (row,) = await webhook_deliveries(sessions, hook.id)
    assert row.status == "sent"
    ids = {each.headers["webhook-id"] for each in receivers.of("/down")}
    assert len(ids) == 1


async def test_during_a_rotation_both_secrets_sign_and_after_the_overlap_only_the_new(
    sessions: Sessions, receivers: Receivers, clock: Clock, metrics: Metrics
) -> None:
    hook = await subscribe(sessions, receivers.at("/rotate"))
    rotating = subscriptions_for(sessions, secret_overlap_seconds=60, clock=clock)
    rotated = await rotating.rotate_secret(hook.id)
    sender = sender_for(sessions, metrics, clock)

    await publish(sessions, alliance_created(str(uuid.uuid4())))
    await sender.send_due()
    clock.advance(61)  # receivers accept timestamps up to 5 min off: a short overlap
    await publish(sessions, alliance_created(str(uuid.uuid4())))
    await sender.send_due()

    during, after = receivers.of("/rotate")
    assert rotated.secret != hook.secret
    assert len(during.signatures) == 2
    assert during.verifies_with(hook.secret)
    assert during.verifies_with(rotated.secret)
    assert len(after.signatures) == 1
    assert after.verifies_with(rotated.secret)
    assert not after.verifies_with(hook.secret)


# --- disabling --------------------------------------------------------------------------


async def test_a_410_answer_disables_the_subscription(
    sessions: Sessions, receivers: Receivers, clock: Clock, metrics: Metrics
) -> None:
    hook = await subscribe(sessions, receivers.at("/gone"))
    receivers.answers["/gone"] = [410]
    await publish(sessions, alliance_created(str(uuid.uuid4())))
    sender = sender_for(sessions, metrics, clock)

    await sender.send_due()
    await publish(sessions, alliance_created(str(uuid.uuid4())))
    clock.advance(3600)
    assert await sender.send_due() == 0
    await sender.refresh_metrics()

    view = await subscriptions_for(sessions).get(hook.id)
    assert view.status == WebhookStatus.DISABLED.value
    assert view.disabled_reason == "the receiver answered 410 Gone"
    (first,) = await webhook_deliveries(sessions, hook.id)  # none for the later fact
    assert (first.status, first.last_error) == ("failed", "HTTP 410")
    assert len(receivers.of("/gone")) == 1
    assert metrics.value("lobu_notifications_webhook_subscriptions", status="disabled") == 1


async def test_n_failures_in_a_row_disable_and_a_resume_sends_what_waited(
    sessions: Sessions, receivers: Receivers, clock: Clock, metrics: Metrics
) -> None:
    hook = await subscribe(sessions, receivers.at("/broken"))
    receivers.answers["/broken"] = [500, 500, 500, 200]
    await publish(sessions, alliance_created(str(uuid.uuid4())))
    sender = sender_for(sessions, metrics, clock, schedule=(5, 5, 5, 5), disable_after=3)

    for _ in range(4):
        await sender.send_due()
        clock.advance(5)

    view = await subscriptions_for(sessions).get(hook.id)
    assert (view.status, view.disabled_reason) == ("disabled", "3 failed attempts in a row")
    assert len(receivers.of("/broken")) == 3

    resumed = await subscriptions_for(sessions).resume(hook.id)
    assert (resumed.status, resumed.consecutive_failures) == ("active", 0)
    await sender.send_due()
    (row,) = await webhook_deliveries(sessions, hook.id)
    assert row.status == "sent"


async def test_a_paused_subscription_collects_and_sends_on_resume(
    sessions: Sessions, receivers: Receivers, clock: Clock, metrics: Metrics
) -> None:
    hook = await subscribe(sessions, receivers.at("/paused"))
    await subscriptions_for(sessions).pause(hook.id)
    await publish(sessions, alliance_created(str(uuid.uuid4())))
    sender = sender_for(sessions, metrics, clock)

    assert await sender.send_due() == 0
    await subscriptions_for(sessions).resume(hook.id)
    assert await sender.send_due() == 1
    assert len(receivers.of("/paused")) == 1


async def test_a_deleted_subscription_gets_nothing_and_its_unsent_deliveries_are_cancelled(
    sessions: Sessions, receivers: Receivers, clock: Clock, metrics: Metrics
) -> None:
    hook = await subscribe(sessions, receivers.at("/deleted"))
    await publish(sessions, alliance_created(str(uuid.uuid4())))
    await subscriptions_for(sessions).delete(hook.id)

    assert await sender_for(sessions, metrics, clock).send_due() == 0
    (row,) = await webhook_deliveries(sessions, hook.id)
    assert row.status == "cancelled"
