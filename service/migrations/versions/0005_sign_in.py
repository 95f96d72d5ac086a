"""Sign-in throttling kept in the catalogue, and a session nonce per user (sign-out ends
copied session cookies too).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""
import secrets

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sign_in_failures",
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_sign_in_failures")),
    )
    op.create_index(op.f("ix_sign_in_failures_last_failure_at"), "sign_in_failures",
                    ["last_failure_at"])
    # Nullable: SQLite cannot add a NOT NULL column in place (every row gets a value below).
    op.add_column("app_user", sa.Column("session_nonce", sa.String(length=32), nullable=True))
    bind = op.get_bind()
    user = sa.table("app_user", sa.column("id", sa.Integer), sa.column("session_nonce", sa.String))
    for (uid,) in bind.execute(sa.select(user.c.id)).all():
        bind.execute(user.update().where(user.c.id == uid)
                     .values(session_nonce=secrets.token_hex(16)))


def downgrade() -> None:
    op.drop_column("app_user", "session_nonce")
    op.drop_index(op.f("ix_sign_in_failures_last_failure_at"), table_name="sign_in_failures")
    op.drop_table("sign_in_failures")
