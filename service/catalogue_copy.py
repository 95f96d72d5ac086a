"""Copying a whole archive between catalogues and stores: what backup/restore (service.backup)
and the move from embedded to production (service.moveup) share.

Why one module: both read every catalogue table in foreign-key order from one read
snapshot, carry values portably between SQLite and PostgreSQL (datetimes as UTC, bytes,
decimals), move PostgreSQL's id sequences past copied rows, put objects into a store
checking their SHA-256, and anchor a copied audit chain in its new store. Written once here.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, BinaryIO

import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Engine

from storage import ObjectStore, StoredObject, parse_content_key

from .audit_anchor import PREFIX as ANCHOR_PREFIX
from .backup_holdings import RECORD_TABLES
from .errors import N_, InvalidInput
from .models import Base

if TYPE_CHECKING:
    from .archive import Archive

#: The catalogue columns holding object keys: the objects a snapshot references.
OBJECT_COLUMNS = (("stored_file", "key"), ("page", "image_key"), ("page", "thumb_key"),
                  ("page", "pdf_key"))
#: Rows a migration seeds (the audit chain's head): a catalogue holding only these is empty.
SEEDED_TABLES = frozenset({"audit_head"})


# ---------------------------------------------------------------- values

def encode_value(value: Any) -> Any:
    """A column value as JSON: datetimes ISO (UTC), bytes base64, JSON values as they are."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, Decimal):
        return str(value)
    return value


def column_decoder(column: sa.Column) -> Any:
    """How to turn a column's JSON value back into what the target column takes."""
    kind = column.type
    if isinstance(kind, sa.DateTime):
        def dt(v: str) -> datetime:
            parsed = datetime.fromisoformat(v)
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)  # stored as UTC
        return dt
    if isinstance(kind, sa.Date):
        return date.fromisoformat
    if isinstance(kind, sa.LargeBinary):
        return base64.b64decode
    if isinstance(kind, sa.Numeric) and not isinstance(kind, sa.Float):
        return Decimal
    return None


def decode_row(raw: dict[str, Any], decoders: dict[str, Any]) -> dict[str, Any]:
    """A row of encoded values as the target table's columns take them."""
    return {k: (decoders[k](v) if v is not None and decoders.get(k) else v)
            for k, v in raw.items() if k in decoders}


def comparable(value: Any) -> Any:
    """A value as both catalogues compare it: a naive datetime (SQLite) is UTC, bytes are
    bytes, so the same row read from SQLite and from PostgreSQL compares equal."""
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    if isinstance(value, memoryview):
        return bytes(value)
    return value


# ---------------------------------------------------------------- tables

def reflect_tables(conn: Connection, names: list[str]) -> list[sa.Table]:
    """The named tables as the database has them (raw column types: no model-side
    conversions), in foreign-key order."""
    meta = sa.MetaData()
    meta.reflect(conn, only=names)
    order = {name: n for n, name in enumerate(names)}
    return sorted((t for t in meta.tables.values() if t.name in order),  # not their parents
                  key=lambda t: order[t.name])


def catalogue_tables() -> list[str]:
    """Every catalogue table of the running code, parents before children; the records of
    backups aside (service.backup_holdings): they describe the bags taken of this catalogue,
    and a restore records the bag it came from."""
    return [t.name for t in Base.metadata.sorted_tables if t.name not in RECORD_TABLES]


def current_revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


@contextmanager
def read_snapshot(engine: Engine) -> Iterator[Connection]:
    """One read transaction: every table read from the same moment of the catalogue."""
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            # pysqlite opens no transaction for SELECTs: begin one so that WAL pins a snapshot
            conn.exec_driver_sql("BEGIN")
        else:
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
            conn.exec_driver_sql("SET TRANSACTION READ ONLY")
        try:
            yield conn
        finally:
            conn.rollback()


def catalogue_is_empty(engine: Engine) -> bool:
    """No catalogue row at all (rows a migration seeds aside)."""
    with engine.connect() as conn:
        present = set(sa.inspect(conn).get_table_names())
        for name in catalogue_tables():
            if name in present and name not in SEEDED_TABLES and \
                    conn.execute(sa.text(f'SELECT 1 FROM "{name}" LIMIT 1')).first():
                return False
    return True


def holds_audit_anchors(store: ObjectStore) -> bool:
    """The store already anchors an audit chain: a copy's chain could never be anchored past
    another archive's anchors (they only move forward), so restore and migrate refuse it."""
    return next(iter(store.list_keys(ANCHOR_PREFIX)), None) is not None


def clear_seeded(conn: Connection, tables: list[sa.Table]) -> None:
    """Remove what migrations seeded into an empty catalogue, so copied rows take their place."""
    for table in reversed(tables):
        conn.execute(table.delete())


def reset_sequences(conn: Connection, tables: list[sa.Table]) -> None:
    """Rows came with their ids: move each PostgreSQL id sequence past them."""
    if conn.dialect.name != "postgresql":
        return
    for table in tables:
        for col in table.primary_key.columns:
            seq = conn.execute(sa.text("SELECT pg_get_serial_sequence(:t, :c)"),
                               {"t": table.name, "c": col.name}).scalar()
            if seq:
                conn.execute(sa.text(
                    f'SELECT setval(:s, COALESCE(MAX("{col.name}"), 1), MAX("{col.name}") IS NOT NULL) '
                    f'FROM "{table.name}"'), {"s": seq})


def referenced_keys(conn: Connection) -> dict[str, str | None]:
    """Every object key the catalogue references, with the SHA-256 it records for it: a
    stored file's recorded hash, an original's content key's own digest, or None for a
    derived file (page image, thumbnail, searchable PDF) whose hash only its store keeps."""
    keys: dict[str, str | None] = {}
    tables = {t.name: t for t in reflect_tables(conn, sorted({t for t, _ in OBJECT_COLUMNS}))}
    for tname, col in OBJECT_COLUMNS:
        column = tables[tname].c[col]
        for (key,) in conn.execute(sa.select(column).where(column.is_not(None)).distinct()):
            keys.setdefault(key, parse_content_key(key))
    files = tables["stored_file"]
    for key, sha in conn.execute(sa.select(files.c.key, files.c.sha256)):
        keys[key] = sha
    return keys


# ---------------------------------------------------------------- objects and the chain

def put_checked(store: ObjectStore, stream: BinaryIO, key: str,
                sha256: str | None) -> StoredObject:
    """Put one object under the key it had, checked against the SHA-256 recorded for it
    (the store refuses bytes that hash otherwise: ChecksumMismatch, nothing kept)."""
    if parse_content_key(key) is not None:
        stored = store.put(stream, expected_sha256=sha256)
    else:
        stored = store.put(stream, key=key, expected_sha256=sha256)
    if stored.key != key or (sha256 is not None and stored.sha256 != sha256):
        raise InvalidInput(N_("对象复制后与原对象不符：%(key)s"), key=key)
    return stored


def anchor_copied_chain(archive: Archive, refusal: str) -> None:
    """Anchor a copied audit chain in its new store: the source's anchors named positions
    of another store (a backup's, past its snapshot), so the copy, checked whole first, is
    anchored at its own head. A chain that does not verify is left unanchored and the copy
    refused (`refusal`, a message id taking the count of faults), so `dangan check --audit`
    never blesses a damaged one."""
    from .audit import anchor_chain, audit_problems

    with archive.session() as s:
        report = audit_problems(s)
    if report["bad"] or not report["head_ok"]:
        raise InvalidInput(refusal, count=len(report["bad"]) + (0 if report["head_ok"] else 1))
    anchor_chain(archive)
