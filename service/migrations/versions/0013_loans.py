"""Loans (借阅) and their items: request, approval, issue, pages counted out and back.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-24
"""
import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "loan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("borrower_id", sa.Integer(), nullable=False),
        sa.Column("department", sa.String(length=100), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("approver_role", sa.String(length=20), nullable=False),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.Column("issued_by", sa.String(length=64), nullable=True),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("returned_to", sa.String(length=64), nullable=True),
        sa.Column("returned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("mismatch", sa.Boolean(), nullable=False),
        sa.Column("settled_by", sa.String(length=64), nullable=True),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("settlement", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["borrower_id"], ["app_user.id"],
                                name="fk_loan_borrower_id_app_user"),
        sa.PrimaryKeyConstraint("id", name="pk_loan"),
        sa.UniqueConstraint("number", name="uq_loan_number"),
    )
    op.create_index("ix_loan_borrower_id", "loan", ["borrower_id"])
    op.create_index("ix_loan_status_ends", "loan", ["status", "ends_at"])
    op.create_table(
        "loan_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("loan_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("pages_out", sa.Integer(), nullable=True),
        sa.Column("pages_back", sa.Integer(), nullable=True),
        sa.Column("mismatch_note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["loan_id"], ["loan.id"], name="fk_loan_item_loan_id_loan"),
        sa.ForeignKeyConstraint(["item_id"], ["archive_item.id"],
                                name="fk_loan_item_item_id_archive_item"),
        sa.PrimaryKeyConstraint("id", name="pk_loan_item"),
    )
    op.create_index("ix_loan_item_loan_id", "loan_item", ["loan_id"])
    op.create_index("ix_loan_item_item_id", "loan_item", ["item_id"])


def downgrade() -> None:
    op.drop_table("loan_item")
    op.drop_table("loan")
