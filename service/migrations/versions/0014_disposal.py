"""Deletion with a 30-day hold, destruction at the end of retention, the destruction register.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-24
"""
import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def _when(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.add_column("archive_item", _when("deletion_due_at"))
    op.create_table(
        "deletion_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        _when("requested_at", nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        _when("decided_at"),
        sa.Column("decision_note", sa.Text(), nullable=True),
        _when("due_at"),
        sa.Column("undone_by", sa.String(length=64), nullable=True),
        _when("undone_at"),
        _when("final_at"),
        sa.Column("manifest", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["item_id"], ["archive_item.id"],
                                name="fk_deletion_request_item_id_archive_item"),
        sa.PrimaryKeyConstraint("id", name="pk_deletion_request"),
    )
    op.create_index("ix_deletion_request_item_id", "deletion_request", ["item_id"])
    op.create_table(
        "destruction_case",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("decision", sa.String(length=8), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("extend_years", sa.Integer(), nullable=True),
        sa.Column("keep_until", sa.Date(), nullable=True),
        sa.Column("appraised_by", sa.String(length=64), nullable=False),
        _when("appraised_at", nullable=False),
        sa.Column("approved_by", sa.String(length=64), nullable=True),
        _when("approved_at"),
        sa.Column("decision_note", sa.Text(), nullable=True),
        _when("due_at"),
        sa.Column("confirmed_by", sa.String(length=64), nullable=True),
        sa.Column("supervisor", sa.String(length=64), nullable=True),
        _when("confirmed_at"),
        sa.Column("manifest", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["item_id"], ["archive_item.id"],
                                name="fk_destruction_case_item_id_archive_item"),
        sa.PrimaryKeyConstraint("id", name="pk_destruction_case"),
    )
    op.create_index("ix_destruction_case_item_id", "destruction_case", ["item_id"])
    op.create_table(
        "pending_purge",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("keys", sa.JSON(), nullable=False),
        _when("created_at", nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_pending_purge"),
    )
    op.create_index("ix_pending_purge_item_id", "pending_purge", ["item_id"])
    op.create_table(
        "destruction_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("archival_code", sa.String(length=40), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("retention", sa.String(length=3), nullable=False),
        sa.Column("secrecy", sa.String(length=4), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=True),
        sa.Column("box", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("appraised_by", sa.String(length=64), nullable=False),
        sa.Column("approved_by", sa.String(length=64), nullable=False),
        sa.Column("supervisor", sa.String(length=64), nullable=False),
        sa.Column("confirmed_by", sa.String(length=64), nullable=False),
        _when("destroyed_at", nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_destruction_record"),
        sa.UniqueConstraint("number", name="uq_destruction_record_number"),
    )
    op.create_index("ix_destruction_record_item_id", "destruction_record", ["item_id"])


def downgrade() -> None:
    op.drop_table("destruction_record")
    op.drop_table("pending_purge")
    op.drop_table("destruction_case")
    op.drop_table("deletion_request")
    with op.batch_alter_table("archive_item") as batch:
        batch.drop_column("deletion_due_at")
