"""An index of the pages that have a thumbnail, by item: a search page finds its hits'
thumbnails in it (service.items.hit_rows) instead of reading the page rows, where the key
lies past the OCR text and the word boxes (tens of KB a page, through overflow pages).

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-24
"""
import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_page_thumbed", "page", ["item_id", "n"],
                    sqlite_where=sa.text("thumb_key IS NOT NULL"),
                    postgresql_where=sa.text("thumb_key IS NOT NULL"))


def downgrade() -> None:
    op.drop_index("ix_page_thumbed", table_name="page")
