"""The directory's retention of access exports: the found records go, the audit stays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lobu.directory.main import create_app
from lobu.directory.privacy_models import PrivacyAnswer, PrivacyRequest
from lobu.directory.settings import DirectorySettings
from lobu.shared.metrics import ServiceMetrics
from lobu.shared.retention import RetentionJob
from tests.support.tokens import TEST_AUTH

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

T0 = datetime(2026, 5, 15, 8, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_directory_anonymises_access_exports_after_their_period(
    database_url: str,
) -> None:
    """The directory's rule: an answer's export goes, the answer (the audit) stays."""
    app = create_app(
        DirectorySettings(
            database_url=database_url,
            kafka_bootstrap_servers="127.0.0.1:1",
            privacy_export_retention="P30D",
            **TEST_AUTH,
        )
    )
    async with app.router.lifespan_context(app):
        runtime = app.state.runtime
        async with runtime.sessions() as session, session.begin():
            session.add(PrivacyRequest(id="r1", kind="access", address_hash="h" * 64,
                                       requested_by="staff", services=["events"]))  # fmt: skip
            await session.flush()
            session.add(PrivacyAnswer(request_id="r1", service="events", counts={"x": 1},
                                      export={"x": [{"email": "a@example.org"}]},
                                      answered_at=T0))  # fmt: skip
        clock = FakeClock(T0 + timedelta(days=31))
        job = RetentionJob(runtime.sessions, metrics=ServiceMetrics(service="d"), clock=clock)
        for declared in runtime.retention.rules:
            if declared.name == "privacy_exports":
                job.declare(declared)
        assert await job.run_once() == {"privacy_exports": 1}
        async with runtime.sessions() as session:
            answer = await session.get(PrivacyAnswer, ("r1", "events"))
        assert answer is not None
        assert answer.export is None
        assert answer.counts == {"x": 1}
