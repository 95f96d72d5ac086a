"""The audit chain's head (one row, locked by every append) and no forks in the chain.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23

A chain written before this revision by concurrent writers may already hold forks (two
entries with the same predecessor). They are kept as they are, never rewritten: the audit
record is evidence, and `dangan check --audit` lists them. The unique index then covers only
the entries after the last fork, so every entry written from now on is fork-free.
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

GENESIS = "0" * 64


def upgrade() -> None:
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("entries", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    bind = op.get_bind()
    entry = sa.table("audit_entry", sa.column("id", sa.Integer), sa.column("hash", sa.Text),
                     sa.column("prev_hash", sa.String))
    last = bind.execute(sa.select(entry.c.hash).order_by(entry.c.id.desc()).limit(1)).scalar()
    count = bind.execute(sa.select(sa.func.count()).select_from(entry)).scalar() or 0
    head = sa.table("audit_head", sa.column("id", sa.Integer), sa.column("hash", sa.String),
                    sa.column("entries", sa.BigInteger))
    bind.execute(head.insert().values(id=1, hash=last or GENESIS, entries=count))
    forked = (sa.select(entry.c.prev_hash).group_by(entry.c.prev_hash)
              .having(sa.func.count() > 1))
    last_fork = bind.execute(sa.select(sa.func.max(entry.c.id))
                             .where(entry.c.prev_hash.in_(forked))).scalar()
    where = sa.text(f"id > {int(last_fork)}") if last_fork else None
    op.create_index("uq_audit_entry_prev_hash", "audit_entry", ["prev_hash"], unique=True,
                    postgresql_where=where, sqlite_where=where)


def downgrade() -> None:
    op.drop_index("uq_audit_entry_prev_hash", table_name="audit_entry")
    op.drop_table("audit_head")
