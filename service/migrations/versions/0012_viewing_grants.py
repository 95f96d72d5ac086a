"""Viewing grants: the right to open an item electronically until a time (electronic loans).

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-24
"""
import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "viewing_grant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("loan_id", sa.Integer(), nullable=True),
        sa.Column("granted_by", sa.String(length=64), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"],
                                name="fk_viewing_grant_user_id_app_user"),
        sa.ForeignKeyConstraint(["item_id"], ["archive_item.id"],
                                name="fk_viewing_grant_item_id_archive_item"),
        sa.PrimaryKeyConstraint("id", name="pk_viewing_grant"),
    )
    op.create_index("ix_viewing_grant_user_expires", "viewing_grant", ["user_id", "expires_at"])
    op.create_index("ix_viewing_grant_item_id", "viewing_grant", ["item_id"])
    op.create_index("ix_viewing_grant_loan_id", "viewing_grant", ["loan_id"])


def downgrade() -> None:
    op.drop_table("viewing_grant")
