"""Webhooks' guards: the SSRF check (when subscribing and before each delivery), the
timeout of a slow receiver, and bounded concurrency (a slow receiver holds only its
own slots, never the other receivers' or the mail dispatcher's).
"""

from __future__ import annotations

import asyncio
import uuid

import pytest

from lobu.notifications.dispatcher import DeliveryDispatcher
from lobu.notifications.errors import WebhookUrlRefusedError
from lobu.notifications.mailer import OutgoingMail
from lobu.notifications.models import Delivery
from lobu.notifications.schemas import WebhookCreate
from lobu.notifications.webhook_urls import check_url
from lobu.notifications.webhooks import WebhookSubscriptions
from lobu.shared.contracts.directory import ALLIANCE_CREATED
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
from tests.support.waiting import eventually

pytestmark = [pytest.mark.unit, pytest.mark.asyncio(loop_scope="session")]

PUBLIC = "93.184.215.14"  # a global unicast address (nothing is sent to it in these tests)


class Names:
    """A resolver the test controls: host name -> addresses."""

    def __init__(self, **names: list[str]) -> None:
        self.names = {name.replace("_", "."): addresses for name, addresses in names.items()}

    async def __call__(self, host: str, port: int) -> list[str]:
        if host not in self.names:
            raise OSError(f"{host} does not resolve")
        return self.names[host]


# --- SSRF -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://10.1.2.3/hook",  # private
        "http://192.168.178.1/hook",
        "http://172.16.0.5/hook",
        "http://127.0.0.1:8004/deliveries",  # loopback
        "http://[::1]/hook",
        "http://169.254.169.254/latest/meta-data/",  # link-local (cloud metadata)
        "http://[fe80::1]/hook",
        "http://0.0.0.0/hook",  # unspecified
        "http://[::ffff:127.0.0.1]/hook",  # IPv4-mapped loopback
        "http://100.64.0.1/hook",  # shared address space
        "http://localhost:8004/hook",  # a name that resolves to loopback (system resolver)
        "http://intranet.example/hook",  # a name that resolves to a private address
        "http://mixed.example/hook",  # one public, one private address
        "ftp://portal.example/hook",  # not http(s)
        "http://user:pw@portal.example/hook",  # credentials in the URL
    ],
)
async def test_a_url_pointing_inside_is_refused_when_subscribing(
    sessions: Sessions, url: str
) -> None:
    names = Names(intranet_example=["10.0.0.7"], mixed_example=[PUBLIC, "192.168.0.2"])
    subscriptions = WebhookSubscriptions(sessions, allowed_networks=[], resolver=names)
    if "localhost" in url:
        subscriptions = WebhookSubscriptions(sessions, allowed_networks=[])  # the real resolver

    with pytest.raises(WebhookUrlRefusedError):
        await subscriptions.create(WebhookCreate(url=url, event_types=[ALLIANCE_CREATED]))


async def test_a_public_url_is_accepted_and_loopback_only_where_allowed() -> None:
    names = Names(portal_example=[PUBLIC])

    public = await check_url("https://portal.example/hook", allowed_networks=[], resolver=names)
    local = await check_url("http://127.0.0.1:9/hook", allowed_networks=LOOPBACK, resolver=names)

    assert public.address == PUBLIC
    assert str(public.pinned) == f"https://{PUBLIC}/hook"
    assert local.address == "127.0.0.1"
    with pytest.raises(WebhookUrlRefusedError):
        await check_url("http://10.0.0.1/", allowed_networks=LOOPBACK, resolver=names)


async def test_a_name_that_turns_to_point_inside_is_refused_at_delivery_time(
    sessions: Sessions, receivers: Receivers, clock: Clock, metrics: Metrics
) -> None:
    port = receivers.url.rsplit(":", 1)[1]
    names = Names(portal_example=[PUBLIC])
    subscriptions = WebhookSubscriptions(sessions, allowed_networks=[], resolver=names)
    hook = await subscriptions.create(
        WebhookCreate(url=f"http://portal.example:{port}/rebound", event_types=[ALLIANCE_CREATED])
    )
    names.names["portal.example"] = ["127.0.0.1"]  # DNS rebinding: now it points at us
    await publish(sessions, alliance_created(str(uuid.uuid4())))

    await sender_for(sessions, metrics, clock, resolver=names, allowed=[]).send_due()

    (row,) = await webhook_deliveries(sessions, hook.id)
    assert (row.status, row.last_error) == ("retrying", "refused by the SSRF guard")
    assert receivers.received == []


# --- slow receivers ---------------------------------------------------------------------


async def test_a_receiver_that_does_not_answer_times_out_and_is_retried(
    sessions: Sessions, receivers: Receivers, clock: Clock, metrics: Metrics
) -> None:
    subscriptions = WebhookSubscriptions(sessions, allowed_networks=LOOPBACK)
    hook = await subscriptions.create(
        WebhookCreate(url=receivers.at("/silent"), event_types=[ALLIANCE_CREATED])
    )
    receivers.gates["/silent"] = asyncio.Event()  # never opened while the sender waits
    await publish(sessions, alliance_created(str(uuid.uuid4())))

    await sender_for(sessions, metrics, clock, timeout_seconds=0.5).send_due()

    (row,) = await webhook_deliveries(sessions, hook.id)
    assert (row.status, row.last_error) == ("retrying", "timeout")


class RecordingMailer:
    """A mailer that remembers what it sent."""

    def __init__(self) -> None:
        self.sent: list[OutgoingMail] = []

    async def send(self, mail: OutgoingMail) -> None:
        self.sent.append(mail)


async def test_a_slow_receiver_holds_only_its_own_slots_not_other_receivers_or_mail(
    sessions: Sessions, receivers: Receivers, clock: Clock, metrics: Metrics
) -> None:
    subscriptions = WebhookSubscriptions(sessions, allowed_networks=LOOPBACK)
    slow = await subscriptions.create(
        WebhookCreate(url=receivers.at("/slow"), event_types=[ALLIANCE_CREATED])
    )
    fast = [
        await subscriptions.create(
            WebhookCreate(url=receivers.at(f"/fast{n}"), event_types=[ALLIANCE_CREATED])
        )
        for n in range(3)
    ]
    gate = receivers.gates["/slow"] = asyncio.Event()
    facts = [alliance_created(str(uuid.uuid4())) for _ in range(6)]
    await publish(sessions, *facts)  # the slow receiver's deliveries come first in the queue
    async with sessions() as session, session.begin():
        session.add(
            Delivery(
                event_id="mail-1",
                event_type=ALLIANCE_CREATED,
                recipient="anna@example.org",
                subject="Willkommen",
                body="Guten Tag,\n",
            )
        )
    mailer = RecordingMailer()
    mail = DeliveryDispatcher(
        sessions, mailer, metrics=metrics.mail, max_attempts=3, poll_seconds=0.05
    )
    sender = sender_for(
        sessions,
        metrics,
        clock,
        concurrency=4,
        per_receiver=2,
        poll_seconds=0.05,
        timeout_seconds=120,
    )
    await sender.start()
    await mail.start()
    try:
        await eventually(
            lambda: (
                all(len(receivers.of(f"/fast{n}")) == len(facts) for n in range(3)) and mailer.sent
            ),
            timeout=60,
            what="every fast receiver's deliveries and the mail, while the slow one hangs",
        )
        assert receivers.waiting["/slow"] == 2  # its own bound, no more
        assert receivers.of("/slow") == []
    finally:
        gate.set()
        await mail.stop()
        await eventually(
            lambda: len(receivers.of("/slow")) == len(facts), timeout=60, what="the slow ones"
        )
        await sender.stop()
    for hook in (slow, *fast):
        assert {row.status for row in await webhook_deliveries(sessions, hook.id)} == {"sent"}
