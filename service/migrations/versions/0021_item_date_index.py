"""An index on the items' date (and id): a catalogue listing sorted by date reads it in
keyset pages (service.items.catalogue_after, a whole listing exported), each a range of the
index instead of a scan and sort of every item.

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-24
"""
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_archive_item_doc_date", "archive_item", ["doc_date", "id"])


def downgrade() -> None:
    op.drop_index("ix_archive_item_doc_date", table_name="archive_item")
