"""The full alliance record: places, coordinates, status, partners, awards, audit, search.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from lobu.shared.text_search import search_text_of
from lobu.directory.slugs import unique_slug
from lobu.shared.contracts.vocabulary import TOPICS

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Great-circle distance in km (haversine, mean Earth radius). SQLite gets the same
# function from Python at connect time (lobu.directory.geo).
DISTANCE_FUNCTION = """
CREATE OR REPLACE FUNCTION lobu_distance_km(
    lat1 double precision, lon1 double precision, lat2 double precision, lon2 double precision
) RETURNS double precision LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT 2 * 6371.0088 * asin(sqrt(
        power(sin(radians(lat2 - lat1) / 2), 2)
        + cos(radians(lat1)) * cos(radians(lat2)) * power(sin(radians(lon2 - lon1) / 2), 2)
    ))
$$
"""


def upgrade() -> None:
    with op.batch_alter_table("alliances") as batch:
        batch.add_column(sa.Column("slug", sa.String(120), nullable=True))
        batch.add_column(sa.Column("district", sa.String(200), nullable=True))
        batch.add_column(sa.Column("municipality", sa.String(200), nullable=True))
        batch.add_column(sa.Column("street", sa.String(200), nullable=True))
        batch.add_column(sa.Column("latitude", sa.Float(), nullable=True))
        batch.add_column(sa.Column("longitude", sa.Float(), nullable=True))
        batch.add_column(sa.Column("founded_on", sa.Date(), nullable=True))
        batch.add_column(
            sa.Column("status", sa.String(20), nullable=False, server_default="active")
        )
        batch.add_column(sa.Column("staffing", sa.String(20), nullable=True))
        batch.add_column(sa.Column("website", sa.String(500), nullable=True))
        batch.add_column(sa.Column("social_media", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("coordinating_organisation", sa.String(200), nullable=True))
        batch.add_column(sa.Column("search_text", sa.Text(), nullable=True))
    _backfill_slugs_and_search_text()
    with op.batch_alter_table("alliances") as batch:
        batch.alter_column("slug", existing_type=sa.String(120), nullable=False)
        batch.alter_column("social_media", existing_type=sa.JSON(), nullable=False)
        batch.alter_column("search_text", existing_type=sa.Text(), nullable=False)
        batch.alter_column("status", existing_type=sa.String(20), server_default=None)
    op.create_index("ix_alliances_slug", "alliances", ["slug"], unique=True)
    op.create_index("ix_alliances_status", "alliances", ["status"])
    op.create_index("ix_alliances_location", "alliances", ["latitude", "longitude"])
    _topics_as_codes()
    op.create_table(
        "alliance_partners",
        sa.Column(
            "alliance_id",
            sa.String(36),
            sa.ForeignKey("alliances.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("position", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("type", sa.String(40), nullable=False),
    )
    op.create_index("ix_alliance_partners_type", "alliance_partners", ["type"])
    op.create_table(
        "alliance_awards",
        sa.Column(
            "alliance_id",
            sa.String(36),
            sa.ForeignKey("alliances.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("award", sa.String(60), primary_key=True),
        sa.Column("year", sa.Integer(), primary_key=True),
    )
    op.create_index("ix_alliance_awards_award", "alliance_awards", ["award"])
    op.create_table(
        "alliance_audit",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("alliance_id", sa.String(36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(80), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("actor_role", sa.String(20), nullable=False),
        sa.Column("changed_fields", sa.JSON(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_alliance_audit_alliance_id", "alliance_audit", ["alliance_id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE INDEX ix_alliances_search ON alliances "
            "USING gin (to_tsvector('german', search_text))"
        )
        op.execute(DISTANCE_FUNCTION)


def _backfill_slugs_and_search_text() -> None:
    connection = op.get_bind()
    alliances = sa.table(
        "alliances",
        sa.column("id", sa.String),
        sa.column("name", sa.String),
        sa.column("city", sa.String),
        sa.column("slug", sa.String),
        sa.column("social_media", sa.JSON),
        sa.column("search_text", sa.Text),
    )
    taken: set[str] = set()
    rows = connection.execute(
        sa.select(alliances.c.id, alliances.c.name, alliances.c.city).order_by(alliances.c.id)
    ).all()
    for alliance_id, name, city in rows:
        slug = unique_slug(name, taken)
        taken.add(slug)
        connection.execute(
            alliances.update()
            .where(alliances.c.id == alliance_id)
            .values(slug=slug, social_media=[], search_text=search_text_of(name, city))
        )


def _topics_as_codes() -> None:
    # The first slice stored free-text topics; known labels become codes, others go.
    connection = op.get_bind()
    topics = sa.table("alliance_topics", sa.column("topic", sa.String))
    for code, label in TOPICS.items():
        connection.execute(topics.update().where(topics.c.topic == label).values(topic=code))
    connection.execute(topics.delete().where(topics.c.topic.not_in(list(TOPICS))))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS lobu_distance_km")
        op.execute("DROP INDEX IF EXISTS ix_alliances_search")
    op.drop_table("alliance_audit")
    op.drop_table("alliance_awards")
    op.drop_table("alliance_partners")
    op.drop_index("ix_alliances_location", table_name="alliances")
    op.drop_index("ix_alliances_status", table_name="alliances")
    op.drop_index("ix_alliances_slug", table_name="alliances")
    with op.batch_alter_table("alliances") as batch:
        for column in (
            "search_text", "coordinating_organisation", "social_media", "website", "staffing",
            "status", "founded_on", "longitude", "latitude", "street", "municipality",
            "district", "slug",
        ):  # fmt: skip
            batch.drop_column(column)
