"""四性检测 (#14.6): each item's four-property check results, and what the latest backup held
(the security check asks whether an item is in it).

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-24
"""
import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "four_property_check",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("checked_by", sa.String(length=100), nullable=False),
        sa.Column("scope", sa.String(length=10), nullable=False),
        sa.Column("authenticity", sa.Boolean(), nullable=False),
        sa.Column("integrity", sa.Boolean(), nullable=False),
        sa.Column("usability", sa.Boolean(), nullable=False),
        sa.Column("security", sa.Boolean(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("findings", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["archive_item.id"],
                                name="fk_four_property_check_item_id_archive_item"),
        sa.PrimaryKeyConstraint("id", name="pk_four_property_check"),
    )
    op.create_index("ix_four_property_check_item_id", "four_property_check", ["item_id"])
    op.create_table(
        "backup_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("base", sa.Text(), nullable=True),
        sa.Column("revision", sa.String(length=40), nullable=True),
        sa.Column("objects", sa.Integer(), nullable=False),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_backup_record"),
    )
    op.create_table(
        "backup_holding",
        sa.Column("backup_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["backup_id"], ["backup_record.id"],
                                name="fk_backup_holding_backup_id_backup_record"),
        sa.PrimaryKeyConstraint("backup_id", "item_id", name="pk_backup_holding"),
    )


def downgrade() -> None:
    op.drop_table("backup_holding")
    op.drop_table("backup_record")
    op.drop_index("ix_four_property_check_item_id", table_name="four_property_check")
    op.drop_table("four_property_check")
