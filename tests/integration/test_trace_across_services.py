"""One trace from an HTTP write in directory to the mail it causes in notifications.

Both services run in this process (their lifespans: migrations, relay, consumer,
dispatcher) on the session's broker, SQLite and a mail sink; the spans go to an
in-memory exporter. The record on the topic carries the trace as `ce_traceparent`.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from lobu.directory.main import create_app as create_directory
from lobu.directory.settings import DirectorySettings
from lobu.notifications.consumers import CONSUMER_GROUP
from lobu.notifications.main import create_app as create_notifications
from lobu.notifications.settings import NotificationSettings
from lobu.shared.auth import Role
from lobu.shared.mailsink import MailSink
from lobu.shared.topics import ALL_TOPICS, DIRECTORY_ALLIANCE
from lobu.shared.tracing import provider
from tests.support.kafka_probe import read_topic, skip_backlog
from tests.support.kafka_server import KafkaServer
from tests.support.ports import free_port
from tests.support.tokens import TEST_AUTH, bearer
from tests.support.waiting import eventually

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


def in_trace(spans: tuple[ReadableSpan, ...], trace_id: int) -> dict[str, ReadableSpan]:
    return {
        span.name: span
        for span in spans
        if span.context is not None and span.context.trace_id == trace_id
    }


async def test_one_trace_from_the_http_write_to_the_welcome_mail(
    kafka: KafkaServer, tmp_path: Path
) -> None:
    exporter = InMemorySpanExporter()
    provider().add_span_processor(SimpleSpanProcessor(exporter))
    await skip_backlog(kafka.bootstrap_servers, CONSUMER_GROUP, list(ALL_TOPICS))
    sink = MailSink(tmp_path / "mail", port=free_port())
    sink.start()
    directory = create_directory(
        DirectorySettings(
            database_url=f"sqlite+aiosqlite:///{tmp_path}/directory.db",
            kafka_bootstrap_servers=kafka.bootstrap_servers, outbox_poll_seconds=0.2,
            log_json=False, **TEST_AUTH,
        )
    )  # fmt: skip
    notifications = create_notifications(
        NotificationSettings(
            database_url=f"sqlite+aiosqlite:///{tmp_path}/notifications.db",
            kafka_bootstrap_servers=kafka.bootstrap_servers, smtp_port=sink.port,
            delivery_poll_seconds=0.2, log_json=False, **TEST_AUTH,
        )
    )  # fmt: skip
    try:
        async with (
            directory.router.lifespan_context(directory),
            notifications.router.lifespan_context(notifications),
        ):
            await notifications.state.runtime.kafka.wait_connected()
            transport = httpx.ASGITransport(app=directory)
            async with httpx.AsyncClient(transport=transport, base_url="http://d") as client:
                response = await client.post(
                    "/alliances",
                    json={
                        "name": f"Bündnis für Familie Celle {uuid.uuid4().hex[:6]}",
                        "state": "NI", "postal_code": "29221", "city": "Celle",
                        "contacts": [{"name": "Jörg Weiß", "email": "trace@example.org"}],
                    },
                    headers=bearer(Role.ADMIN),
                )  # fmt: skip
            assert response.status_code == 201, response.text
            alliance = str(response.json()["id"])
            (http,) = [s for s in exporter.get_finished_spans() if s.name == "POST /alliances"]
            assert http.context is not None
            trace_id = http.context.trace_id

            def mail_span() -> bool:
                return "send email" in in_trace(exporter.get_finished_spans(), trace_id)

            await eventually(mail_span, timeout=90, what="the welcome mail's span in the trace")
            records = await read_topic(
                kafka.bootstrap_servers, DIRECTORY_ALLIANCE,
                until=lambda seen: any(r.key == alliance.encode() for r in seen),
            )  # fmt: skip
    finally:
        sink.stop()

    spans = in_trace(exporter.get_finished_spans(), trace_id)
    assert {
        "POST /alliances",
        "publish directory.alliance",
        "publish directory.alliance-contacts",
        "process directory.alliance",
        "process directory.alliance-contacts",
        "send email",
    } <= spans.keys()
    (record,) = [r for r in records if r.key == alliance.encode()]
    traceparent = record.headers["ce_traceparent"].decode()
    assert traceparent.split("-")[1] == f"{trace_id:032x}"
    # The record names the span that wrote the row (inside the request), and the
    # consumer continues from exactly that span.
    written_by = int(traceparent.split("-")[2], 16)
    assert written_by in {span.context.span_id for span in spans.values() if span.context}
    process = spans["process directory.alliance"]
    assert process.parent is not None
    assert process.parent.span_id == written_by
    assert spans["send email"].parent is not None
    assert [m for m in sink.messages()], "the welcome was sent"
