"""Privacy: a per-user privacy right and the item flag "holds ID copies" (#13.6).

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-24

`app_user.privacy_right`: NULL follows the user's role (the archive's own roles see personal
data), true or false is the administrator's decision for that user.
`archive_item.id_copies`: the item holds copies of resident ID cards (身份证复印件); only users
with the privacy right may open it.
"""
import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("app_user", sa.Column("privacy_right", sa.Boolean(), nullable=True))
    op.add_column("archive_item", sa.Column("id_copies", sa.Boolean(), server_default=sa.false(),
                                            nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("archive_item") as batch:
        batch.drop_column("id_copies")
    with op.batch_alter_table("app_user") as batch:
        batch.drop_column("privacy_right")
