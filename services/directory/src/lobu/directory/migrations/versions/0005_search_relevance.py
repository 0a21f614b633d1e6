"""Search by labels and by relevance: labels in `search_text`, name and town keys.

The text of every alliance is computed again with the labels of its fields of action
and partner types; `name_key` and `place_key` (name and town, normalised) are what the
relevance tiers compare the search term with.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from collections import defaultdict
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from lobu.shared.contracts.vocabulary import PARTNER_TYPES, TOPICS
from lobu.shared.text_search import normalise, search_text_of

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEYS = ("name_key", "place_key")


def upgrade() -> None:
    with op.batch_alter_table("alliances") as batch:
        for key in KEYS:
            batch.add_column(sa.Column(key, sa.Text(), nullable=True))
    _backfill()
    with op.batch_alter_table("alliances") as batch:
        for key in KEYS:
            batch.alter_column(key, existing_type=sa.Text(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("alliances") as batch:
        for key in KEYS:
            batch.drop_column(key)


def _backfill() -> None:
    connection = op.get_bind()
    columns = ("id", "name", "city", "municipality", "district", "coordinating_organisation")
    alliances = sa.table(
        "alliances", *(sa.column(name, sa.String) for name in columns),
        sa.column("search_text", sa.Text), *(sa.column(key, sa.Text) for key in KEYS),
    )  # fmt: skip
    topics = sa.table("alliance_topics", sa.column("alliance_id"), sa.column("topic"))
    partners = sa.table(
        "alliance_partners", sa.column("alliance_id"), sa.column("name"), sa.column("type")
    )
    words: dict[str, list[str]] = defaultdict(list)
    for alliance_id, topic in connection.execute(sa.select(topics.c.alliance_id, topics.c.topic)):
        words[alliance_id].append(TOPICS.get(topic, ""))
    for alliance_id, name, kind in connection.execute(
        sa.select(partners.c.alliance_id, partners.c.name, partners.c.type)
    ):
        words[alliance_id] += [name, PARTNER_TYPES.get(kind, "")]
    rows = connection.execute(sa.select(*(alliances.c[name] for name in columns))).all()
    for alliance_id, name, city, *places in rows:
        connection.execute(
            alliances.update()
            .where(alliances.c.id == alliance_id)
            .values(
                search_text=search_text_of(name, city, *places, *words[alliance_id]),
                name_key=normalise(name or ""),
                place_key=normalise(city or ""),
            )
        )
