"""Apply the Alembic migrations; called by `dangan init` and at start-up on upgrade."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

from indexer.search.sqlite_engine import retokenize

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest revision (idempotent), then, in the same transaction,
    the embedded search index to the running analyzer's token rules.

    Re-analysing the index is a cache refresh that must follow the live token rules
    (indexer.search.analysis.ANALYZER_VERSION), while a migration must do what it did when
    it was written; so it is done here after every upgrade, not in a migration. Nothing is
    re-analysed when every row is already of the running version.
    """
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
        if conn.dialect.name == "sqlite":  # the search tables live in the catalogue (0002)
            retokenize(conn)
