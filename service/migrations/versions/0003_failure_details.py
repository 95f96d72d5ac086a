"""Coded page failures and technical failure details kept apart from the reasons users read.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("page", sa.Column("error_code", sa.String(length=40), nullable=True))
    op.add_column("page", sa.Column("error_detail", sa.Text(), nullable=True))
    op.add_column("stored_file", sa.Column("error_detail", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("stored_file") as batch:
        batch.drop_column("error_detail")
    with op.batch_alter_table("page") as batch:
        batch.drop_column("error_detail")
        batch.drop_column("error_code")
