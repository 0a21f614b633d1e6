"""The Aktionstag's day-before mails as the handlers render them: the reminder to the
participant, and the list of who is coming to each contact of the alliance (once each).
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from lobu.shared import Envelope, EventHandler
from lobu.shared.contracts.events import (
    REGISTRATION_REMINDED,
    REGISTRATIONS_LISTED,
    Participant,
    RegistrationsListed,
)
from lobu.shared.database import create_session_factory
from tests.notifications.test_notifications_survey_and_registration_mails import (
    GRETE,
    JOSEF,
    STARTS,
    contacts,
    created,
    deliver,
    engine,  # noqa: F401  # the fixture
    handlers,  # noqa: F401  # the fixture
    registration,
    rows,
)

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


def listed(alliance_id: str) -> Envelope:
    data = RegistrationsListed(
        action_id="a-1", edition_year=2027, alliance_id=alliance_id,
        alliance_name="Bündnis für Familie Lüneburg", action_title="Familienfest am Mühlbach",
        starts_at=STARTS, ends_at=STARTS + timedelta(hours=3), place="Mühlweg 3, 21335 Lüneburg",
        capacity=10, seats_confirmed=4, seats_waiting=2,
        participants=[Participant(name="Jürgen Weiß", email="juergen@example.org", seats=3),
                      Participant(name="Ida Kaya", email="ida@example.org", seats=1)],
    )  # fmt: skip
    return Envelope(type=REGISTRATIONS_LISTED, source="/lobu/events", subject="a-1",
                    data=data.model_dump(mode="json"))  # fmt: skip


async def test_the_participant_is_reminded_and_the_coordinators_get_the_list(
    engine: AsyncEngine,  # noqa: F811
    handlers: dict[str, EventHandler],  # noqa: F811
) -> None:
    sessions = create_session_factory(engine)
    alliance = str(uuid.uuid4())
    reminder = registration(REGISTRATION_REMINDED, cancel_url=None)
    roster = listed(alliance)
    await deliver(
        sessions,
        handlers,
        created(alliance),
        contacts(alliance, [GRETE, JOSEF]),
        reminder,
        roster,
        roster,
    )  # the list twice: written once per address
    mail = (await rows(sessions, REGISTRATION_REMINDED))["juergen.weiss@example.org"]
    assert mail.subject == "Erinnerung: morgen „Familienfest am Mühlbach“"
    assert "am 15.05.2027 um 10:00 Uhr" in mail.body
    assert "Sie haben 3 Plätze." in mail.body
    assert mail.category == "event_reminders"
    assert mail.unsubscribe_url  # a reminder may be switched off
    lists = await rows(sessions, REGISTRATIONS_LISTED)
    assert sorted(lists) == [GRETE.email, JOSEF.email]
    body = lists[GRETE.email].body
    assert lists[GRETE.email].subject == "Wer morgen kommt: Familienfest am Mühlbach"
    assert "Hallo Grete Müller," in body
    assert "2 Anmeldungen mit 4 Plätzen von 10" in body
    assert "Warteliste stehen noch 2 Plätze" in body
    assert "- Jürgen Weiß (3 Plätze), juergen@example.org" in body
    assert "- Ida Kaya (1 Platz), ida@example.org" in body
    assert '<td style="padding: 2px 8px;">Ida Kaya</td>' in (lists[GRETE.email].html_body or "")
