"""`dangan backup` / `dangan restore` (#14.3): a BagIt bag of the catalogue and its objects,
restored onto SQLite and onto PostgreSQL with every row, object and checksum equal, the
audit chain intact and the search index rebuilt; a tampered bag is refused."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import bagit
import pytest
import sqlalchemy as sa
from clihelp import dangan, dangan_json
from scanfactory import render_page, write_png

from service.archive import Archive
from service.audit import record
from service.backup import OBJECT_COLUMNS, catalogue_tables, reflect_tables
from service.config import Settings
from service.db import dispose_all
from service.ingest import IngestRequest, ingest
from service.jobs.pipeline import run_page
from tests.queued import QueuedPages


def _norm(value):
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    return value


def catalogue_rows(engine: sa.Engine) -> dict[str, list[dict]]:
    with engine.connect() as conn:
        tables = reflect_tables(conn, catalogue_tables())
        return {t.name: [{k: _norm(v) for k, v in row.items()} for row in conn.execute(
            sa.select(t).order_by(*t.primary_key.columns)).mappings()] for t in tables}


def object_keys(rows: dict[str, list[dict]]) -> set[str]:
    return {r[col] for table, col in OBJECT_COLUMNS for r in rows[table] if r[col]}


@pytest.fixture
def source(archive, tmp_path: Path, archive_env):
    """A small archive: two OCR'd items (one page each), a user, an audit entry."""
    queued = QueuedPages(archive)
    for n, words in enumerate((["房屋租赁合同", "甲方 深圳市某某公司"], ["借款协议", "乙方 张三"])):
        scan = write_png(tmp_path / f"p{n}.png", render_page(words, size=(700, 420)))
        ingest(archive, IngestRequest(files=[scan], fonds="J001", category="HT", year=2024,
                                      retention="D30", secrecy="内部", title=words[0]))
    while len(queued):
        assert run_page(archive, queued.pop()) == "done"
    with archive.session() as s:
        record(s, "cli", "item.view", "item:1", {"why": "备份测试"})
    return archive


def _target_env(tmp_path: Path, db_url: str | None) -> dict[str, str]:
    env = {"DANGAN_DATA": str(tmp_path / "restored")}
    if db_url:
        env["DANGAN_DATABASE_URL"] = db_url
    return env


def _round_trip(source: Archive, archive_env: dict, tmp_path: Path,
                target_db: str | None) -> None:
    bag_dir = tmp_path / "bag"
    made = dangan_json(archive_env, "backup", str(bag_dir))
    assert made["objects"] >= 6 and made["copied"] == made["objects"]  # originals, pages, PDFs
    bag = bagit.Bag(str(bag_dir))
    bag.validate()
    assert bag.algorithms == ["sha256"]
    assert bag.info["Dangan-Alembic-Revision"] == made["revision"]
    assert (bag_dir / "data" / "catalogue" / "audit_entry.jsonl").exists()

    target = {**archive_env, **_target_env(tmp_path, target_db)}
    restored = dangan_json(target, "restore", str(bag_dir))
    assert restored["indexed"] == 2

    before = catalogue_rows(source.engine)
    dispose_all()
    target_archive = Archive(_settings(target))
    after = catalogue_rows(target_archive.engine)
    for name in catalogue_tables():
        assert after[name] == before[name], name
    keys = object_keys(before)
    assert keys and len(keys) == made["objects"]
    for key in keys:
        data = target_archive.store.read_bytes(key)
        assert data == source.store.read_bytes(key)
        assert bag.entries[f"data/objects/{key}"]["sha256"] == hashlib.sha256(data).hexdigest()
    files = {r["key"]: r["sha256"] for r in after["stored_file"]}
    assert all(target_archive.store.verify(k, sha) for k, sha in files.items())

    checked = dangan_json(target, "check", "--audit", "--fixity", "--index")  # exit 0: clean
    assert checked["audit"]["bad"] == [] and checked["audit"]["head_ok"]
    assert checked["fixity"]["bad"] == [] and checked["fixity"]["checked"] == len(files)
    for query in ("租赁", "借款", "深圳"):
        was = dangan_json(archive_env, "search", query)
        now = dangan_json(target, "search", query)
        assert now["total"] == was["total"] == 1, query
        assert [h["id"] for h in now["hits"]] == [h["id"] for h in was["hits"]]

    again = dangan(target, "restore", str(bag_dir), check=False)  # never over a live archive
    assert again.returncode == 2 and "不是空的" in again.stderr


def _settings(env: dict[str, str]) -> Settings:
    return Settings.from_env({k: v for k, v in env.items() if k.startswith("DANGAN_")})


@pytest.mark.slow
def test_round_trip_sqlite_to_sqlite(source, archive_env, tmp_path: Path) -> None:
    _round_trip(source, archive_env, tmp_path, None)


@pytest.mark.slow
def test_round_trip_sqlite_to_postgresql(source, archive_env, tmp_path: Path, pg_url: str) -> None:
    _round_trip(source, archive_env, tmp_path, pg_url)


def test_tampered_bag_is_refused_and_nothing_restored(source, archive_env, tmp_path: Path) -> None:
    bag_dir = tmp_path / "bag"
    dangan(archive_env, "backup", str(bag_dir))
    victim = next((bag_dir / "data" / "objects").rglob("*.png"), None) or \
        next(p for p in (bag_dir / "data" / "objects").rglob("*") if p.is_file())
    victim.write_bytes(victim.read_bytes() + b"x")
    target = {**archive_env, **_target_env(tmp_path, None)}
    refused = dangan(target, "restore", str(bag_dir), check=False)
    assert refused.returncode == 2 and "校验失败" in refused.stderr
    assert not (tmp_path / "restored" / "catalogue.sqlite3").exists()
    not_a_bag = dangan(target, "restore", str(tmp_path), check=False)
    assert not_a_bag.returncode == 2 and "不是有效的备份包" in not_a_bag.stderr


def test_incremental_copies_only_new_objects(source, archive_env, tmp_path: Path) -> None:
    full = dangan_json(archive_env, "backup", str(tmp_path / "full"))
    scan = write_png(tmp_path / "p9.png", render_page(["保管协议"], size=(500, 300)))
    ingest(source, IngestRequest(files=[scan], fonds="J001", category="HT", year=2024,
                                 retention="D30", secrecy="内部", title="保管协议"))
    inc = dangan_json(archive_env, "backup", str(tmp_path / "inc"), "--since", str(tmp_path / "full"))
    assert inc["from_base"] == full["objects"] and inc["copied"] == 1  # the new original only
    assert bagit.Bag(str(tmp_path / "inc")).info["Dangan-Base"] == str((tmp_path / "full").resolve())
    target = {**archive_env, **_target_env(tmp_path, None)}
    no_base = dangan(target, "restore", str(tmp_path / "inc"), check=False)
    assert no_base.returncode == 2 and "--base" in no_base.stderr
    done = dangan_json(target, "restore", str(tmp_path / "inc"), "--base", str(tmp_path / "full"))
    assert done["objects"] == inc["objects"]
    before = catalogue_rows(source.engine)
    dispose_all()
    after = catalogue_rows(Archive(_settings(target)).engine)
    assert after["archive_item"] == before["archive_item"]
