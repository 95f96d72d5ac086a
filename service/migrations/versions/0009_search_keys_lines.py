"""Search index analyzer version 3: a line break ends a number's key (#10).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23

Only on SQLite (the embedded index): every page whose index rows were written by another
analyzer version is analysed again from its stored text (nothing to do when 0007 already
ran at this version). An Elasticsearch index is rebuilt with `dangan reindex --full`.
"""
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        from indexer.search.sqlite_engine import retokenize

        retokenize(bind)


def downgrade() -> None:
    pass
