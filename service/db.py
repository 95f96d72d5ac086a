"""Database engines and sessions for SQLite (embedded) and PostgreSQL (production).

Engines are cached per process: job-queue workers are forked, and a connection pool
must never cross a fork.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import Session

_engines: dict[tuple[int, str], Engine] = {}


#: The largest row id SQLite and PostgreSQL (bigint) hold. A larger number names no row; handed
#: to the database as a parameter it is an overflow error, not "not found".
MAX_ROW_ID = 2**63 - 1


def is_row_id(n: int) -> bool:
    return 0 < n <= MAX_ROW_ID


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def sqlite_busy_timeout(url: str) -> float:
    """Seconds a SQLite statement waits for another writer's lock before it fails: the URL's
    ``timeout`` (``sqlite:///catalogue.sqlite3?timeout=5``), else 60."""
    given = make_url(url).query.get("timeout")
    return float(given if isinstance(given, str) else given[0]) if given else 60.0


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite gets WAL, foreign keys and a long busy timeout.

    The busy timeout matters: web, CLI and several OCR workers write to one file; past it a
    statement fails as "database is locked" (`sqlite_busy_timeout`).
    """
    if is_sqlite(url):
        busy = sqlite_busy_timeout(url)
        engine = create_engine(url, connect_args={"timeout": busy})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA busy_timeout={int(busy * 1000)}")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def get_engine(url: str) -> Engine:
    """The engine for this URL in this process (recreated after a fork)."""
    key = (os.getpid(), url)
    engine = _engines.get(key)
    if engine is None:
        engine = make_engine(url)
        _engines[key] = engine
    return engine


def dispose_all() -> None:
    for engine in list(_engines.values()):
        engine.dispose()
    _engines.clear()


@contextmanager
def session_scope(engine: Engine, info: dict | None = None) -> Iterator[Session]:
    """One transaction: commit on success, roll back on any error; `info` seeds Session.info.

    A plain Session: a `sessionmaker` per call would make a new Session class each time,
    and SQLAlchemy sets up every Session event listener again for each new class (~1 ms of
    CPU, three times a search request)."""
    session = Session(engine, expire_on_commit=False, info=dict(info or {}))
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


#: PostgreSQL SQLSTATEs meaning "no space": disk_full, insufficient_resources, out_of_memory.
_PG_FULL = frozenset({"53100", "53000", "53200"})
_SQLITE_FULL = 13  # SQLITE_FULL: "database or disk is full"


def db_failure(exc: BaseException) -> str | None:
    """What a database exception means for the user: "full" (no space left to write),
    "unavailable" (cannot reach it, connection dropped, locked out), or None (a bug or a
    conflict, not the infrastructure)."""
    if not isinstance(exc, DBAPIError):
        return None
    orig = exc.orig
    if getattr(orig, "sqlstate", None) in _PG_FULL \
            or getattr(orig, "sqlite_errorcode", None) == _SQLITE_FULL:
        return "full"
    if isinstance(exc, OperationalError | InterfaceError) or exc.connection_invalidated:
        return "unavailable"
    return None
