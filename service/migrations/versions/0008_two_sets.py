"""The two-set rule (两套制): each item's paper side (position in its box, condition, remarks),
when either set last changed, the item's location history, the records officers' signed
cross-checks with their findings, and rescans (#11).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("archive_item") as batch:
        batch.add_column(sa.Column("box_position", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("paper_condition", sa.String(length=20), nullable=False,
                                   server_default="intact"))
        batch.add_column(sa.Column("paper_remarks", sa.Text(), nullable=True))
        batch.add_column(sa.Column("sets_changed_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("archive_item") as batch:
        batch.alter_column("paper_condition", server_default=None)
    op.create_table(
        "item_move",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("from_box_id", sa.Integer(), nullable=True),
        sa.Column("from_position", sa.Integer(), nullable=True),
        sa.Column("to_box_id", sa.Integer(), nullable=True),
        sa.Column("to_position", sa.Integer(), nullable=True),
        sa.Column("moved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("moved_by", sa.String(length=100), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["item_id"], ["archive_item.id"],
                                name=op.f("fk_item_move_item_id_archive_item")),
        sa.ForeignKeyConstraint(["from_box_id"], ["box.id"],
                                name=op.f("fk_item_move_from_box_id_box")),
        sa.ForeignKeyConstraint(["to_box_id"], ["box.id"], name=op.f("fk_item_move_to_box_id_box")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_item_move")),
    )
    op.create_index(op.f("ix_item_move_item_id"), "item_move", ["item_id"])
    op.create_table(
        "cross_check",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("result", sa.String(length=20), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=False),
        sa.Column("officer", sa.String(length=64), nullable=False),
        sa.Column("officer_name", sa.String(length=100), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("paper_pages", sa.Integer(), nullable=True),
        sa.Column("scanned_pages", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["item_id"], ["archive_item.id"],
                                name=op.f("fk_cross_check_item_id_archive_item")),
        sa.ForeignKeyConstraint(["officer_id"], ["app_user.id"],
                                name=op.f("fk_cross_check_officer_id_app_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cross_check")),
    )
    op.create_index(op.f("ix_cross_check_item_id"), "cross_check", ["item_id"])
    op.create_index(op.f("ix_cross_check_checked_at"), "cross_check", ["checked_at"])
    op.create_table(
        "check_finding",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("check_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("pages", sa.JSON(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["check_id"], ["cross_check.id"],
                                name=op.f("fk_check_finding_check_id_cross_check")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_check_finding")),
    )
    op.create_index(op.f("ix_check_finding_check_id"), "check_finding", ["check_id"])
    op.create_table(
        "rescan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("check_id", sa.Integer(), nullable=True),
        sa.Column("file_id", sa.Integer(), nullable=False),
        sa.Column("pages", sa.JSON(), nullable=True),
        sa.Column("replaced_file_ids", sa.JSON(), nullable=True),
        sa.Column("rescanned_by", sa.String(length=64), nullable=False),
        sa.Column("rescanned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["item_id"], ["archive_item.id"],
                                name=op.f("fk_rescan_item_id_archive_item")),
        sa.ForeignKeyConstraint(["check_id"], ["cross_check.id"],
                                name=op.f("fk_rescan_check_id_cross_check")),
        sa.ForeignKeyConstraint(["file_id"], ["stored_file.id"],
                                name=op.f("fk_rescan_file_id_stored_file")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rescan")),
    )
    op.create_index(op.f("ix_rescan_item_id"), "rescan", ["item_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_rescan_item_id"), table_name="rescan")
    op.drop_table("rescan")
    op.drop_index(op.f("ix_check_finding_check_id"), table_name="check_finding")
    op.drop_table("check_finding")
    op.drop_index(op.f("ix_cross_check_checked_at"), table_name="cross_check")
    op.drop_index(op.f("ix_cross_check_item_id"), table_name="cross_check")
    op.drop_table("cross_check")
    op.drop_index(op.f("ix_item_move_item_id"), table_name="item_move")
    op.drop_table("item_move")
    with op.batch_alter_table("archive_item") as batch:
        batch.drop_column("sets_changed_at")
        batch.drop_column("paper_remarks")
        batch.drop_column("paper_condition")
        batch.drop_column("box_position")
