"""Search: each alliance's field-of-action codes on its own row, kept by triggers.

`alliances.topic_codes` (a JSON array, in the order of `alliance_topics.position`)
lets the search count its topic facet over the matches and print each hit's topics
without joining `alliance_topics`: that join read all of its rows for every search
(docs/performance.md). `alliance_topics` stays the source (filters use its index);
triggers on it rewrite the array whenever an alliance's rows change, so no write path
has to remember it.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_POSTGRESQL_CODES = (
    "coalesce((SELECT json_agg(t.topic ORDER BY t.position) FROM alliance_topics t "
    "WHERE t.alliance_id = {id}), '[]'::json)"
)
_SQLITE_CODES = (
    "(SELECT json_group_array(t.topic) FROM (SELECT topic FROM alliance_topics "
    "WHERE alliance_id = {id} ORDER BY position) AS t)"
)
_POSTGRESQL_FUNCTION = f"""
CREATE OR REPLACE FUNCTION lobu_alliance_topic_codes() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  changed varchar(36);
BEGIN
  IF TG_OP = 'DELETE' THEN changed := OLD.alliance_id; ELSE changed := NEW.alliance_id; END IF;
  UPDATE alliances SET topic_codes = {_POSTGRESQL_CODES.format(id="changed")}
    WHERE id = changed;
  RETURN NULL;
END $$
"""


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    default = sa.text("'[]'::json") if postgresql else sa.text("'[]'")
    with op.batch_alter_table("alliances") as batch:
        batch.add_column(
            sa.Column("topic_codes", sa.JSON(), nullable=False, server_default=default)
        )
    if postgresql:
        op.execute(f"UPDATE alliances SET topic_codes = {_POSTGRESQL_CODES.format(id='alliances.id')}")
        op.execute(_POSTGRESQL_FUNCTION)
        op.execute(
            "CREATE TRIGGER alliance_topic_codes AFTER INSERT OR UPDATE OR DELETE "
            "ON alliance_topics FOR EACH ROW EXECUTE FUNCTION lobu_alliance_topic_codes()"
        )
        return
    op.execute(f"UPDATE alliances SET topic_codes = {_SQLITE_CODES.format(id='alliances.id')}")
    for event, row in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")):
        op.execute(
            f"CREATE TRIGGER alliance_topic_codes_{event.lower()} AFTER {event} "
            f"ON alliance_topics BEGIN UPDATE alliances SET topic_codes = "
            f"{_SQLITE_CODES.format(id=f'{row}.alliance_id')} WHERE id = {row}.alliance_id; END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS alliance_topic_codes ON alliance_topics")
        op.execute("DROP FUNCTION IF EXISTS lobu_alliance_topic_codes")
    else:
        for event in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS alliance_topic_codes_{event}")
    with op.batch_alter_table("alliances") as batch:
        batch.drop_column("topic_codes")
