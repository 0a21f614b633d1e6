"""Between tables and views: an alliance row with its child rows <-> `AlliancePrivate`."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from lobu.directory.models import Alliance, AllianceAward, AlliancePartner, AllianceTopic
from lobu.directory.schemas import AlliancePrivate
from lobu.shared import as_utc
from lobu.shared.contracts.vocabulary import PARTNER_TYPES, TOPICS
from lobu.shared.text_search import normalise, search_text_of

# Fields that live on the alliances row itself (the rest are child tables).
ROW_FIELDS = (
    "slug", "name", "state", "district", "municipality", "postal_code", "city", "street",
    "latitude", "longitude", "coordinates_approximate", "founded_on", "status", "staffing",
    "website", "social_media", "coordinating_organisation", "contacts",
)  # fmt: skip
CHILD_FIELDS = ("topics", "partners", "awards")


def row_values(record: dict[str, Any]) -> dict[str, Any]:
    """The alliances-row columns of a record given as JSON-ready values."""
    values = {name: record[name] for name in ROW_FIELDS if name in record}
    if isinstance(values.get("founded_on"), str):
        values["founded_on"] = date.fromisoformat(values["founded_on"])
    return values


def search_fields_for(record: dict[str, Any]) -> dict[str, Any]:
    """The search columns of a record: what the text search looks at, and name and town.

    The text holds name, places, coordination, partner names and the German labels of
    the fields of action and partner types ("Kinderbetreuung" finds those alliances).
    """
    partners = record.get("partners", [])
    text = search_text_of(
        record.get("name"),
        record.get("city"),
        record.get("municipality"),
        record.get("district"),
        record.get("coordinating_organisation"),
        *(partner["name"] for partner in partners),
        *(TOPICS.get(topic) for topic in record.get("topics", [])),
        *(PARTNER_TYPES.get(partner["type"]) for partner in partners),
    )
    return {
        "search_text": text,
        "name_key": normalise(record.get("name") or ""),
        "place_key": normalise(record.get("city") or ""),
    }


def new_alliance(alliance_id: str, record: dict[str, Any]) -> Alliance:
    """The row for a new alliance from its JSON values (child rows: `replace_children`)."""
    return Alliance(id=alliance_id, **search_fields_for(record), **row_values(record))


def replace_children(session: AsyncSession, alliance_id: str, record: dict[str, Any]) -> None:
    """Add the topic, partner and award rows of `record` (after deleting old ones)."""
    for position, topic in enumerate(record.get("topics", [])):
        session.add(AllianceTopic(alliance_id=alliance_id, topic=topic, position=position))
    for position, partner in enumerate(record.get("partners", [])):
        session.add(
            AlliancePartner(
                alliance_id=alliance_id, position=position, name=partner["name"],
                type=partner["type"],
            )
        )  # fmt: skip
    seen: set[tuple[str, int]] = set()
    for award in record.get("awards", []):
        key = (award["award"], award["year"])
        if key not in seen:
            seen.add(key)
            session.add(AllianceAward(alliance_id=alliance_id, award=key[0], year=key[1]))


async def delete_children(session: AsyncSession, alliance_id: str, fields: set[str]) -> None:
    """Remove the child rows of the given list fields."""
    tables: dict[str, Any] = {
        "topics": AllianceTopic,
        "partners": AlliancePartner,
        "awards": AllianceAward,
    }
    for name in fields & set(tables):
        table = tables[name]
        await session.execute(delete(table).where(col(table.alliance_id) == alliance_id))


async def views_of(session: AsyncSession, rows: Sequence[Alliance]) -> list[AlliancePrivate]:
    """Full views of alliance rows, child rows loaded in one query per table."""
    ids = [row.id for row in rows]
    topics: dict[str, list[str]] = defaultdict(list)
    partners: dict[str, list[dict[str, str]]] = defaultdict(list)
    awards: dict[str, list[dict[str, Any]]] = defaultdict(list)
    if ids:
        for alliance_id, topic in await session.execute(
            select(col(AllianceTopic.alliance_id), col(AllianceTopic.topic))
            .where(col(AllianceTopic.alliance_id).in_(ids))
            .order_by(col(AllianceTopic.alliance_id), col(AllianceTopic.position))
        ):
            topics[alliance_id].append(topic)
        for partner in await session.scalars(
            select(AlliancePartner)
            .where(col(AlliancePartner.alliance_id).in_(ids))
            .order_by(col(AlliancePartner.alliance_id), col(AlliancePartner.position))
        ):
            partners[partner.alliance_id].append({"name": partner.name, "type": partner.type})
        for award in await session.scalars(
            select(AllianceAward)
            .where(col(AllianceAward.alliance_id).in_(ids))
            .order_by(col(AllianceAward.alliance_id), col(AllianceAward.year))
        ):
            awards[award.alliance_id].append({"award": award.award, "year": award.year})
    return [
        AlliancePrivate.model_validate(
            {name: getattr(row, name) for name in ROW_FIELDS}
            | {
                "id": row.id,
                "topics": topics[row.id],
                "partners": partners[row.id],
                "awards": awards[row.id],
                "version": row.version,
                "created_at": as_utc(row.created_at),
                "updated_at": as_utc(row.updated_at),
            }
        )
        for row in rows
    ]
