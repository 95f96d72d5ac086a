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

import json
import shutil
from pathlib import Path
from typing import Any

import bagit
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

from . import clock
from .archive import Archive
from .audit_anchor import PREFIX as ANCHOR_PREFIX
from .backup_holdings import item_digests, record_backup
from .catalogue_copy import (
    OBJECT_COLUMNS,
    anchor_copied_chain,
    catalogue_is_empty,
    catalogue_tables,
    clear_seeded,
    column_decoder,
    current_revision,
    decode_row,
    encode_value,
    holds_audit_anchors,
    put_checked,
    read_snapshot,
    reflect_tables,
    reset_sequences,
)
from .errors import N_, Conflict, InvalidInput
from .migrate import alembic_config, upgrade

CATALOGUE = "catalogue"
OBJECTS = "objects"
#: Objects an incremental bag leaves in its base bag: one {"key", "sha256"} per line.
FROM_BASE = "objects-in-base.jsonl"
TABLES = "tables.json"


# ---------------------------------------------------------------- backup

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
    with read_snapshot(archive.engine) as conn:
        revision = current_revision(conn)
        tables = reflect_tables(conn, names)
        for table in tables:
            n = 0
            with (cat / f"{table.name}.jsonl").open("w", encoding="utf-8") as out:
                pk = list(table.primary_key.columns) or list(table.columns)
                for row in conn.execute(sa.select(table).order_by(*pk)).mappings():
                    out.write(json.dumps({k: encode_value(v) for k, v in row.items()},
                                         ensure_ascii=False) + "\n")
                    n += 1
                    for tname, col in OBJECT_COLUMNS:
                        if tname == table.name and row.get(col):
                            keys.add(row[col])
            counts[table.name] = n
        digests = item_digests(conn)  # what this backup holds, for the four-property check
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
    with archive.session() as s:
        record_backup(s, path=str(dest.resolve()), base=info.get("Dangan-Base"),
                      revision=revision, objects=len(keys), digests=digests)
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
    if not catalogue_is_empty(engine):
        raise Conflict(N_("目标档案库不是空的，拒绝恢复（请恢复到新的数据库和存储）。"))
    if holds_audit_anchors(archive.store):
        raise Conflict(N_("目标存储中已有另一个档案库的审计锚点（%(prefix)s），拒绝恢复。"
                          "请恢复到一个空的存储（新的存储桶或目录）。"), prefix=ANCHOR_PREFIX)
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
    anchor_copied_chain(archive, N_("备份中的审计记录链不完整或被改动（%(count)s 处），拒绝恢复。"))
    with archive.session() as s:  # the restored archive is held by the bag it came from
        record_backup(s, path=str(src.resolve()), base=bag.info.get("Dangan-Base"),
                      revision=revision, objects=objects,
                      digests=item_digests(s.connection()))
    from .search import reindex

    index = reindex(archive, full=True, progress=progress)
    return {"path": str(src), "revision": revision, "rows": rows, "objects": objects,
            "indexed": index["indexed"]}


def _insert_rows(conn: Connection, tables: list[sa.Table], cat: Path) -> dict[str, int]:
    clear_seeded(conn, tables)  # rows a migration seeded (the audit head) give way
    counts = {}
    for table in tables:
        decoders = {c.name: column_decoder(c) for c in table.columns}
        batch: list[dict] = []
        n = 0
        with (cat / f"{table.name}.jsonl").open(encoding="utf-8") as f:
            for line in f:
                raw = json.loads(line)
                batch.append(decode_row(raw, decoders))
                if len(batch) >= 500:
                    conn.execute(table.insert(), batch)
                    n += len(batch)
                    batch = []
        if batch:
            conn.execute(table.insert(), batch)
            n += len(batch)
        counts[table.name] = n
    reset_sequences(conn, tables)
    return counts


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
            put_checked(archive.store, f, key, sha)
    return len(wanted)
