"""`dangan backup` / `dangan restore` (#14.3): a BagIt bag of the catalogue and its objects,
restored onto SQLite and onto PostgreSQL with every row, object and checksum equal, the
audit chain intact and the search index rebuilt; a tampered bag is refused."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import bagit
import pytest
from clihelp import dangan, dangan_json
from scanfactory import render_page, write_png
from smallarchive import catalogue_rows, fill, object_keys

from service.archive import Archive
from service.backup_holdings import backup_state, latest_backup
from service.catalogue_copy import catalogue_tables
from service.config import Settings
from service.db import dispose_all
from service.ingest import IngestRequest, ingest


@pytest.fixture
def source(archive, tmp_path: Path, archive_env):
    """A small archive: two OCR'd items (one page each), a user, an audit entry."""
    return fill(archive, tmp_path)


def _target_env(tmp_path: Path, db_url: str | None,
                storage_url: str | None = None) -> dict[str, str]:
    env = {"DANGAN_DATA": str(tmp_path / "restored")}
    if db_url:
        env["DANGAN_DATABASE_URL"] = db_url
    if storage_url:
        env["DANGAN_STORAGE_URL"] = storage_url
    return env


def _round_trip(source: Archive, archive_env: dict, tmp_path: Path,
                target_db: str | None, target_storage: str | None = None) -> None:
    bag_dir = tmp_path / "bag"
    made = dangan_json(archive_env, "backup", str(bag_dir))
    assert made["objects"] >= 6 and made["copied"] == made["objects"]  # originals, pages, PDFs
    bag = bagit.Bag(str(bag_dir))
    bag.validate()
    assert bag.algorithms == ["sha256"]
    assert bag.info["Dangan-Alembic-Revision"] == made["revision"]
    assert (bag_dir / "data" / "catalogue" / "audit_entry.jsonl").exists()

    target = {**archive_env, **_target_env(tmp_path, target_db, target_storage)}
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
    # what the bag held is on record on both sides (the four-property check's security)
    for arch in (source, target_archive):
        with arch.session() as s:
            assert latest_backup(s).path == str(bag_dir.resolve())
            assert {backup_state(s, r["id"]).state for r in before["archive_item"]} == {"held"}

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
@pytest.mark.postgres
def test_round_trip_sqlite_to_postgresql_and_s3(source, archive_env, tmp_path: Path, pg_url: str,
                                                moto_endpoint: str) -> None:
    """The production settings: PostgreSQL, S3 over HTTP (moto), the search index rebuilt
    in the target's own index file."""
    bucket = f"dangan-{uuid.uuid4().hex[:8]}"
    storage = f"s3://test-key:test-secret@{moto_endpoint}/{bucket}?secure=false"
    _round_trip(source, archive_env, tmp_path, pg_url, storage)
    assert (tmp_path / "restored" / "search.sqlite3").exists()
    assert not (tmp_path / "restored" / "objects").exists()  # every object went to S3
    from minio import Minio

    client = Minio(moto_endpoint, access_key="test-key", secret_key="test-secret", secure=False)
    stored = {o.object_name for o in client.list_objects(bucket, recursive=True)}
    assert object_keys(catalogue_rows(source.engine)) <= stored


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


def test_a_store_anchoring_another_archive_is_refused(source, archive_env, tmp_path: Path) -> None:
    """An empty catalogue over a store that already anchors an audit chain: the restored
    chain could never be anchored past those anchors, so `check --audit` would fail for good."""
    bag_dir = tmp_path / "bag"
    dangan(archive_env, "backup", str(bag_dir))
    target = {**archive_env, **_target_env(tmp_path, None)}
    anchor = tmp_path / "restored" / "objects" / "audit" / "anchors" / "00000000000000000042"
    anchor.parent.mkdir(parents=True)
    anchor.write_text('{"id": 42}', encoding="utf-8")
    refused = dangan(target, "restore", str(bag_dir), check=False)
    assert refused.returncode == 2 and "审计锚点" in refused.stderr
    assert sorted(p.name for p in (tmp_path / "restored" / "objects").rglob("*") if p.is_file()) \
        == [anchor.name]  # nothing put beside it
