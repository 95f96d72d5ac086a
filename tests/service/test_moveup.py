"""`dangan migrate --to ENVFILE` (#14.4): an embedded archive moved onto PostgreSQL and S3
(moto's server over HTTP) with every row, object and checksum equal, the search index
rebuilt, the audit chain verifying there, the source's files unchanged byte for byte; an
interrupted run (during the rows, then during the objects) resumed ends complete with
nothing copied twice; a target holding another archive is refused."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from clihelp import dangan, dangan_json
from smallarchive import catalogue_rows, fill, object_keys

from cli.backup_cmds import _migrate_report
from service.archive import Archive
from service.audit_actions import AuditAction
from service.audit_anchor import flush_anchors
from service.catalogue_copy import catalogue_tables
from service.config import Settings
from service.db import dispose_all
from service.errors import BadSetting, Conflict, InvalidInput
from service.moveup import migrate_archive
from service.search import run_search
from service.setup import init_archive


@pytest.fixture
def source(archive, tmp_path: Path, archive_env):
    """The embedded archive to move: two items read from real scans, a user, audit entries."""
    return fill(archive, tmp_path)


class Interrupted(Exception):
    """What the test's checkpoint raises to cut a run short, as a crash would."""


def _files(root: Path) -> dict[str, str]:
    """Every file under the source's data directory and its SHA-256."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _write_env(path: Path, values: dict[str, str]) -> Path:
    path.write_text("# the production settings (test)\n" +
                    "".join(f"{k}={v}\n" for k, v in values.items()), encoding="utf-8")
    return path


def _stop_after(phase: str, n: int):
    def checkpoint(what: str, done: int) -> None:
        if what == phase and done >= n:
            raise Interrupted(f"{phase} {done}")
    return checkpoint


def _count(engine: sa.Engine, table: str) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text(f'SELECT COUNT(*) FROM "{table}"')).scalar()


@pytest.mark.slow
@pytest.mark.postgres
def test_migrate_to_postgresql_and_s3_resumes_and_leaves_the_source_untouched(
        source, archive_env: dict[str, str], tmp_path: Path, pg_url: str,
        moto_endpoint: str) -> None:
    src_dir = Path(archive_env["DANGAN_DATA"])
    phrases = ("租赁", "借款", "深圳")
    found = {q: run_search(source, q) for q in phrases}  # audited: before the hashes are taken
    assert flush_anchors()  # the searches' anchor written by its thread
    dispose_all()  # the fixture's connections closed, as a stopped archive's are
    before_files = _files(src_dir)
    before = catalogue_rows(source.engine)
    dispose_all()
    assert _files(src_dir) == before_files  # reading as the tests do changes nothing either
    target_env = {"DANGAN_DATA": str(tmp_path / "production"),
                  "DANGAN_DATABASE_URL": pg_url,
                  "DANGAN_STORAGE_URL": f"s3://test-key:test-secret@{moto_endpoint}/"
                                        f"dangan-{uuid.uuid4().hex[:8]}?secure=false"}
    envfile = _write_env(tmp_path / "production.env", target_env)
    target = Settings.from_file(envfile)
    total_rows = sum(len(rows) for rows in before.values())
    keys = object_keys(before)

    # Cut short during the rows (batches of 3), then during the objects.
    with pytest.raises(Interrupted):
        migrate_archive(source.settings, target, checkpoint=_stop_after("rows", 9), batch=3)
    dst = Archive(target)
    assert 9 <= sum(_count(dst.engine, t) for t in catalogue_tables()) < total_rows
    with pytest.raises(Interrupted):
        migrate_archive(source.settings, target, checkpoint=_stop_after("objects", 2), batch=3)
    assert sum(1 for k in keys if dst.store.exists(k)) == 2

    done = dangan_json(archive_env, "migrate", "--to", str(envfile))
    assert done["complete"] and done["differ"] == [] and done["problems"] == []
    assert done["rows_inserted"] == 0 and done["rows_updated"] == 0  # the rows were all there
    assert done["objects_present"] == 2 and done["objects_copied"] == len(keys) - 2
    assert done["verified"] == len(keys)
    assert done["target"]["database"].startswith("postgresql") and "test-secret" not in str(done)
    counts = done["counts"]
    assert counts["items"] == {"source": 2, "target": 2}
    assert counts["objects"] == {"source": len(keys), "target": len(keys)}
    assert counts["bytes"]["source"] == counts["bytes"]["target"] > 0
    assert counts["audit_entries"]["source"] == counts["audit_entries"]["target"] >= 3
    shown = _migrate_report(done).splitlines()  # what the operator reads without --json
    assert any(line.startswith("档案 items") and line.split()[-2:] == ["2", "2"] for line in shown)
    assert "不一致 differ: 无 none" in shown and shown[-1].startswith("完成 complete")

    dispose_all()
    after = catalogue_rows(dst.engine)
    migrated = [r for r in after["audit_entry"] if r["action"] == AuditAction.ARCHIVE_MIGRATE]
    assert [r["id"] for r in migrated] == [done["audit_entry"]]
    assert migrated[0]["detail"]["counts"]["items"] == 2
    for name in catalogue_tables():  # every row equal, none twice (primary keys), none lost
        if name == "audit_head":
            continue
        rows = [r for r in after[name] if r not in migrated]
        assert rows == before[name], name
    for key in keys:
        assert dst.store.read_bytes(key) == source.store.read_bytes(key)
    for f in after["stored_file"]:
        assert dst.store.verify(f["key"], f["sha256"])

    prod = {**archive_env, **target_env}
    checked = dangan_json(prod, "check", "--audit", "--fixity", "--index")  # exit 0: clean
    assert checked["audit"]["bad"] == [] and checked["audit"]["head_ok"]
    assert checked["fixity"]["bad"] == [] and checked["fixity"]["checked"] == len(after["stored_file"])
    for query, was in found.items():
        now = dangan_json(prod, "search", query)
        assert now["total"] == was["total"] == 1, query
        assert [(h["id"], h["page"]) for h in now["hits"]] == [(h["id"], h["page"]) for h in was["hits"]]
    with dst.engine.connect() as conn:  # ids go on past the copied ones
        assert conn.execute(sa.text("SELECT nextval(pg_get_serial_sequence('audit_entry', 'id'))"
                                    )).scalar() > done["audit_entry"]

    again = dangan_json(archive_env, "migrate", "--to", str(envfile))  # nothing left to do
    assert again["complete"] and again["audit_entry"] == done["audit_entry"]
    assert again["objects_copied"] == again["rows_inserted"] == 0
    # … and the report says what moved on since: the target's own searches and check, audited
    assert set(again["differ"]) == {"audit_entries", "table:audit_entry"}
    entries = again["counts"]["audit_entries"]
    assert entries["target"] > entries["source"] == counts["audit_entries"]["source"]
    dispose_all()
    assert _files(src_dir) == before_files  # the source, byte for byte


@pytest.mark.postgres
def test_migrate_refuses_a_target_holding_another_archive(archive, archive_env: dict[str, str],
                                                          tmp_path: Path, pg_url: str) -> None:
    other = {"DANGAN_DATA": str(tmp_path / "other"), "DANGAN_DATABASE_URL": pg_url,
             "DANGAN_STORAGE_URL": str(tmp_path / "other-objects")}
    init_archive(Archive(Settings.from_env(other)), admin_password="other-password")
    with sa.create_engine(pg_url).connect() as conn:
        rows_before = conn.execute(sa.text("SELECT COUNT(*) FROM app_user")).scalar()
    envfile = _write_env(tmp_path / "other.env", other)
    refused = dangan(archive_env, "migrate", "--to", str(envfile), check=False)
    assert refused.returncode == 2, refused.stderr
    assert "另一个档案库" in refused.stderr and "新的空数据库" in refused.stderr
    with sa.create_engine(pg_url).connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM app_user")).scalar() == rows_before

    used_bucket = Settings.from_env({**other, "DANGAN_DATA": str(tmp_path / "fresh"),
                                     "DANGAN_DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.sqlite3'}"})
    assert any(Archive(used_bucket).store.list_keys("audit/anchors/"))
    with pytest.raises(Conflict, match="审计锚点"):  # an empty catalogue, another's store
        migrate_archive(archive.settings, used_bucket)

    incomplete = _write_env(tmp_path / "partial.env", {"DANGAN_DATABASE_URL": pg_url})
    with pytest.raises(BadSetting, match="DANGAN_STORAGE_URL"):
        Settings.from_file(incomplete)
    same = Settings.from_file(_write_env(tmp_path / "same.env", {
        **other, "DANGAN_DATA": archive_env["DANGAN_DATA"]}))
    with pytest.raises(InvalidInput, match="数据目录"):
        migrate_archive(archive.settings, same)
