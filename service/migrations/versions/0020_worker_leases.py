"""Workers on many machines: a page's claim carries a lease its worker renews, and each
periodic job (reconcile, purge) is claimed once per period in the catalogue.

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-24

Pages running when this is applied have no lease; the reconcile treats them by their start
time as before (stale after the OCR time limit and a minute).
"""
import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("page") as batch:
        batch.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "periodic_run",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("slot", sa.BigInteger(), nullable=False),
        sa.Column("ran_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("worker", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("name", name="pk_periodic_run"),
    )


def downgrade() -> None:
    op.drop_table("periodic_run")
    with op.batch_alter_table("page") as batch:
        batch.drop_column("lease_until")
