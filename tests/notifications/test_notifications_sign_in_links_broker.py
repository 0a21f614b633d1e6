"""A sign-in link through the real broker: the directory's event, published twice on
`directory.sign-in-link`, becomes one mail at the SMTP sink, and the delivery's body is
erased once sent. The whole app as main.py builds it, on SQLite."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import select
from sqlmodel import col

from lobu.notifications.main import create_app
from lobu.notifications.models import Delivery
from lobu.shared import Envelope
from lobu.shared.contracts.directory import SIGN_IN_LINK_REQUESTED, SignInLinkRequested
from lobu.shared.envelope import to_kafka_record
from lobu.shared.mailsink import MailSink
from lobu.shared.topics import DIRECTORY_SIGN_IN_LINK
from tests.notifications.conftest import SettingsFactory
from tests.support.kafka_server import KafkaServer
from tests.support.waiting import eventually

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

LINK = "http://127.0.0.1:8001/anmelden/broker-test-token-0815"


async def test_a_link_published_twice_is_mailed_once_and_erased(
    tmp_path: Path, notification_settings: SettingsFactory, kafka: KafkaServer, mail_sink: MailSink
) -> None:
    address = f"broker-{tmp_path.name[-8:]}@example.org".lower()
    settings = notification_settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path}/n.db",
        kafka_bootstrap_servers=kafka.bootstrap_servers,
        smtp_port=mail_sink.port,
        delivery_poll_seconds=0.1,
    )
    data = SignInLinkRequested(
        request_id="broker-1", email=address, link=LINK,
        expires_at=datetime.now(UTC) + timedelta(minutes=15), requested_at=datetime.now(UTC),
    )  # fmt: skip
    event = Envelope(type=SIGN_IN_LINK_REQUESTED, source="/lobu/directory", subject="broker-1",
                     data=data.model_dump(mode="json"))  # fmt: skip
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap_servers, acks="all")
        await producer.start()
        try:
            record = to_kafka_record(event)
            for _ in range(2):  # the relay may publish an event again
                await producer.send_and_wait(
                    DIRECTORY_SIGN_IN_LINK, record.value, key=record.key,
                    headers=list(record.headers.items()),
                )  # fmt: skip
        finally:
            await producer.stop()

        async def sent_and_erased() -> bool | None:
            async with app.state.runtime.sessions() as session:
                rows = (
                    await session.scalars(
                        select(Delivery).where(col(Delivery.recipient) == address)
                    )
                ).all()
            done = len(rows) == 1 and rows[0].status == "sent" and rows[0].body == ""
            return True if done else None

        await eventually(sent_and_erased, timeout=90, what="the link mailed and erased")  # type: ignore[arg-type]
        await asyncio.sleep(1)  # time for a second copy, which must not come
        mails = [path.read_bytes() for path in mail_sink.messages()]
        assert len([mail for mail in mails if LINK.encode() in mail]) == 1
