"""Who is invited: the alliance replica from `directory.alliance`, and invitations.

The audience of a survey is every alliance that is `active` in the replica when the
survey opens, and every alliance that becomes active while it is open. The opening
(SurveyCatalogue.open) and the consumer (AllianceReplicaReactions) can run at once; two
things keep that right on PostgreSQL:

- both take the same transaction-scoped advisory lock before they look at the other
  side (open surveys / active alliances), so one of them always sees the other's
  committed change: without it, the opening could read the alliance as inactive while
  the consumer reads the survey as a draft, and the alliance would never be invited;
- the unique key (survey_id, alliance_id) with INSERT … ON CONFLICT DO NOTHING makes a
  second invitation impossible, and only the transaction that inserted the row queues
  the invitation event.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from lobu.shared import Envelope, add_event, read_event_data, utc_now
from lobu.shared.contracts.directory import AllianceDeleted, AllianceUpdated
from lobu.shared.contracts.surveys import INVITATION_ISSUED, InvitationIssued
from lobu.shared.database import insert_ignoring_duplicates
from lobu.surveys.domain import hash_token, new_token
from lobu.surveys.models import AllianceReplica, Invitation, InvitationToken, Survey, SurveyState

# Any fixed 64-bit number; both sides of the audience race lock it.
AUDIENCE_LOCK = 0x10B0_5075_2E4A_0001


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


async def lock_audience(session: AsyncSession) -> None:
    """Serialise opening surveys and activating alliances (PostgreSQL; SQLite has one writer)."""
    if _dialect(session) == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": AUDIENCE_LOCK})


def personal_link(base_url: str, token: str) -> str:
    """The link an invitation mail carries."""
    return f"{base_url.rstrip('/')}/umfrage/{token}"


async def issue_token(session: AsyncSession, invitation_id: str, *, purpose: str) -> str:
    """A new token for `invitation_id`; only its hash is stored."""
    token = new_token()
    session.add(
        InvitationToken(token_hash=hash_token(token), invitation_id=invitation_id, purpose=purpose)
    )
    await session.flush()
    return token


async def invite(
    session: AsyncSession, survey: Survey, alliance_id: str, *, base_url: str, source: str
) -> bool:
    """Invite `alliance_id` to `survey` unless it is invited already; True if it was now."""
    invitation_id = str(uuid.uuid4())
    statement = insert_ignoring_duplicates(
        session, Invitation, id=invitation_id, survey_id=survey.id, alliance_id=alliance_id,
        created_at=utc_now(),
    ).returning(Invitation.__table__.c.id)  # type: ignore[attr-defined]  # fmt: skip
    if await session.scalar(statement) is None:
        return False
    token = await issue_token(session, invitation_id, purpose="invitation")
    add_event(
        session,
        event_type=INVITATION_ISSUED,
        source=source,
        subject=invitation_id,
        data=InvitationIssued(
            survey_id=survey.id, year=survey.year, title=survey.title, intro=survey.intro,
            invitation_id=invitation_id, alliance_id=alliance_id,
            link=personal_link(base_url, token), closes_at=survey.closes_at,
        ),
    )  # fmt: skip
    return True


async def invite_active_alliances(
    session: AsyncSession, survey: Survey, *, base_url: str, source: str
) -> int:
    """Invite every active alliance of the replica; the caller holds the audience lock."""
    alliance_ids = (
        await session.scalars(
            select(col(AllianceReplica.alliance_id))
            .where(col(AllianceReplica.status) == "active", col(AllianceReplica.deleted).is_(False))
            .order_by(col(AllianceReplica.alliance_id))
        )
    ).all()
    invited = 0
    for alliance_id in alliance_ids:
        invited += await invite(session, survey, alliance_id, base_url=base_url, source=source)
    return invited


class AllianceReplicaReactions:
    """Handlers of `directory.alliance`: keep the replica, invite newly active alliances."""

    def __init__(
        self, *, base_url: str, source: str, clock: Callable[[], datetime] = utc_now
    ) -> None:
        self._base_url = base_url
        self._source = source
        self._clock = clock

    async def on_snapshot(self, session: AsyncSession, envelope: Envelope) -> None:
        """created, updated or snapshot: keep the newest version; invite if now active."""
        data = read_event_data(AllianceUpdated, envelope.data)
        replica = await session.get(AllianceReplica, data.id)
        if replica is not None and (replica.deleted or replica.version >= data.version):
            return  # stale, a duplicate, or after the tombstone
        if replica is None:
            replica = AllianceReplica(alliance_id=data.id, version=data.version)
            session.add(replica)
        replica.slug, replica.name, replica.state = data.slug, data.name, data.state
        replica.status, replica.version = data.status, data.version
        replica.topics = list(data.topics)
        replica.awards = sorted({award.award for award in data.awards})
        await session.flush()
        if data.status == "active":
            await self._invite_to_open_surveys(session, data.id, now=self._clock())

    async def on_deleted(self, session: AsyncSession, envelope: Envelope) -> None:
        """Leave a tombstone; the alliance gets no more reminders."""
        data = read_event_data(AllianceDeleted, envelope.data)
        replica = await session.get(AllianceReplica, data.id)
        if replica is not None and replica.version >= data.version and replica.deleted:
            return
        if replica is None:
            replica = AllianceReplica(alliance_id=data.id, version=data.version)
            session.add(replica)
        replica.version = max(replica.version, data.version)
        replica.deleted = True

    async def _invite_to_open_surveys(
        self, session: AsyncSession, alliance_id: str, *, now: datetime
    ) -> None:
        await lock_audience(session)
        surveys = (
            await session.scalars(
                select(Survey).where(
                    col(Survey.state) == SurveyState.OPEN.value, col(Survey.closes_at) > now
                )
            )
        ).all()
        for survey in surveys:
            await invite(session, survey, alliance_id, base_url=self._base_url, source=self._source)
