"""The directory's use cases: each one transaction, with its events and audit entry."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy import delete as sql_delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from lobu.directory.domain import PRIVATE_FIELDS, changed_fields, check_version, without_duplicates
from lobu.directory.errors import (
    AllianceNotFoundError,
    FieldNotEditableError,
    SlugTakenError,
    StaleVersionError,
)
from lobu.directory.models import Alliance, AuditEntry
from lobu.directory.places import Gazetteer
from lobu.directory.records import (
    CHILD_FIELDS,
    delete_children,
    new_alliance,
    replace_children,
    row_values,
    search_fields_for,
    views_of,
)
from lobu.directory.schemas import (
    ADMIN_ONLY_FIELDS,
    AllianceCreate,
    AlliancePrivate,
    AllianceUpdate,
)
from lobu.directory.slugs import slug_of, unique_slug
from lobu.shared import Caller, add_event, transaction, utc_now
from lobu.shared.contracts.directory import (
    ALLIANCE_CONTACTS_CHANGED,
    ALLIANCE_CREATED,
    ALLIANCE_DELETED,
    ALLIANCE_SNAPSHOT,
    ALLIANCE_UPDATED,
    AllianceContactsChanged,
    AllianceCreated,
    AllianceDeleted,
    AllianceEntry,
    AllianceSnapshotPublished,
    AllianceUpdated,
)

ACTION_CREATED = "lobu.directory.alliance.created"
ACTION_UPDATED = "lobu.directory.alliance.updated"
ACTION_DELETED = "lobu.directory.alliance.deleted"


class AllianceDirectory:
    """Creates, changes, removes, finds and republishes alliances."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        source: str,
        places: Gazetteer | None = None,
    ) -> None:
        self.sessions = sessions
        self._source = source
        self._places = places or Gazetteer.shipped()

    async def create(self, request: AllianceCreate, *, actor: Caller) -> AlliancePrivate:
        """Enter a new alliance; publishes `created` and its contacts."""
        async with transaction(self.sessions) as session:
            return await self.create_in(session, request, actor=actor)

    async def create_in(
        self,
        session: AsyncSession,
        request: AllianceCreate,
        *,
        actor: Caller,
        entry: AllianceEntry = "new",
    ) -> AlliancePrivate:
        """`create` inside the caller's transaction (the importer's).

        `entry="existing"` records a member of the network from an earlier record: its
        `created` event says so, and nobody is welcomed.
        """
        slug = await self._free_slug(session, request.slug, request.name)
        record = request.model_dump(mode="json")
        record |= self._placed(record, record) | {"slug": slug}
        alliance = new_alliance(str(uuid.uuid4()), record)
        session.add(alliance)
        await session.flush()
        record.pop("slug")
        record["topics"] = without_duplicates(record["topics"])
        replace_children(session, alliance.id, record)
        await session.flush()
        (view,) = await views_of(session, [alliance])
        add_event(
            session, event_type=ALLIANCE_CREATED, source=self._source, subject=view.id,
            data=AllianceCreated(**_public_values(view), entry=entry),
        )  # fmt: skip
        self._publish_contacts(session, view)
        _audit(session, view, action=ACTION_CREATED, actor=actor, changed=sorted(record))
        return view

    async def get(self, alliance_id: str) -> AlliancePrivate:
        """The alliance with its contacts; callers show only what the reader may see."""
        async with self.sessions() as session:
            (view,) = await views_of(session, [await _load(session, alliance_id)])
        return view

    async def get_by_slug(self, slug: str) -> AlliancePrivate:
        """The alliance with this URL name."""
        async with self.sessions() as session:
            row = await session.scalar(select(Alliance).where(col(Alliance.slug) == slug))
            if row is None:
                raise AllianceNotFoundError(f"There is no alliance at {slug!r}.")
            (view,) = await views_of(session, [row])
        return view

    async def update(
        self,
        alliance_id: str,
        change: AllianceUpdate,
        *,
        expected_version: int | None,
        actor: Caller,
    ) -> AlliancePrivate:
        """Apply a partial change to `expected_version`; 412 if someone was quicker."""
        requested = change.model_dump(mode="json", exclude_unset=True)
        async with transaction(self.sessions) as session:
            alliance = await _load(session, alliance_id)
            check_version(expected=expected_version, current=alliance.version)
            return await self.update_in(session, alliance, requested, actor=actor)

    async def update_in(
        self,
        session: AsyncSession,
        alliance: Alliance,
        requested: dict[str, Any],
        *,
        actor: Caller,
    ) -> AlliancePrivate:
        """Apply `requested` (JSON values) to a loaded alliance in the caller's transaction."""
        (before,) = await views_of(session, [alliance])
        if "topics" in requested:
            requested["topics"] = without_duplicates(requested["topics"])
        before_values = before.model_dump(mode="json")
        requested |= self._placed(before_values, requested)
        changed = changed_fields(before_values, requested)
        # Sending an admin-only field unchanged (a client PATCHing the whole record) is fine.
        forbidden = sorted(set(changed) & ADMIN_ONLY_FIELDS)
        if forbidden and not actor.is_admin:
            raise FieldNotEditableError(
                f"Only the Servicebüro may change {', '.join(forbidden)}.", fields=forbidden
            )
        if not changed:
            return before
        if "slug" in changed:
            await self._free_slug(session, requested["slug"], before.name)
        # Read before the UPDATE: it synchronises the loaded object to the new values.
        loaded_version = alliance.version
        now = utc_now()
        after = AlliancePrivate.model_validate(
            before_values | requested | {"version": loaded_version + 1, "updated_at": now}
        )
        after_values = after.model_dump(mode="json")
        # Compare-and-set on the version: a concurrent edit that committed first wins.
        result = await session.execute(
            update(Alliance)
            .where(col(Alliance.id) == alliance.id, col(Alliance.version) == loaded_version)
            .values(
                **row_values(after_values),
                **search_fields_for(after_values),
                version=loaded_version + 1,
                updated_at=now,
            )
        )
        if cast("CursorResult[Any]", result).rowcount != 1:
            raise StaleVersionError(
                "The alliance changed while your edit was saved; load it again and repeat."
            )
        children = set(changed) & set(CHILD_FIELDS)
        await delete_children(session, alliance.id, children)
        replace_children(session, alliance.id, {name: after_values[name] for name in children})
        self._publish_updated(session, after, changed)
        _audit(session, after, action=ACTION_UPDATED, actor=actor, changed=changed)
        return after

    async def delete(
        self, alliance_id: str, *, expected_version: int | None = None, actor: Caller
    ) -> None:
        """Remove an alliance; publishes `deleted`, and an empty contact list.

        Compare-and-set like `update`: the DELETE itself returns the version it removed,
        so an update committing meanwhile cannot make the deletion reuse its version
        (PostgreSQL re-reads the row after the updater's lock). With `expected_version`
        (If-Match) a newer version is refused with 412 and nothing is deleted.
        """
        async with transaction(self.sessions) as session:
            condition = [col(Alliance.id) == alliance_id]
            if expected_version is not None:
                condition.append(col(Alliance.version) == expected_version)
            removed = await session.scalar(
                sql_delete(Alliance)
                .where(*condition)
                .returning(col(Alliance.version))
                .execution_options(synchronize_session=False)
            )
            if removed is None:
                current = await _load(session, alliance_id)  # 404 when it is gone
                check_version(expected=expected_version, current=current.version)
                raise StaleVersionError("The alliance changed while it was deleted; try again.")
            version = removed + 1
            add_event(
                session, event_type=ALLIANCE_DELETED, source=self._source, subject=alliance_id,
                data=AllianceDeleted(id=alliance_id, version=version, deleted_at=utc_now()),
            )  # fmt: skip
            add_event(
                session, event_type=ALLIANCE_CONTACTS_CHANGED, source=self._source,
                subject=alliance_id,
                data=AllianceContactsChanged(
                    alliance_id=alliance_id, version=version, contacts=[], deleted=True
                ),
            )  # fmt: skip
            session.add(
                AuditEntry(
                    alliance_id=alliance_id, version=version, action=ACTION_DELETED,
                    actor=actor.subject, actor_role=actor.role.value, changed_fields=[],
                )
            )  # fmt: skip

    async def audit(self, alliance_id: str) -> list[AuditEntry]:
        """The alliance's edit history, oldest first (kept after deletion)."""
        async with self.sessions() as session:
            entries = list(
                (
                    await session.scalars(
                        select(AuditEntry)
                        .where(col(AuditEntry.alliance_id) == alliance_id)
                        .order_by(col(AuditEntry.id))
                    )
                ).all()
            )
        if not entries:
            raise AllianceNotFoundError(f"There is no history for the alliance {alliance_id!r}.")
        return entries

    async def republish(self, *, batch_size: int = 500) -> int:
        """Queue every alliance's current snapshot (and contacts), in id order, in batches."""
        published = 0
        last_id = ""
        while True:
            async with transaction(self.sessions) as session:
                rows = (
                    await session.scalars(
                        select(Alliance)
                        .where(col(Alliance.id) > last_id)
                        .order_by(col(Alliance.id))
                        .limit(batch_size)
                    )
                ).all()
                if not rows:
                    return published
                for view in await views_of(session, rows):
                    add_event(
                        session, event_type=ALLIANCE_SNAPSHOT, source=self._source,
                        subject=view.id, data=AllianceSnapshotPublished(**_public_values(view)),
                    )  # fmt: skip
                    self._publish_contacts(session, view)
                published += len(rows)
                last_id = rows[-1].id

    def _placed(self, before: dict[str, Any], requested: dict[str, Any]) -> dict[str, Any]:
        """Coordinates to store with `requested`: given ones, else the town's (approximate).

        Given coordinates are never overwritten; approximate (or missing) ones follow a
        change of city, municipality or Land; a place the gazetteer cannot name without
        guessing (unknown, or namesakes in the Land) leaves the alliance without any.
        """
        if requested.get("latitude") is not None:
            return {"coordinates_approximate": False}
        if "latitude" not in requested:
            approximate_or_none = before["latitude"] is None or before["coordinates_approximate"]
            if not approximate_or_none or not {"city", "municipality", "state"} & set(requested):
                return {}
        values = before | requested
        place = self._places.locate(
            values["city"], values.get("municipality"), state=values["state"]
        )
        if place is None:
            return {"latitude": None, "longitude": None, "coordinates_approximate": False}
        return {
            "latitude": place.latitude,
            "longitude": place.longitude,
            "coordinates_approximate": True,
        }

    async def _free_slug(self, session: AsyncSession, wanted: str | None, name: str) -> str:
        """`wanted` when it is free (409 when taken), else a free slug made from `name`."""
        if wanted:
            owner = await session.scalar(
                select(col(Alliance.id)).where(col(Alliance.slug) == wanted)
            )
            if owner is not None:
                raise SlugTakenError(f"The slug {wanted!r} belongs to another alliance.")
            return wanted
        base = slug_of(name)
        similar = await session.scalars(
            select(col(Alliance.slug)).where(col(Alliance.slug).startswith(base))
        )
        return unique_slug(name, set(similar.all()))

    def _publish_updated(
        self, session: AsyncSession, view: AlliancePrivate, changed: Sequence[str]
    ) -> None:
        # Every version is announced on the public topic, even a change of contacts
        # only (then `changed_fields` is empty), so replicas never see a gap.
        add_event(
            session, event_type=ALLIANCE_UPDATED, source=self._source, subject=view.id,
            data=AllianceUpdated(
                **_public_values(view),
                changed_fields=[name for name in changed if name not in PRIVATE_FIELDS],
            ),
        )  # fmt: skip
        if "contacts" in changed:
            self._publish_contacts(session, view)

    def _publish_contacts(self, session: AsyncSession, view: AlliancePrivate) -> None:
        add_event(
            session, event_type=ALLIANCE_CONTACTS_CHANGED, source=self._source, subject=view.id,
            data=AllianceContactsChanged(
                alliance_id=view.id, version=view.version, contacts=view.contacts
            ),
        )  # fmt: skip


async def _load(session: AsyncSession, alliance_id: str) -> Alliance:
    alliance = await session.get(Alliance, alliance_id)
    if alliance is None:
        raise AllianceNotFoundError(f"There is no alliance with the id {alliance_id!r}.")
    return alliance


def _audit(
    session: AsyncSession, view: AlliancePrivate, *, action: str, actor: Caller, changed: list[str]
) -> None:
    session.add(
        AuditEntry(
            alliance_id=view.id, version=view.version, action=action, actor=actor.subject,
            actor_role=actor.role.value, changed_fields=changed,
        )
    )  # fmt: skip


def _public_values(view: AlliancePrivate) -> dict[str, Any]:
    return view.model_dump(exclude={"contacts"})
