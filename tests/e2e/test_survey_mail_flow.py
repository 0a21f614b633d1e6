"""An alliance entered in the directory is invited to a survey by mail, answers by its
personal link, and gets the receipt: directory, surveys and notifications as processes
on the real broker and PostgreSQL, mails in the SMTP sink.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from lobu.shared.settings import DEVELOPMENT_JWT_SECRET
from lobu.shared.topics import DIRECTORY_ALLIANCE
from tests.e2e.conftest import Platform
from tests.support.kafka_probe import caught_up
from tests.support.kafka_server import KafkaServer
from tests.support.ports import free_port
from tests.support.postgres_server import PostgresServer
from tests.support.service_process import ServiceProcess
from tests.support.waiting import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]

QUESTIONS = [
    {"key": "partner", "text": "Wie viele Partner hat Ihr Bündnis?", "type": "number",
     "min": 0, "max": 500, "integer": True, "required": True},
]  # fmt: skip


@pytest.fixture(scope="module")
def surveys(
    platform: Platform,
    kafka: KafkaServer,
    postgres: PostgresServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ServiceProcess]:
    folder: Path = tmp_path_factory.mktemp("surveys")
    port = free_port()
    with postgres.database("surveys") as url:
        service = ServiceProcess(
            app="lobu.surveys.main:create_app",
            port=port,
            env={
                "LOBU_SURVEYS_DATABASE_URL": url,
                "LOBU_SURVEYS_KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
                "LOBU_SURVEYS_ENVIRONMENT": "development",
                "LOBU_SURVEYS_JWT_SECRET": DEVELOPMENT_JWT_SECRET,
                "LOBU_SURVEYS_OUTBOX_POLL_SECONDS": "0.2",
                "LOBU_SURVEYS_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
            },
            log_file=folder / "surveys.log",
        )
        service.start()
        try:
            yield service
        finally:
            service.stop()


def text_part(message: object) -> str:
    body = message.get_body(preferencelist=("plain",))  # type: ignore[attr-defined]
    return str(body.get_content())


async def test_invitation_answer_and_receipt_by_mail(
    platform: Platform, surveys: ServiceProcess, kafka: KafkaServer
) -> None:
    email = f"kontakt-{uuid.uuid4().hex[:10]}@example.org"
    name = f"Lokales Bündnis für Familie Celle {uuid.uuid4().hex[:6]}"
    async with httpx.AsyncClient(base_url=platform.directory.url) as client:
        response = await client.post(
            "/alliances",
            json={
                "name": name,
                "state": "NI",
                "postal_code": "29221",
                "city": "Celle",
                "topics": ["vereinbarkeit"],
                "contacts": [{"name": "Jörg Weiß", "email": email, "role": "Koordination"}],
            },
            headers=platform.admin_headers,
        )
        assert response.status_code == 201, response.text
    async with httpx.AsyncClient(base_url=surveys.url, headers=platform.admin_headers) as client:

        def invitations() -> list[object]:
            return [m for m in platform.mails_to(email) if m["Subject"].startswith("Einladung")]

        # Every alliance written so far (ours too) is on the topic, and surveys has
        # read them all: the survey opened now invites our contact.
        await platform.settle()
        await eventually(
            lambda: caught_up(kafka.bootstrap_servers, "surveys", [DIRECTORY_ALLIANCE]),
            timeout=600, interval=1, what="surveys to read the directory's alliances",
        )  # fmt: skip
        title = f"Bündnisumfrage {uuid.uuid4().hex[:6]}"
        created = await client.post(
            "/surveys",
            json={
                "year": 2026,
                "title": title,
                "closes_at": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
                "questions": QUESTIONS,
            },
        )
        assert created.status_code == 201, created.text
        survey_id = created.json()["id"]
        opened = await client.post(f"/surveys/{survey_id}/open")
        assert opened.status_code == 200, opened.text

        await eventually(lambda: bool(invitations()), timeout=120, what="the invitation mail")
        invitation = invitations()[0]
        assert title in str(invitation["Subject"])  # type: ignore[index]
        text = text_part(invitation)
        assert f"„{name}“" in text
        match = re.search(r"^(http\S*/umfrage/([\w-]+))\r?$", text, flags=re.MULTILINE)
        assert match, text
        token = match.group(2)

        answered = await client.put(
            f"/answers/{token}", json={"answers": {"partner": 12}, "submit": True}
        )
        assert answered.status_code == 200, answered.text

        def receipts() -> list[object]:
            return [m for m in platform.mails_to(email) if "Eingangsbestätigung" in m["Subject"]]

        await eventually(lambda: bool(receipts()), timeout=60, what="the receipt mail")
        assert match.group(1) in text_part(receipts()[0])
        results = await client.get(f"/surveys/{survey_id}/results")
        assert results.status_code == 200, results.text
        # One respondent is below the results' privacy threshold: counted, not shown.
        assert results.json()["suppressed"] is True, results.text
        survey = (await client.get(f"/surveys/{survey_id}")).json()
        assert survey["respondents"] == 1, survey
