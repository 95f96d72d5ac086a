"""Search index analyzer version 2: numbers and identifiers keyed (#10).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23

Only on SQLite (the embedded index inside the catalogue). Every indexed page is analysed
again from its stored text, so the ``uni`` column gains the key trigrams of its numbers,
dates and identifiers (indexer.search.identifiers). An Elasticsearch index is rebuilt with
`dangan reindex --full`. The downgrade re-analyses nothing: the index is a cache; run
`dangan reindex --full` with the older version.
"""
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        from indexer.search.sqlite_engine import retokenize

        retokenize(bind)


def downgrade() -> None:
    pass
