"""Arrangement over the originals and catalogue edits from the browser (#12.2, #12.3).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23

A page's quarter turn and blank mark (the original is never altered), the change history of
an item (who, when, why, previous values), and a customer's phone and address.
"""
import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("page", sa.Column("turn", sa.Integer(), server_default="0", nullable=False))
    op.add_column("page", sa.Column("blank", sa.Boolean(), server_default=sa.false(),
                                    nullable=False))
    op.add_column("customer", sa.Column("phone", sa.String(length=50), nullable=True))
    op.add_column("customer", sa.Column("address", sa.String(length=300), nullable=True))
    op.create_table(
        "item_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["archive_item.id"],
                                name=op.f("fk_item_change_item_id_archive_item")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_item_change")),
    )
    op.create_index(op.f("ix_item_change_item_id"), "item_change", ["item_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_item_change_item_id"), table_name="item_change")
    op.drop_table("item_change")
    with op.batch_alter_table("customer") as batch:
        batch.drop_column("address")
        batch.drop_column("phone")
    with op.batch_alter_table("page") as batch:
        batch.drop_column("blank")
        batch.drop_column("turn")
