"""Search index analyzer version 3: a line break ends a number's key (#10).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23

Only on SQLite (the embedded index): every page whose index rows were written by another
analyzer version is analysed again from its stored text. That re-analysis follows the
running analyzer, so it is not done here (a migration does what it did when it was
written) but by service.migrate.upgrade right after the migrations, in the same
transaction. An Elasticsearch index is rebuilt with `dangan reindex --full`.
"""

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # service.migrate.upgrade re-analyses rows of an older analyzer version


def downgrade() -> None:
    pass
