"""Embedded full-text index (SQLite FTS5) inside the catalogue database.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23

Only on SQLite: with PostgreSQL the index is Elasticsearch or a separate SQLite file.
"""
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        from indexer.search.sqlite_engine import create_schema

        create_schema(bind)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        from indexer.search.sqlite_engine import drop_schema

        drop_schema(bind)
