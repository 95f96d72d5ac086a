"""Audit entries say from where (client address, ``cli:user@host``, ``worker:host``), and
the audit page filters by who, what and when without reading the whole trail.

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-24

Entries written before keep ``origin`` empty and their hash as it was (the digest covers
the origin only when there is one), so the whole chain still verifies.
"""
import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_entry") as batch:
        batch.add_column(sa.Column("origin", sa.String(length=200), nullable=True))
    op.create_index("ix_audit_entry_at", "audit_entry", ["at"])
    op.create_index("ix_audit_entry_actor", "audit_entry", ["actor"])
    op.create_index("ix_audit_entry_action", "audit_entry", ["action"])


def downgrade() -> None:
    op.drop_index("ix_audit_entry_action", table_name="audit_entry")
    op.drop_index("ix_audit_entry_actor", table_name="audit_entry")
    op.drop_index("ix_audit_entry_at", table_name="audit_entry")
    with op.batch_alter_table("audit_entry") as batch:
        batch.drop_column("origin")
