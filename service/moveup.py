"""Moving up (`dangan migrate --to ENVFILE`): an embedded archive (SQLite catalogue, local
object directory, FTS5 index) copied onto the production settings (PostgreSQL, S3,
Elasticsearch, or the target's own embedded index rebuilt).

Why it is built this way:
- The source is only read: its catalogue through a read-only SQLite connection (no
  checkpoint, no journal change), its objects through the store's `open`; no file of the
  source changes (tests/service/test_moveup.py hashes them).
- Resumable: rows are written in batches, each committed, keyed by their primary key (a
  row already there is left alone, or brought to the source's values if they differ:
  never a second row); an object already in the target with the recorded SHA-256 is not
  copied again. Run it again after an interruption and it goes on where it stopped.
- Verified: every original is put with the SHA-256 the catalogue recorded at ingest (the
  target store refuses other bytes), every derived file with the hash of the bytes read;
  then every object is read back from the target and hashed again.
- The target must be empty or hold an earlier, interrupted copy of this same archive (the
  first user and the first audit entry identify an archive); anything else is refused.
- The copied audit chain is verified and anchored in the target store, and the migration
  is recorded there (`archive.migrate`) as its last step: a run that finds that entry has
  nothing left to do and only reports.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, event
from sqlalchemy.pool import NullPool

from storage import ChecksumMismatch, ObjectNotFound, ObjectStore, open_store
from storage.base import hash_stream

from .archive import Archive
from .audit import anchor_chain, record
from .audit_actions import AuditAction
from .audit_anchor import PREFIX as ANCHORS
from .catalogue_copy import (
    SEEDED_TABLES,
    anchor_copied_chain,
    catalogue_is_empty,
    catalogue_tables,
    clear_seeded,
    column_decoder,
    comparable,
    current_revision,
    decode_row,
    encode_value,
    holds_audit_anchors,
    put_checked,
    read_snapshot,
    referenced_keys,
    reflect_tables,
    reset_sequences,
)
from .config import Settings
from .db import is_sqlite
from .errors import N_, Conflict, InvalidInput
from .migrate import alembic_config, upgrade

#: Rows per committed batch: what an interruption can cost at most per table.
BATCH = 500
#: The counts the report shows first, by the table that holds them.
COUNTED = (("items", "archive_item"), ("pages", "page"), ("files", "stored_file"),
           ("audit_entries", "audit_entry"), ("users", "app_user"), ("boxes", "box"),
           ("customers", "customer"), ("loans", "loan"))

#: Called after each committed batch of rows ("rows", rows done) and each object copied
#: ("objects", objects copied): progress for the operator, and where tests interrupt a run.
Checkpoint = Callable[[str, int], None]


@dataclass
class _Run:
    """What this run did (a resumed run counts only its own work)."""

    rows_inserted: int = 0
    rows_updated: int = 0
    objects_copied: int = 0
    bytes_copied: int = 0
    objects_present: int = 0
    problems: list[dict] = field(default_factory=list)


# ---------------------------------------------------------------- the two sides

def read_only_engine(url: str) -> Engine:
    """The source catalogue opened so that nothing can write it. SQLite: a closed archive
    (no write-ahead log beside the file: no connection has it open) is read as immutable,
    which creates no -wal or -shm file beside it; one still open elsewhere is read through
    its log read-only (`mode=ro`: no checkpoint into the file). PostgreSQL: sessions that
    refuse writes."""
    if is_sqlite(url):
        path = sa.make_url(url).database or ""
        if not Path(path).is_file():
            raise InvalidInput(N_("源档案库不存在：%(path)s。请用 --data 或 DANGAN_DATA 指定要迁移的档案库。"),
                               path=path)
        how = "mode=ro" if Path(f"{path}-wal").exists() else "mode=ro&immutable=1"
        engine = sa.create_engine(f"sqlite:///file:{quote(path)}?{how}&uri=true",
                                  poolclass=NullPool)

        @event.listens_for(engine, "connect")
        def _read_only(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.execute("PRAGMA query_only=ON")
            dbapi_conn.execute("PRAGMA busy_timeout=60000")

        return engine
    return sa.create_engine(url, poolclass=NullPool,
                            connect_args={"options": "-c default_transaction_read_only=on"})


def _describe(settings: Settings, store: ObjectStore, engine: Engine) -> dict[str, str]:
    """Where one side lives, as the report shows it (never a password)."""
    search = settings.search_url
    if search != "sqlite":
        parts = urlsplit(search)
        if parts.password:
            host = f"{parts.hostname}:{parts.port}" if parts.port else parts.hostname
            search = urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))
    elif engine.dialect.name != "sqlite":
        search = f"sqlite ({settings.data_dir / 'search.sqlite3'})"
    return {"database": engine.url.render_as_string(hide_password=True),
            "storage": store.describe(), "search": search}


def _refuse_same_place(source: Settings, target: Settings, src_store: ObjectStore,
                       dst_store: ObjectStore) -> None:
    """The target must be somewhere else entirely: writing it must not touch the source."""
    if sa.make_url(source.database_url) == sa.make_url(target.database_url):
        raise InvalidInput(N_("迁移目标的数据库就是源档案库的数据库，请在 --to 文件中给出生产环境的 "
                              "DANGAN_DATABASE_URL。"))
    if src_store.describe() == dst_store.describe():
        raise InvalidInput(N_("迁移目标的对象存储就是源档案库的存储，请在 --to 文件中给出生产环境的 "
                              "DANGAN_STORAGE_URL。"))
    if source.data_dir == target.data_dir:
        raise InvalidInput(N_("迁移目标的数据目录（DANGAN_DATA）就是源档案库的数据目录 %(dir)s，"
                              "请在 --to 文件中给出另一个目录。"), dir=str(target.data_dir))


def _identity(conn: Connection) -> tuple:
    """What tells one archive from another: its first user (every archive has one from
    `dangan init`) and its first audit entry (whose hash covers its time and content)."""
    users, entries = reflect_tables(conn, ["app_user", "audit_entry"])  # typed columns
    user = conn.execute(sa.select(users.c.id, users.c.username, users.c.created_at)
                        .order_by(users.c.id).limit(1)).first()
    entry = conn.execute(sa.select(entries.c.id, entries.c.hash)
                         .order_by(entries.c.id).limit(1)).first()
    return (None if user is None else (user[0], user[1], encode_value(comparable(user[2]))),
            None if entry is None else tuple(entry))


def _same_archive(src: Connection, target: Connection) -> bool:
    """The target's first user and first audit entry, where it has them already (an
    interrupted copy may not have reached them), are the source's."""
    if not {"app_user", "audit_entry"} <= set(sa.inspect(target).get_table_names()):
        return False
    mine, theirs = _identity(src), _identity(target)
    return all(t is None or t == m for m, t in zip(mine, theirs, strict=True))


def _migrated(target: Engine) -> int | None:
    """The id of the entry recording that the migration finished, if it did."""
    with target.connect() as conn:
        if "audit_entry" not in sa.inspect(conn).get_table_names():
            return None
        return conn.execute(sa.text("SELECT MAX(id) FROM audit_entry WHERE action = :a"),
                            {"a": str(AuditAction.ARCHIVE_MIGRATE)}).scalar()


def _prepare_target(src: Connection, target: Archive) -> bool:
    """Bring the target's schema to the source's and check it holds nothing but an earlier
    copy of this archive; True when it was empty (a fresh start)."""
    empty = catalogue_is_empty(target.engine)
    if empty and holds_audit_anchors(target.store):
        raise Conflict(N_("目标存储中已有另一个档案库的审计锚点（%(prefix)s），拒绝迁移。"
                          "请为迁移准备一个空的存储桶，在 --to 文件中写上它，再运行 dangan migrate。"),
                       prefix=ANCHORS)
    if not empty:
        with target.engine.connect() as conn:
            same = _same_archive(src, conn)
        if not same:
            raise Conflict(N_("目标数据库中已有另一个档案库的数据，拒绝迁移（不会覆盖它）。"
                              "请为迁移准备一个新的空数据库和空的存储桶，在 --to 文件中写上它们，"
                              "再运行 dangan migrate。"))
    target.settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(target.engine)
    return empty


# ---------------------------------------------------------------- rows

def _batches(rows: Iterable[Any], size: int) -> Iterator[list[Any]]:
    it = iter(rows)
    while chunk := list(islice(it, size)):
        yield chunk


def _key(row: dict[str, Any], pk: list[str]) -> tuple:
    return tuple(row[c] for c in pk)


def _existing(conn: Connection, table: sa.Table, pk: list[str],
              rows: list[dict[str, Any]]) -> dict[tuple, dict[str, Any]]:
    """The target's rows with the same primary keys as `rows`, by key."""
    cols = [table.c[c] for c in pk]
    keys = [_key(r, pk) for r in rows]
    where = cols[0].in_([k[0] for k in keys]) if len(cols) == 1 else sa.tuple_(*cols).in_(keys)
    return {_key(dict(r), pk): dict(r)
            for r in conn.execute(sa.select(table).where(where)).mappings()}


def _differs(row: dict[str, Any], there: dict[str, Any]) -> bool:
    return any(comparable(v) != comparable(there.get(k)) for k, v in row.items())


def _copy_rows(src: Connection, target: Engine, fresh: bool, run: _Run,
               checkpoint: Checkpoint | None, batch: int) -> None:
    """Every catalogue row of the source into the target, parents before children, one
    committed batch at a time; rows already there (an interrupted run) are not inserted
    again, and rows a migration seeded (the audit head) take the source's values."""
    names = catalogue_tables()
    src_tables = reflect_tables(src, names)
    with target.begin() as conn:
        dst_tables = {t.name: t for t in reflect_tables(conn, names)}
        if fresh:
            clear_seeded(conn, list(dst_tables.values()))
    done = 0
    for table in src_tables:
        dst = dst_tables[table.name]
        decoders = {c.name: column_decoder(c) for c in dst.columns}
        pk = [c.name for c in dst.primary_key.columns]
        order = list(table.primary_key.columns) or list(table.columns)
        rows = src.execute(sa.select(table).order_by(*order)).mappings()
        for chunk in _batches(rows, batch):
            values = [decode_row({k: encode_value(v) for k, v in r.items()}, decoders)
                      for r in chunk]
            with target.begin() as conn:
                there = _existing(conn, dst, pk, values)
                new = [v for v in values if _key(v, pk) not in there]
                stale = [v for v in values if _key(v, pk) in there
                         and _differs(v, there[_key(v, pk)])]
                if new:
                    conn.execute(dst.insert(), new)
                for v in stale:
                    conn.execute(dst.update().where(*(dst.c[c] == v[c] for c in pk)).values(v))
            run.rows_inserted += len(new)
            run.rows_updated += len(stale)
            done += len(values)
            if checkpoint:
                checkpoint("rows", done)
    with target.begin() as conn:
        reset_sequences(conn, list(dst_tables.values()))


# ---------------------------------------------------------------- objects

def _source_digest(store: ObjectStore, key: str) -> str:
    with store.open(key) as f:
        return hash_stream(f)[0]


def _copy_objects(keys: dict[str, str | None], source: ObjectStore, target: ObjectStore,
                  run: _Run, checkpoint: Checkpoint | None) -> dict[str, str]:
    """Every referenced object into the target store unless already there with the same
    SHA-256: an original checked against the hash the catalogue recorded at ingest, a
    derived file against the hash of its bytes in the source. Returns key -> the SHA-256
    the target must hold (for the final check)."""
    sums: dict[str, str] = {}
    for key, recorded in sorted(keys.items()):
        try:
            want = recorded or _source_digest(source, key)
            if target.exists(key) and target.stat(key).sha256 == want:
                run.objects_present += 1
                sums[key] = want
                continue
            with source.open(key) as f:  # the target store refuses bytes hashing otherwise
                stored = put_checked(target, f, key, want)
        except ObjectNotFound:
            run.problems.append({"key": key, "problem": "missing"})
            continue
        except ChecksumMismatch:
            run.problems.append({"key": key, "problem": "checksum", "recorded": recorded})
            continue
        sums[key] = want
        run.objects_copied += 1
        run.bytes_copied += stored.size
        if checkpoint:
            checkpoint("objects", run.objects_copied)
    return sums


def _verify(store: ObjectStore, sums: dict[str, str]) -> list[dict]:
    """Every object read back from the target and hashed again."""
    return [{"key": key, "problem": "verify"} for key, sha in sorted(sums.items())
            if not store.verify(key, sha)]


# ---------------------------------------------------------------- the report

def _side_counts(conn: Connection, store: ObjectStore, keys: Iterable[str]) -> dict[str, int]:
    """The counts of one side: rows of every catalogue table (the counted ones by name),
    and the referenced objects the store holds with their bytes (listed, not read)."""
    present = set(sa.inspect(conn).get_table_names())
    rows = {name: (conn.execute(sa.text(f'SELECT COUNT(*) FROM "{name}"')).scalar() or 0)
            if name in present else 0 for name in catalogue_tables()}
    if "audit_entry" in present:  # the migration's own entry is the target's, not a copy
        rows["audit_entry"] -= conn.execute(sa.text(
            "SELECT COUNT(*) FROM audit_entry WHERE action = :a"),
            {"a": str(AuditAction.ARCHIVE_MIGRATE)}).scalar() or 0
    wanted = set(keys)
    sizes = {k.key: k.size for k in store.list_keys() if k.key in wanted}
    counts = {label: rows[table] for label, table in COUNTED}
    counts.update({"objects": len(sizes), "bytes": sum(sizes.values())})
    counts.update({f"table:{name}": n for name, n in rows.items() if name not in SEEDED_TABLES})
    return counts


def _report(src: Connection, source_store: ObjectStore, target: Archive,
            keys: Iterable[str]) -> dict[str, Any]:
    keys = list(keys)
    before = _side_counts(src, source_store, keys)
    with target.engine.connect() as conn:
        after = _side_counts(conn, target.store, keys)
    counts = {k: {"source": before[k], "target": after.get(k, 0)} for k in before}
    return {"counts": counts,
            "differ": [k for k, v in counts.items() if v["source"] != v["target"]]}


# ---------------------------------------------------------------- the whole move

def migrate_archive(source: Settings, target: Settings, *, checkpoint: Checkpoint | None = None,
                    batch: int = BATCH) -> dict[str, Any]:
    """Copy the archive `source` names onto `target` (see the module's docstring); returns
    the report: where, what this run did, the counts of both sides and which differ."""
    src_engine = read_only_engine(source.database_url)
    src_store = open_store(source.storage_url)
    dst = Archive(target)
    _refuse_same_place(source, target, src_store, dst.store)
    run = _Run()
    try:
        with read_snapshot(src_engine) as src:
            _check_revision(src)
            report: dict[str, Any] = {"source": _describe(source, src_store, src_engine),
                                      "target": _describe(target, dst.store, dst.engine)}
            keys = referenced_keys(src)
            finished = _migrated(dst.engine)
            if finished is None:
                fresh = _prepare_target(src, dst)
                _copy_rows(src, dst.engine, fresh, run, checkpoint, batch)
                sums = _copy_objects(keys, src_store, dst.store, run, checkpoint)
                run.problems += _verify(dst.store, sums)
                report["verified"] = len(sums)
            report.update(_report(src, src_store, dst, keys))
    finally:
        src_engine.dispose()
    if finished is None:
        from .search import reindex

        report["indexed"] = reindex(dst)["indexed"]
        complete = not run.problems and not report["differ"]
        if complete:
            finished = _record(dst, report)
    report.update({"rows_inserted": run.rows_inserted, "rows_updated": run.rows_updated,
                   "objects_copied": run.objects_copied, "bytes_copied": run.bytes_copied,
                   "objects_present": run.objects_present, "problems": run.problems,
                   "audit_entry": finished, "complete": finished is not None})
    return report


def _check_revision(src: Connection) -> None:
    """The source must be at this program's newest revision: it is never upgraded here
    (it stays untouched), and rows are copied into the same schema."""
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    have = current_revision(src)
    if have != head:
        raise InvalidInput(N_("源档案库的数据库版本 %(rev)s 不是本程序的最新版本 %(head)s。请先对源档案库"
                              "运行一次 `dangan init`（只升级数据库，不改动档案），再迁移。"),
                           rev=have or "?", head=head or "?")


def _record(target: Archive, report: dict[str, Any]) -> int:
    """Anchor the copied chain (checked whole first), then record the migration on it."""
    anchor_copied_chain(target, N_("源档案库的审计记录链不完整或被改动（%(count)s 处），迁移未完成。"
                                   "请先运行 dangan check --audit 查明原因。"))
    detail = {"from": report["source"],
              "counts": {k: v["target"] for k, v in report["counts"].items()
                         if not k.startswith("table:")}}
    with target.session() as s:
        entry_id = record(s, "cli", AuditAction.ARCHIVE_MIGRATE, "archive", detail).id
    anchor_chain(target)
    return entry_id
