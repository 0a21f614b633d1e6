"""The directory's use cases: each one transaction, with its events in the outbox."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from lobu.directory.domain import (
    PUBLIC_FIELDS,
    changed_fields,
    check_version,
    normalise_topics,
)
from lobu.directory.errors import AllianceNotFoundError, InvalidCursorError, StaleVersionError
from lobu.directory.models import Alliance, AllianceTopic
from lobu.directory.schemas import AllianceCreate, AlliancePrivate, AllianceUpdate
from lobu.shared import add_event, as_utc, transaction, utc_now
from lobu.shared.contracts.directory import (
    ALLIANCE_CONTACTS_CHANGED,
    ALLIANCE_CREATED,
    ALLIANCE_DELETED,
    ALLIANCE_UPDATED,
    AllianceContactsChanged,
    AllianceCreated,
    AllianceDeleted,
    AllianceUpdated,
    ContactPerson,
)
from lobu.shared.pagination import CursorError, decode_cursor, encode_cursor


@dataclass(frozen=True)
class AllianceFilters:
    """What a list of alliances is narrowed to."""

    state: str | None = None
    topic: str | None = None


@dataclass(frozen=True)
class AllianceListPage:
    """One page of alliances in (name, id) order."""

    items: list[AlliancePrivate]
    next_cursor: str | None


class AllianceDirectory:
    """Creates, changes, removes and finds alliances."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, source: str) -> None:
        self._sessions = sessions
        self._source = source

    async def create(self, request: AllianceCreate) -> AlliancePrivate:
        """Enter a new alliance; publishes `created` and its contacts."""
        alliance = Alliance(
            id=str(uuid.uuid4()),
            name=request.name,
            state=request.state,
            postal_code=request.postal_code,
            city=request.city,
            contacts=[contact.model_dump(mode="json") for contact in request.contacts],
        )
        topics = normalise_topics(request.topics)
        async with transaction(self._sessions) as session:
            session.add(alliance)
            await session.flush()
            _replace_topics(session, alliance.id, topics)
            view = _private_view(alliance, topics)
            self._publish_created(session, view)
        return view

    async def get(self, alliance_id: str) -> AlliancePrivate:
        """The alliance with its contacts; callers show only what the reader may see."""
        async with self._sessions() as session:
            alliance = await _load(session, alliance_id)
            topics = (await _topics_of(session, [alliance_id]))[alliance_id]
        return _private_view(alliance, topics)

    async def update(
        self, alliance_id: str, change: AllianceUpdate, *, expected_version: int | None
    ) -> AlliancePrivate:
        """Apply a partial change to `expected_version`; 412 if someone was quicker."""
        async with transaction(self._sessions) as session:
            alliance = await _load(session, alliance_id)
            check_version(expected=expected_version, current=alliance.version)
            topics_before = (await _topics_of(session, [alliance_id]))[alliance_id]
            before = _private_view(alliance, topics_before)
            requested = change.model_dump(mode="json", exclude_unset=True)
            if "topics" in requested:
                requested["topics"] = normalise_topics(requested["topics"])
            after_values = before.model_dump(mode="json") | requested
            changed = changed_fields(before.model_dump(mode="json"), requested)
            if not changed:
                return before
            # Read before the UPDATE: it synchronises the loaded object to the new values.
            loaded_version = alliance.version
            new_version = loaded_version + 1
            now = utc_now()
            row_values = {
                name: after_values[name]
                for name in ("name", "state", "postal_code", "city", "contacts")
            }
            # Compare-and-set on the version: a concurrent edit that committed first wins.
            result = await session.execute(
                update(Alliance)
                .where(col(Alliance.id) == alliance_id, col(Alliance.version) == loaded_version)
                .values(**row_values, version=new_version, updated_at=now)
            )
            if cast("CursorResult[Any]", result).rowcount != 1:
                raise StaleVersionError(
                    "The alliance changed while your edit was saved; load it again and repeat."
                )
            if "topics" in changed:
                await session.execute(
                    delete(AllianceTopic).where(col(AllianceTopic.alliance_id) == alliance_id)
                )
                _replace_topics(session, alliance_id, after_values["topics"])
            after = AlliancePrivate.model_validate(
                after_values | {"version": new_version, "updated_at": now}
            )
            self._publish_updated(session, after, changed)
        return after

    async def delete(self, alliance_id: str) -> None:
        """Remove an alliance; publishes `deleted`, and an empty contact list."""
        async with transaction(self._sessions) as session:
            alliance = await _load(session, alliance_id)
            version = alliance.version + 1
            await session.delete(alliance)
            add_event(
                session,
                event_type=ALLIANCE_DELETED,
                source=self._source,
                subject=alliance_id,
                data=AllianceDeleted(id=alliance_id, version=version, deleted_at=utc_now()),
            )
            add_event(
                session,
                event_type=ALLIANCE_CONTACTS_CHANGED,
                source=self._source,
                subject=alliance_id,
                data=AllianceContactsChanged(
                    alliance_id=alliance_id, version=version, contacts=[], deleted=True
                ),
            )

    async def list(
        self, filters: AllianceFilters, *, cursor: str | None, limit: int
    ) -> AllianceListPage:
        """A page of alliances ordered by name, then id (stable while data changes)."""
        query = select(Alliance).order_by(col(Alliance.name), col(Alliance.id)).limit(limit + 1)
        if filters.state:
            query = query.where(col(Alliance.state) == filters.state)
        if filters.topic:
            query = query.where(
                col(Alliance.id).in_(
                    select(col(AllianceTopic.alliance_id)).where(
                        col(AllianceTopic.topic) == filters.topic
                    )
                )
            )
        if cursor:
            try:
                last_name, last_id = decode_cursor(cursor, types=(str, str))
            except CursorError as error:
                raise InvalidCursorError(str(error)) from error
            query = query.where(
                (col(Alliance.name) > last_name)
                | ((col(Alliance.name) == last_name) & (col(Alliance.id) > last_id))
            )
        async with self._sessions() as session:
            rows = list((await session.scalars(query)).all())
            more = len(rows) > limit
            rows = rows[:limit]
            topics = await _topics_of(session, [row.id for row in rows])
        items = [_private_view(row, topics[row.id]) for row in rows]
        next_cursor = encode_cursor([rows[-1].name, rows[-1].id]) if more and rows else None
        return AllianceListPage(items=items, next_cursor=next_cursor)

    def _publish_created(self, session: AsyncSession, view: AlliancePrivate) -> None:
        add_event(
            session,
            event_type=ALLIANCE_CREATED,
            source=self._source,
            subject=view.id,
            data=AllianceCreated(**_public_values(view)),
        )
        self._publish_contacts(session, view)

    def _publish_updated(
        self, session: AsyncSession, view: AlliancePrivate, changed: Sequence[str]
    ) -> None:
        public_changes = [name for name in changed if name in PUBLIC_FIELDS]
        # Every version is announced on the public topic, even a change of contacts
        # only (then `changed_fields` is empty), so replicas never see a gap.
        add_event(
            session,
            event_type=ALLIANCE_UPDATED,
            source=self._source,
            subject=view.id,
            data=AllianceUpdated(**_public_values(view), changed_fields=public_changes),
        )
        if "contacts" in changed:
            self._publish_contacts(session, view)

    def _publish_contacts(self, session: AsyncSession, view: AlliancePrivate) -> None:
        add_event(
            session,
            event_type=ALLIANCE_CONTACTS_CHANGED,
            source=self._source,
            subject=view.id,
            data=AllianceContactsChanged(
                alliance_id=view.id, version=view.version, contacts=view.contacts
            ),
        )


async def _load(session: AsyncSession, alliance_id: str) -> Alliance:
    alliance = await session.get(Alliance, alliance_id)
    if alliance is None:
        raise AllianceNotFoundError(f"There is no alliance with the id {alliance_id!r}.")
    return alliance


async def _topics_of(session: AsyncSession, alliance_ids: list[str]) -> dict[str, list[str]]:
    topics: dict[str, list[str]] = {alliance_id: [] for alliance_id in alliance_ids}
    if not alliance_ids:
        return topics
    rows = await session.execute(
        select(col(AllianceTopic.alliance_id), col(AllianceTopic.topic))
        .where(col(AllianceTopic.alliance_id).in_(alliance_ids))
        .order_by(col(AllianceTopic.alliance_id), col(AllianceTopic.position))
    )
    for alliance_id, topic in rows:
        topics[alliance_id].append(topic)
    return topics


def _replace_topics(session: AsyncSession, alliance_id: str, topics: list[str]) -> None:
    for position, topic in enumerate(topics):
        session.add(AllianceTopic(alliance_id=alliance_id, topic=topic, position=position))


def _private_view(alliance: Alliance, topics: list[str]) -> AlliancePrivate:
    return AlliancePrivate(
        id=alliance.id,
        name=alliance.name,
        state=alliance.state,
        postal_code=alliance.postal_code,
        city=alliance.city,
        topics=topics,
        contacts=[ContactPerson.model_validate(contact) for contact in alliance.contacts],
        version=alliance.version,
        created_at=as_utc(alliance.created_at),
        updated_at=as_utc(alliance.updated_at),
    )


def _public_values(view: AlliancePrivate) -> dict[str, Any]:
    return view.model_dump(exclude={"contacts"})
