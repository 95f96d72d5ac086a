"""Backup and restore of a whole archive as a BagIt bag (catalogue snapshot plus objects).

Why a bag: its SHA-256 manifests let anyone (with the `bagit` tool, without dangan) prove
that a copy is whole, and restore refuses a bag that does not validate. The catalogue is
written portably, one JSON-lines file per table, so a backup of an embedded (SQLite)
archive restores onto PostgreSQL and back. The snapshot is read in one read transaction,
so the archive stays in use; the objects it references are then copied (originals are
never rewritten and derived files are replaced atomically, so every referenced key still
reads). An incremental backup (`since`) copies only objects the base bag lacks.
"""

from __future__ import annotations

import base64
import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import bagit
import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

from storage import parse_content_key

from . import clock
from .archive import Archive
from .errors import N_, Conflict, InvalidInput
from .migrate import alembic_config, upgrade
from .models import Base

CATALOGUE = "catalogue"
OBJECTS = "objects"
#: Objects an incremental bag leaves in its base bag: one {"key", "sha256"} per line.
FROM_BASE = "objects-in-base.jsonl"
TABLES = "tables.json"
#: The catalogue columns holding object keys: the objects a snapshot references.
OBJECT_COLUMNS = (("stored_file", "key"), ("page", "image_key"), ("page", "thumb_key"),
                  ("page", "pdf_key"))


# ---------------------------------------------------------------- values

def _encode(value: Any) -> Any:
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


def _decoder(column: sa.Column) -> Any:
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


def reflect_tables(conn: Connection, names: list[str]) -> list[sa.Table]:
    """The named tables as the database has them (raw column types: no model-side
    conversions), in foreign-key order."""
    meta = sa.MetaData()
    meta.reflect(conn, only=names)
    order = {name: n for n, name in enumerate(names)}
    return sorted(meta.tables.values(), key=lambda t: order[t.name])


def catalogue_tables() -> list[str]:
    """Every catalogue table of the running code, parents before children."""
    return [t.name for t in Base.metadata.sorted_tables]


def current_revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


# ---------------------------------------------------------------- backup

@contextmanager
def _snapshot(engine: Engine) -> Iterator[Connection]:
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


def _bag_objects(bag_dir: Path) -> dict[str, str]:
    """key -> SHA-256 of the objects a bag holds itself (from its manifest)."""
    prefix = f"data/{OBJECTS}/"
    return {path[len(prefix):]: sums["sha256"] for path, sums in
            bagit.Bag(str(bag_dir)).entries.items() if path.startswith(prefix)}


def _open_base(base: Path) -> bagit.Bag:
    try:
        bag = bagit.Bag(str(base))
    except bagit.BagError as exc:
        raise InvalidInput(N_("不是有效的备份包：%(path)s（%(reason)s）"), path=str(base),
                           reason=str(exc)) from exc
    if bag.info.get("Dangan-Base"):
        raise InvalidInput(N_("增量备份的基准必须是完整备份：%(path)s"), path=str(base))
    return bag


def backup(archive: Archive, dest: Path, *, since: Path | None = None) -> dict:
    """Write the archive into a new bag at `dest` (absent or an empty directory)."""
    dest = Path(dest)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise Conflict(N_("备份目标已存在且不为空：%(path)s"), path=str(dest))
    base_objects: dict[str, str] = {}
    if since is not None:
        base_bag = _open_base(Path(since))
        base_objects = _bag_objects(Path(base_bag.path))
    names = catalogue_tables()
    dest.mkdir(parents=True, exist_ok=True)
    try:
        return _write(archive, dest, names, since, base_objects)
    except BaseException:
        shutil.rmtree(dest, ignore_errors=True)  # nothing half-written is left as a "backup"
        raise


def _write(archive: Archive, dest: Path, names: list[str], since: Path | None,
           base_objects: dict[str, str]) -> dict:
    cat = dest / CATALOGUE
    cat.mkdir()
    counts: dict[str, int] = {}
    keys: set[str] = set()
    with _snapshot(archive.engine) as conn:
        revision = current_revision(conn)
        tables = reflect_tables(conn, names)
        for table in tables:
            n = 0
            with (cat / f"{table.name}.jsonl").open("w", encoding="utf-8") as out:
                pk = list(table.primary_key.columns) or list(table.columns)
                for row in conn.execute(sa.select(table).order_by(*pk)).mappings():
                    out.write(json.dumps({k: _encode(v) for k, v in row.items()},
                                         ensure_ascii=False) + "\n")
                    n += 1
                    for tname, col in OBJECT_COLUMNS:
                        if tname == table.name and row.get(col):
                            keys.add(row[col])
            counts[table.name] = n
    (cat / TABLES).write_text(json.dumps([t.name for t in tables]), encoding="utf-8")
    objects = dest / OBJECTS
    objects.mkdir()
    copied = reused = 0
    with (dest / FROM_BASE).open("w", encoding="utf-8") as from_base:
        for key in sorted(keys):
            sha = archive.store.stat(key).sha256
            if base_objects.get(key) == sha:
                from_base.write(json.dumps({"key": key, "sha256": sha}) + "\n")
                reused += 1
                continue
            target = objects / key
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.store.open(key) as src, target.open("wb") as out:
                shutil.copyfileobj(src, out, 1 << 20)
            copied += 1
    info = {"Source-Organization": "dangan",
            "External-Description": "dangan archive backup: catalogue snapshot and objects",
            "Dangan-Alembic-Revision": revision or "",
            "Dangan-Created": clock.now().isoformat(),
            "Dangan-Rows": str(sum(counts.values())),
            "Dangan-Objects": str(len(keys)),
            "Dangan-Objects-Copied": str(copied)}
    if since is not None:
        info["Dangan-Base"] = str(Path(since).resolve())
    bagit.make_bag(str(dest), info, checksums=["sha256"])
    return {"path": str(dest), "revision": revision, "rows": counts, "objects": len(keys),
            "copied": copied, "from_base": reused,
            "base": info.get("Dangan-Base")}


# ---------------------------------------------------------------- restore

def _validated(src: Path) -> bagit.Bag:
    try:
        bag = bagit.Bag(str(src))
        bag.validate()
    except bagit.BagValidationError as exc:
        problems = "; ".join(str(d) for d in exc.details[:5]) or str(exc)
        raise InvalidInput(N_("备份包校验失败（内容被改动或不完整），拒绝恢复：%(path)s：%(reason)s"),
                           path=str(src), reason=problems) from exc
    except bagit.BagError as exc:
        raise InvalidInput(N_("不是有效的备份包：%(path)s（%(reason)s）"), path=str(src),
                           reason=str(exc)) from exc
    if "sha256" not in bag.algorithms:
        raise InvalidInput(N_("备份包没有 SHA-256 清单：%(path)s"), path=str(src))
    return bag


def _target_is_empty(engine: Engine) -> bool:
    """No catalogue row at all (the audit chain's head, which migrations create, aside)."""
    with engine.connect() as conn:
        present = set(sa.inspect(conn).get_table_names())
        for name in catalogue_tables():
            if name in present and name != "audit_head" and \
                    conn.execute(sa.text(f'SELECT 1 FROM "{name}" LIMIT 1')).first():
                return False
    return True


def restore(archive: Archive, src: Path, *, base: Path | None = None,
            progress: Any = None) -> dict:
    """Rebuild an archive from a bag into the (empty) catalogue and store of `archive`."""
    src = Path(src)
    bag = _validated(src)
    data = Path(bag.path) / "data"
    revision = bag.info.get("Dangan-Alembic-Revision", "")
    scripts = ScriptDirectory.from_config(alembic_config("sqlite://"))
    try:
        known = bool(revision) and scripts.get_revision(revision) is not None
    except Exception:  # noqa: BLE001 - alembic raises several kinds for an unknown id
        known = False
    if not known:
        raise InvalidInput(N_("备份的数据库版本 %(rev)s 不是本程序认识的版本，请用较新的 dangan 恢复。"),
                           rev=revision or "?")
    base_dir: Path | None = None
    if bag.info.get("Dangan-Base"):
        if base is None:
            raise InvalidInput(N_("这是增量备份，请用 --base 给出它的完整备份：%(base)s"),
                               base=bag.info["Dangan-Base"])
        base_dir = Path(_validated(base).path) / "data"
    archive.settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = archive.engine
    if not _target_is_empty(engine):
        raise Conflict(N_("目标档案库不是空的，拒绝恢复（请恢复到新的数据库和存储）。"))
    from .setup import ensure_secret_key

    ensure_secret_key(archive)
    names = json.loads((data / CATALOGUE / TABLES).read_text(encoding="utf-8"))
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    from alembic import command

    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
        tables = reflect_tables(conn, names)
        missing = set(names) - {t.name for t in tables}
        if missing:
            raise InvalidInput(N_("备份包含数据库版本中没有的表：%(tables)s"),
                               tables=", ".join(sorted(missing)))
        rows = _insert_rows(conn, tables, data / CATALOGUE)
    objects = _put_objects(archive, bag, data, base_dir)
    upgrade(engine)  # a bag from an older revision is carried to the code's newest
    _anchor_restored_chain(archive)
    from .search import reindex

    index = reindex(archive, full=True, progress=progress)
    return {"path": str(src), "revision": revision, "rows": rows, "objects": objects,
            "indexed": index["indexed"]}


def _anchor_restored_chain(archive: Archive) -> None:
    """Anchor the restored audit chain in the new store: the anchors of the archive backed up
    named positions past the snapshot (and live in another store), so the restored chain,
    checked whole first, is anchored at its own head. A chain that does not verify is left
    unanchored and restore refuses, so `dangan check --audit` never blesses a damaged one."""
    from .audit import anchor_chain, audit_problems

    with archive.session() as s:
        report = audit_problems(s)
    if report["bad"] or not report["head_ok"]:
        raise InvalidInput(N_("备份中的审计记录链不完整或被改动（%(count)s 处），拒绝恢复。"),
                           count=len(report["bad"]) + (0 if report["head_ok"] else 1))
    anchor_chain(archive)


def _insert_rows(conn: Connection, tables: list[sa.Table], cat: Path) -> dict[str, int]:
    for table in reversed(tables):  # rows a migration seeded (the audit head) give way
        conn.execute(table.delete())
    counts = {}
    for table in tables:
        decoders = {c.name: _decoder(c) for c in table.columns}
        batch: list[dict] = []
        n = 0
        with (cat / f"{table.name}.jsonl").open(encoding="utf-8") as f:
            for line in f:
                raw = json.loads(line)
                batch.append({k: (decoders[k](v) if v is not None and decoders.get(k) else v)
                              for k, v in raw.items()})
                if len(batch) >= 500:
                    conn.execute(table.insert(), batch)
                    n += len(batch)
                    batch = []
        if batch:
            conn.execute(table.insert(), batch)
            n += len(batch)
        counts[table.name] = n
    if conn.dialect.name == "postgresql":
        _reset_sequences(conn, tables)
    return counts


def _reset_sequences(conn: Connection, tables: list[sa.Table]) -> None:
    """Rows came with their ids: move each id sequence past them."""
    for table in tables:
        for col in table.primary_key.columns:
            seq = conn.execute(sa.text("SELECT pg_get_serial_sequence(:t, :c)"),
                               {"t": table.name, "c": col.name}).scalar()
            if seq:
                conn.execute(sa.text(
                    f'SELECT setval(:s, COALESCE(MAX("{col.name}"), 1), MAX("{col.name}") IS NOT NULL) '
                    f'FROM "{table.name}"'), {"s": seq})


def _put_objects(archive: Archive, bag: bagit.Bag, data: Path, base_dir: Path | None) -> int:
    """Put every object of the bag (and those it leaves in its base) into the store, each
    checked against the SHA-256 the manifest (or the base's manifest) records."""
    wanted = dict(_bag_objects(Path(bag.path)))
    sources = {key: data / OBJECTS / key for key in wanted}
    from_base = data / FROM_BASE
    if from_base.exists() and base_dir is not None:
        base_sums = _bag_objects(base_dir.parent)
        for line in from_base.read_text(encoding="utf-8").splitlines():
            entry = json.loads(line)
            if base_sums.get(entry["key"]) != entry["sha256"]:
                raise InvalidInput(N_("完整备份中缺少增量备份引用的对象：%(key)s"), key=entry["key"])
            wanted[entry["key"]] = entry["sha256"]
            sources[entry["key"]] = base_dir / OBJECTS / entry["key"]
    for key, sha in sorted(wanted.items()):
        with sources[key].open("rb") as f:
            if parse_content_key(key) is not None:
                stored = archive.store.put(f, expected_sha256=sha)
            else:
                stored = archive.store.put(f, key=key, expected_sha256=sha)
        if stored.key != key or stored.sha256 != sha:
            raise InvalidInput(N_("对象恢复后与备份不符：%(key)s"), key=key)
    return len(wanted)
