"""Embedded full-text index (SQLite FTS5) inside the catalogue database.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23

Only on SQLite: with PostgreSQL the index is Elasticsearch or a separate SQLite file.
Frozen: the tables as they were at this revision, written out here rather than imported
from the live engine, so that later changes to the engine cannot change what this
migration does (0006 adds the audience column).
"""
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS search_page (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        item_id INTEGER NOT NULL,
        page_no INTEGER NOT NULL,
        archival_code TEXT NOT NULL DEFAULT '',
        title TEXT NOT NULL DEFAULT '',
        fonds TEXT NOT NULL DEFAULT '',
        category TEXT NOT NULL DEFAULT '',
        year INTEGER,
        retention TEXT NOT NULL DEFAULT '',
        secrecy TEXT NOT NULL,
        customer TEXT,
        box TEXT,
        location TEXT,
        status TEXT NOT NULL DEFAULT '',
        date TEXT,
        owner_id INTEGER,
        department TEXT,
        fingerprint TEXT NOT NULL DEFAULT '',
        analyzer INTEGER NOT NULL DEFAULT 1,
        UNIQUE (item_id, page_no)
    )""",
    """CREATE TABLE IF NOT EXISTS search_page_text (
        id INTEGER PRIMARY KEY,
        text TEXT NOT NULL DEFAULT '',
        meta_text TEXT NOT NULL DEFAULT '',
        words TEXT NOT NULL DEFAULT '[]'
    )""",
    "CREATE INDEX IF NOT EXISTS ix_search_page_date ON search_page (date)",
    """CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5(
        bi, uni, meta, content='', tokenize='unicode61 remove_diacritics 0'
    )""",
    "INSERT INTO search_fts (search_fts, rank) VALUES ('rank', 'bm25(1.0, 0.5, 2.0)')",
]


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for stmt in SCHEMA:
            bind.exec_driver_sql(stmt)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        bind.exec_driver_sql("DROP TABLE IF EXISTS search_fts")
        bind.exec_driver_sql("DROP TABLE IF EXISTS search_page_text")
        bind.exec_driver_sql("DROP TABLE IF EXISTS search_page")
