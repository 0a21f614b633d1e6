"""Each service's migrations build exactly the schema its models describe (both backends)."""

from __future__ import annotations

from typing import Any

import pytest
import pytest_asyncio
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, MetaData
from sqlmodel import SQLModel

from lobu.shared.database import create_engine
from lobu.shared.migrations import upgrade_database

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

SERVICES = {
    "directory": (
        "lobu.directory:migrations",
        {"alliances", "alliance_topics", "alliance_partners", "alliance_awards", "alliance_audit"}
        | {"contact_rate_windows", "privacy_requests", "privacy_answers"}
        | {"sign_in_links", "sign_in_audit"},
    ),
    "events": (
        "lobu.events:migrations",
        {
            "editions",
            "programme_alliances",
            "actions",
            "registrations",
            "action_audit",
            "action_reminders_sent",
        },
    ),
    "notifications": (
        "lobu.notifications:migrations",
        {
            "alliance_replicas",
            "contacts_replicas",
            "deliveries",
            "mail_recipients",
            "preferences",
            "digest_items",
            "pending_survey_mails",
            "webhook_subscriptions",
            "erased_addresses",
        },
    ),
    "surveys": (
        "lobu.surveys:migrations",
        {
            "surveys",
            "replicated_alliances",
            "invitations",
            "invitation_tokens",
            "responses",
            "reminders_sent",
        },
    ),
}
SHARED_TABLES = {"outbox", "inbox", "idempotency_keys", "alembic_version"}
# Made by the migrations on PostgreSQL only, with no model counterpart: the GIN
# expression index of the German full-text search (directory 0002).
POSTGRESQL_ONLY_INDEXES = {"ix_alliances_search"}


def _compared(obj: Any, name: str | None, kind: str, reflected: bool, _other: Any) -> bool:
    return not (kind == "index" and reflected and name in POSTGRESQL_ONLY_INDEXES)


def service_metadata(tables: set[str]) -> MetaData:
    """The part of the shared SQLModel metadata that belongs to one service."""
    metadata = MetaData()
    for table in SQLModel.metadata.tables.values():
        if table.name in tables | SHARED_TABLES:
            table.to_metadata(metadata)
    return metadata


@pytest_asyncio.fixture(loop_scope="session", params=sorted(SERVICES))
async def schema_differences(request: pytest.FixtureRequest, database_url: str) -> list[Any]:
    migrations, tables = SERVICES[request.param]
    engine = create_engine(database_url)
    try:
        await upgrade_database(engine, migrations)

        def compare(connection: Connection) -> list[Any]:
            context = MigrationContext.configure(
                connection,
                opts={
                    "compare_type": True,
                    "compare_server_default": False,
                    "include_object": _compared,
                },
            )
            return list(compare_metadata(context, service_metadata(tables)))

        async with engine.connect() as connection:
            return await connection.run_sync(compare)
    finally:
        await engine.dispose()


async def test_upgrade_head_builds_what_the_models_describe(schema_differences: list[Any]) -> None:
    assert schema_differences == []
