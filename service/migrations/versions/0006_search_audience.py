"""Search index rows per audience: pages with personal data get a masked row (#8.15).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23

Only on SQLite (the embedded index inside the catalogue). The upgrade keeps every indexed
page and adds, for each page whose text shows an ID or mobile number, the masked row that
users without the right to personal data match instead (indexer.search.types.page_rows).
The index is a cache: the downgrade drops it and recreates the old tables empty; run
`dangan reindex` afterwards.
"""
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        from indexer.search.sqlite_engine import add_audience
        from service.privacy import mask_personal

        add_audience(bind, mask_personal)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        from indexer.search.sqlite_engine import _SCHEMA, drop_schema

        drop_schema(bind)
        old = _SCHEMA[0].replace("        audience TEXT NOT NULL DEFAULT 'all',\n", "").replace(
            "UNIQUE (item_id, page_no, audience)", "UNIQUE (item_id, page_no)")
        bind.exec_driver_sql(old)
        for stmt in _SCHEMA[1:]:
            bind.exec_driver_sql(stmt)
