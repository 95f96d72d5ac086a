"""Search index analyzer version 2: numbers and identifiers keyed (#10).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23

Only on SQLite (the embedded index inside the catalogue). Every indexed page is analysed
again from its stored text, so the ``uni`` column gains the key trigrams of its numbers,
dates and identifiers (indexer.search.identifiers). That re-analysis follows the running
analyzer, whatever its version, so it is not done here (a migration does what it did when
it was written) but by service.migrate.upgrade right after the migrations, in the same
transaction: each row records the analyzer version that wrote it. An Elasticsearch index
is rebuilt with `dangan reindex --full`. The downgrade re-analyses nothing: the index is a
cache; run `dangan reindex --full` with the older version.
"""

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # service.migrate.upgrade re-analyses rows of an older analyzer version


def downgrade() -> None:
    pass
