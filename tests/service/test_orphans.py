"""`dangan check --orphans [--delete]`: stored objects no row references, and leftovers of
interrupted uploads, on the local store and on S3 over HTTP (#8.20 cleanup path)."""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path

import pytest
from clihelp import INGEST, dangan
from scanfactory import render_page, write_png
from sqlalchemy import select

from service.archive import Archive
from service.checks import check_fixity, check_orphans
from service.ingest import IngestRequest, ingest
from service.jobs.pipeline import finalize_item
from service.models import ArchiveItem, PendingPurge, StoredFile
from service.setup import init_archive
from storage import LocalStore


@pytest.fixture(params=["local", "s3"])
def store_archive(request: pytest.FixtureRequest, archive_env: dict[str, str],
                  monkeypatch: pytest.MonkeyPatch):
    if request.param == "s3":
        endpoint = request.getfixturevalue("moto_endpoint")
        monkeypatch.setenv("DANGAN_STORAGE_URL", f"s3://test-key:test-secret@{endpoint}/"
                                                 f"orphans-{uuid.uuid4().hex[:8]}?secure=false")
    arch = Archive()
    init_archive(arch, admin_password="admin-password")
    yield arch
    from service.db import dispose_all

    dispose_all()


def test_orphans_are_listed_and_deleted_only_past_the_grace_period(store_archive,
                                                                   tmp_path: Path) -> None:
    archive = store_archive
    scan = write_png(tmp_path / "p1.png", render_page(["租赁合同"], size=(600, 400)))
    ingest(archive, IngestRequest(files=[scan], fonds="J001", category="HT", year=2024,
                                  retention="D30", secrecy="内部", title="租赁合同"))
    finalize_item(archive, 1)  # its searchable PDF is referenced too
    referenced = {k.key for k in archive.store.list_keys()}
    lost = archive.store.put_bytes(b"an original whose catalogue transaction never committed")
    stale = archive.store.put_bytes(b"derived of a deleted page", key="derived/999/page-1.webp")

    report = check_orphans(archive)
    assert {o["key"] for o in report["orphans"]} == {lost.key, stale.key}
    assert report["removed"] == 0

    kept = check_orphans(archive, delete=True)  # default grace: an upload may be in progress
    assert kept["removed"] == 0 and all(o["kept"] == "grace" for o in kept["orphans"])
    assert archive.store.exists(lost.key) and archive.store.exists(stale.key)

    if isinstance(archive.store, LocalStore):  # age one of them past the grace period
        old = time.time() - 7200
        os.utime(archive.store.root / stale.key, (old, old))
        aged = check_orphans(archive, delete=True)
        assert [o["key"] for o in aged["orphans"] if o.get("deleted")] == [stale.key]
        assert archive.store.exists(lost.key) and not archive.store.exists(stale.key)

    gone = check_orphans(archive, delete=True, grace=0)
    assert not archive.store.exists(lost.key) and not archive.store.exists(stale.key)
    assert {k.key for k in archive.store.list_keys()} == referenced  # the catalogue's stay
    assert gone["orphans"] == [] or all(o.get("deleted") for o in gone["orphans"])


def test_s3_unfinished_multipart_upload_is_a_leftover(store_archive, moto_endpoint) -> None:
    archive = store_archive
    if isinstance(archive.store, LocalStore):
        (archive.store.root / ".tmp" / "put-crashed.part").write_bytes(b"half")
        expected = {("temp", "put-crashed.part")}
    else:
        from minio import Minio

        raw = Minio(moto_endpoint, "test-key", "test-secret", secure=False)
        raw._create_multipart_upload(archive.store.bucket, "tmp/crashed", {})
        expected = {("multipart", "tmp/crashed")}
    listed = {(x["kind"], x["name"]) for x in check_orphans(archive)["leftovers"]}
    assert listed == expected
    check_orphans(archive, delete=True, grace=0)
    assert check_orphans(archive)["leftovers"] == []


def test_cli_check_orphans(archive_env: dict[str, str], tmp_path: Path) -> None:
    env = archive_env
    dangan(env, "init", "--admin-password", "initial-pass")
    scan = write_png(tmp_path / "p1.png", render_page(["租赁合同"], size=(600, 400)))
    dangan(env, "ingest", str(scan), *INGEST, "--title", "租赁合同")
    store = LocalStore(Path(env["DANGAN_DATA"]) / "objects")
    lost = store.put_bytes(b"orphaned original")
    young = store.put_bytes(b"an upload still in progress")
    old = time.time() - 7200
    os.utime(store.root / lost.key, (old, old))

    proc = dangan(env, "check", "--orphans", "--json", check=False)
    assert proc.returncode == 1  # an old orphan is a problem
    report = json.loads(proc.stdout)["orphans"]
    assert {o["key"] for o in report["orphans"]} == {lost.key, young.key}
    proc = dangan(env, "check", "--orphans", "--delete", "--json", check=False)
    assert proc.returncode == 0, proc.stdout
    assert not store.exists(lost.key) and store.exists(young.key)
    bad = dangan(env, "check", "--delete", check=False)
    assert bad.returncode == 2 and "--orphans" in bad.stderr


def _scan(tmp_path: Path, words: str) -> Path:
    return write_png(tmp_path / f"{words}.png", render_page([words], size=(600, 400)))


def _upload(archive: Archive, scan: Path) -> int:
    return ingest(archive, IngestRequest(files=[scan], fonds="J001", category="HT", year=2024,
                                         retention="D30", secrecy="内部", title="重新上传")).id


def test_an_upload_recorded_between_the_sweeps_listing_and_its_delete_is_kept(
        store_archive, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An orphaned original (an upload whose catalogue transaction never committed) is
    uploaded again while `check --orphans --delete` runs: after the sweep listed it, before
    it deletes it. The object is the new item's now and stays."""
    archive = store_archive
    scan = _scan(tmp_path, "补传合同")
    orphan = archive.store.put_bytes(scan.read_bytes())
    real_list = archive.store.list_keys
    uploaded: list[int] = []

    def listing(prefix: str = ""):
        for info in real_list(prefix):
            if prefix == "" and info.key == orphan.key and not uploaded:
                uploaded.append(_upload(archive, scan))  # stored again and recorded
            yield info

    monkeypatch.setattr(archive.store, "list_keys", listing)
    report = check_orphans(archive, delete=True, grace=0)
    assert uploaded and archive.store.exists(orphan.key)
    assert [o.get("kept") for o in report["orphans"] if o["key"] == orphan.key] == ["recorded"]
    assert check_fixity(archive)["bad"] == []


def test_an_original_stored_again_after_the_listing_is_kept_until_recorded(
        archive, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same race one step earlier: the upload has stored the bytes again (the object's
    time renewed) but not yet committed its row. The listing said the object was two hours
    old; the store, asked again before the delete, says it was written just now."""
    scan = _scan(tmp_path, "补传合同")
    orphan = archive.store.put_bytes(scan.read_bytes())
    old = time.time() - 7200
    os.utime(archive.store.root / orphan.key, (old, old))
    real_list = archive.store.list_keys
    stored: list[str] = []

    def listing(prefix: str = ""):
        for info in real_list(prefix):
            if prefix == "" and info.key == orphan.key and not stored:
                stored.append(archive.store.put(scan.open("rb")).key)  # an upload under way
            yield info

    monkeypatch.setattr(archive.store, "list_keys", listing)
    check_orphans(archive, delete=True)
    assert stored == [orphan.key] and archive.store.exists(orphan.key)


def test_the_purge_keeps_an_original_uploaded_again_while_it_runs(
        store_archive, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A deleted item's original is uploaded again (a new item) while the purge removes the
    deleted item's objects: after it found the object unused, before it deletes it."""
    import service.purge as purge

    archive = store_archive
    scan = _scan(tmp_path, "删除后重传")
    first = _upload(archive, scan)
    with archive.session() as s:
        key = s.scalars(select(StoredFile.key).where(StoredFile.item_id == first)).one()
        purge.tombstone(archive, s, s.get_one(ArchiveItem, first), "deleted", "admin", "登记错误")
    real_used = purge._used_keys
    uploaded: list[int] = []

    def used(session, keys):
        found = real_used(session, keys)
        if not uploaded:
            uploaded.append(_upload(archive, scan))
        return found

    monkeypatch.setattr(purge, "_used_keys", used)
    purge.remove_objects(archive)
    assert uploaded and archive.store.exists(key)
    assert check_fixity(archive)["bad"] == []
    with archive.session() as s:
        assert s.scalars(select(PendingPurge)).all() == []


def test_check_orphans_reports_and_removes_stale_temporaries_as_the_purge_would(
        archive_env: dict[str, str]) -> None:
    """`DATA/tmp` holds batch-import folders, and what a crashed upload or export left: those
    a week untouched are listed (a problem, exit 1) and removed with --delete; the purge
    judges them by the same rule. One written to within the week stays."""
    env = archive_env
    dangan(env, "init", "--admin-password", "initial-pass")
    tmp = Path(env["DANGAN_DATA"]) / "tmp"
    old = time.time() - 8 * 86400
    stale = {"tmp/import-abandoned": tmp / "import-abandoned" / "scans" / "p1.png",
             "tmp/upload-crashed": tmp / "upload-crashed" / "00001.pdf",
             "tmp/export-crashed.xlsx": tmp / "export-crashed.xlsx"}
    for path in stale.values():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"left behind")
        for p in [path, *path.relative_to(tmp).parents]:
            os.utime(tmp / p, (old, old))
    busy = tmp / "import-in-use"
    (busy / "scans").mkdir(parents=True)
    os.utime(busy, (old, old))
    (busy / "scans" / "p2.png").write_bytes(b"uploaded just now")

    proc = dangan(env, "check", "--orphans", "--json", check=False)
    assert proc.returncode == 1, proc.stdout
    listed = json.loads(proc.stdout)["orphans"]["temporaries"]
    assert {t["path"] for t in listed} == set(stale)
    assert all(t["age_seconds"] >= 7 * 86400 for t in listed)
    proc = dangan(env, "check", "--orphans", "--delete", check=False)
    assert proc.returncode == 0, proc.stdout
    assert "过期临时文件" in proc.stdout
    assert sorted(p.name for p in tmp.iterdir()) == ["import-in-use"]
