"""Catalogue changes wait for the archive manager's approval (#13): the change requests,
and who approved each applied change in the item's history.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-24
"""
import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "change_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("sheet", sa.String(length=255), nullable=True),
        sa.Column("sheet_row", sa.Integer(), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["archive_item.id"],
                                name="fk_change_request_item_id_archive_item"),
        sa.PrimaryKeyConstraint("id", name="pk_change_request"),
    )
    op.create_index("ix_change_request_item_id", "change_request", ["item_id"])
    op.create_index("ix_change_request_status", "change_request", ["status"])
    with op.batch_alter_table("item_change") as batch:
        batch.add_column(sa.Column("approved_by", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("request_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_item_change_request_id_change_request", "change_request",
                                 ["request_id"], ["id"])
        batch.create_index("ix_item_change_request_id", ["request_id"])


def downgrade() -> None:
    with op.batch_alter_table("item_change") as batch:
        batch.drop_index("ix_item_change_request_id")
        batch.drop_constraint("fk_item_change_request_id_change_request", type_="foreignkey")
        batch.drop_column("request_id")
        batch.drop_column("approved_by")
    op.drop_index("ix_change_request_status", table_name="change_request")
    op.drop_index("ix_change_request_item_id", table_name="change_request")
    op.drop_table("change_request")
