"""The welcome mail as a contact reads it: the alliance named once, a "-- " signature
line, and how to reach the Servicebüro (configured in the settings).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from lobu.notifications.main import create_app
from lobu.notifications.models import Delivery
from lobu.notifications.settings import NotificationSettings
from lobu.shared import Envelope
from lobu.shared.contracts.directory import (
    ALLIANCE_CONTACTS_CHANGED,
    ALLIANCE_CREATED,
    AllianceContactsChanged,
    AllianceCreated,
    ContactPerson,
)
from tests.notifications.conftest import SettingsFactory, reactions_for

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

MOMENT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
HOTLINE = "030 123456-0"
MAILBOX = "info@servicebuero.example"


@dataclass
class Service:
    settings: NotificationSettings
    sessions: async_sessionmaker[AsyncSession]


@pytest_asyncio.fixture(loop_scope="session")
async def service(tmp_path: Path, notification_settings: SettingsFactory) -> AsyncIterator[Service]:
    """Notifications with the Servicebüro's phone and public address configured."""
    configured = notification_settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path}/n.db",
        servicebuero_phone=HOTLINE,
        servicebuero_contact_email=MAILBOX,
    )
    app = create_app(configured)
    async with app.router.lifespan_context(app):
        yield Service(configured, app.state.runtime.sessions)


async def welcome(service: Service, name: str, city: str) -> Delivery:
    """The welcome written for a new alliance `name` in `city` with one contact."""
    sessions = service.sessions
    number = abs(hash(name)) % 10**12
    alliance_id = f"00000000-0000-4000-8000-{number:012d}"
    created = AllianceCreated(
        id=alliance_id, slug=f"b-{number}", name=name, state="NI", postal_code="38640",
        city=city, version=1, created_at=MOMENT, updated_at=MOMENT,
    )  # fmt: skip
    contacts = AllianceContactsChanged(
        alliance_id=alliance_id, version=1,
        contacts=[ContactPerson(name="Jörg Weiß", email=f"j{number}@example.org")],
    )  # fmt: skip
    reactions = reactions_for(service.settings)
    for event_type, data, handler in [
        (ALLIANCE_CREATED, created, reactions.on_created),
        (ALLIANCE_CONTACTS_CHANGED, contacts, reactions.on_contacts_changed),
    ]:
        envelope = Envelope(type=event_type, source="/lobu/directory", subject=alliance_id,
                            data=data.model_dump(mode="json"))  # fmt: skip
        async with sessions() as session, session.begin():
            await handler(session, envelope)
    async with sessions() as session:
        return (
            await session.scalars(
                select(Delivery).where(
                    col(Delivery.alliance_id) == alliance_id, col(Delivery.template) == "welcome"
                )
            )
        ).one()


async def test_an_alliance_named_lokales_buendnis_is_named_once(
    service: Service,
) -> None:
    mail = await welcome(service, "Lokales Bündnis für Familie Goslar", "Goslar")
    text = " ".join(mail.body.split())
    assert "Bündnis für Familie „Lokales" not in text
    assert "„Lokales Bündnis für Familie Goslar“ ist jetzt in der Adressdatenbank" in text
    assert "Goslar“ in Goslar" not in text
    assert "für „Lokales Bündnis für Familie Goslar“ eingetragen wurden" in text  # the footer
    assert "Bündnis für Familie „Lokales" not in " ".join(str(mail.html_body).split())


async def test_an_alliance_with_a_short_name_is_introduced_with_its_town(
    service: Service,
) -> None:
    mail = await welcome(service, "Familie Nordstadt", "Hannover")
    text = " ".join(mail.body.split())
    assert "das Lokale Bündnis für Familie „Familie Nordstadt“ in Hannover ist jetzt" in text


async def test_the_welcome_has_a_signature_line_and_says_how_to_reach_the_servicebuero(
    service: Service,
) -> None:
    mail = await welcome(service, "Bündnis für Familie Celle", "Celle")
    lines = mail.body.splitlines()
    assert lines.count("-- ") == 1
    assert "--" not in lines
    body, signature = mail.body.split("\n-- \n")
    assert MAILBOX in body
    assert HOTLINE in body
    assert "Servicebüro Lokale Bündnisse für Familie" in signature
    assert f"E-Mail: {MAILBOX}" in signature
    assert f"Telefon: {HOTLINE}" in signature
    assert f'href="mailto:{MAILBOX}"' in str(mail.html_body)
    assert HOTLINE in str(mail.html_body)
