"""The catalogue database failing in the middle of the work (#15.5).

PostgreSQL: the backend serving an upload, or a page task, is terminated with
`pg_terminate_backend` from another connection while its transaction runs. To be sure the
termination lands inside that transaction, the test holds a real lock the transaction
needs (the 件号 counter, the page's row) and terminates the backend waiting on it.
SQLite: another connection holds the write lock past the busy timeout. Each ends with the
upload reported failed in Chinese (exit status 5, HTTP 503), nothing half-registered, and
the same upload retried registering normally; `dangan check` clean, no orphan after the
grace. (Connections dropped after the work is committed: tests/web/test_web_failures.py.)
"""

from __future__ import annotations

import contextlib
import io
import os
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from clihelp import INGEST, ROOT, dangan, dangan_json
from faulthelp import (
    a_lease_later,
    assert_consistent,
    catalogue_count,
    check_report,
    wait_for,
)
from scanfactory import render_page, write_pdf_text_layer, write_png, write_truncated_jpeg

from indexer.errors import REASONS
from service.archive import Archive
from service.checks import check_fixity
from service.config import Settings
from service.ingest import IngestRequest, ingest
from service.jobs.pipeline import finalize_item, reconcile, retry_item, run_page
from service.models import ArchiveItem, Page, StoredFile
from service.repairs import remove_file
from service.setup import init_archive
from service.users import create_user
from tests.queued import QueuedPages


def _waiting_backend(pg_admin: sa.Engine, database: str) -> int | None:
    """The backend of `database` that waits on a lock, if one does."""
    with pg_admin.connect() as conn:
        return conn.execute(sa.text(
            "SELECT pid FROM pg_stat_activity WHERE datname = :n AND wait_event_type = 'Lock'"),
            {"n": database}).scalar()


def _terminate(pg_admin: sa.Engine, pid: object) -> None:
    with pg_admin.connect() as conn:
        assert conn.execute(sa.text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar()


@pytest.mark.postgres
def test_upload_whose_backend_is_terminated_mid_transaction(
        archive_env: dict[str, str], pg_url: str, pg_admin: sa.Engine, tmp_path: Path) -> None:
    env = {**archive_env, "DANGAN_DATABASE_URL": pg_url}
    database = sa.make_url(pg_url).database
    assert database
    dangan(env, "init", "--admin-password", "initial-pass")
    scan = write_png(tmp_path / "loan.png", render_page(["借款合同", "借款金额人民币伍拾万元整"],
                                                      size=(700, 400)))
    holder = sa.create_engine(pg_url)
    try:
        with holder.connect() as conn:
            # The registration's first write is the 件号 counter's upsert: it waits here.
            conn.execute(sa.text("LOCK TABLE archival_code_counter IN SHARE ROW EXCLUSIVE MODE"))
            proc = subprocess.Popen([sys.executable, "-m", "cli", "ingest", str(scan), *INGEST,
                                     "--title", "借款合同", "--json"], cwd=ROOT,
                                    env={**os.environ, **env}, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True)
            pid = wait_for(lambda: _waiting_backend(pg_admin, database) or proc.poll(),
                           "the upload's transaction to wait on the counter")
            assert proc.poll() is None, proc.communicate()
            _terminate(pg_admin, pid)
            out, err = proc.communicate(timeout=60)
            conn.rollback()
        with holder.connect() as conn:
            items = conn.execute(sa.text("SELECT count(*) FROM archive_item")).scalar()
            files = conn.execute(sa.text("SELECT count(*) FROM stored_file")).scalar()
    finally:
        holder.dispose()
    assert proc.returncode == 75, (out, err)  # the database was lost: run it again
    assert "数据库暂时无法使用" in err and "重新运行" in err and out == ""
    assert items == 0 and files == 0  # nothing half-registered
    code, report = check_report(env, "--orphans")
    assert code == 0 and len(report["orphans"]["orphans"]) == 1  # the original, in its grace

    res = dangan_json(env, "ingest", str(scan), *INGEST, "--title", "借款合同")
    assert res["archival_code"] == "J001-HT·2024-D30-0001"  # the counter rolled back too
    assert_consistent(env)


@pytest.mark.slow
@pytest.mark.postgres
def test_page_task_whose_backend_is_terminated_while_writing_its_result(
        archive_env: dict[str, str], pg_url: str, pg_admin: sa.Engine, tmp_path: Path) -> None:
    """The worker's connection dies as it records the page's OCR: the attempt is written off
    (the page waits, with its reason, for the queue's retry) and the retry completes it."""
    env = {**archive_env, "DANGAN_DATABASE_URL": pg_url}
    database = sa.make_url(pg_url).database
    assert database
    archive = Archive(Settings.from_env(env))
    init_archive(archive, admin_password="admin-password")
    scan = write_png(tmp_path / "p.png", render_page(
        ["房屋租赁合同", "出租方将位于深圳市的房屋出租给承租方", "租金每月人民币伍仟元整"]))
    res = ingest(archive, IngestRequest(files=[scan], fonds="J001", category="HT", year=2024,
                                        retention="D30", secrecy="内部", title="租赁合同"))
    with archive.session() as s:
        page_id = s.scalars(sa.select(Page.id).where(Page.item_id == res.id)).one()

    raised: list[BaseException] = []

    def task() -> None:
        try:
            run_page(archive, page_id)
        except BaseException as exc:  # noqa: BLE001 - what the queue would see
            raised.append(exc)

    holder = sa.create_engine(pg_url)
    try:
        with holder.connect() as conn:
            worker = threading.Thread(target=task)
            worker.start()
            wait_for(lambda: conn.execute(sa.text("SELECT status FROM page WHERE id = :p"),
                                          {"p": page_id}).scalar() == "running",
                     "the page to be taken")
            conn.commit()
            conn.execute(sa.text("SELECT id FROM page WHERE id = :p FOR UPDATE"), {"p": page_id})
            pid = wait_for(lambda: _waiting_backend(pg_admin, database) or not worker.is_alive(),
                           "the page's result to wait on its row", timeout=120)
            assert worker.is_alive(), "the page finished before its row was locked"
            _terminate(pg_admin, pid)
            conn.rollback()
            worker.join(60)
    finally:
        holder.dispose()
    assert len(raised) == 1 and isinstance(raised[0], sa.exc.OperationalError), raised
    with archive.session() as s:
        page = s.get_one(Page, page_id)
        # written off at once, or held by its claim until the lease runs out
        assert (page.status, page.attempts, page.image_key)[1:] == (1, None)
        assert page.status in ("pending", "running")
    with a_lease_later(archive):
        reconcile(archive)  # the workers' periodic run: queued again
        assert run_page(archive, page_id) == "done"  # the queue's task
    with archive.session() as s:
        assert s.get_one(ArchiveItem, res.id).status == "ready"
    assert_consistent(env)  # its index entry too


def _png_upload(seed: int) -> bytes:
    img = render_page([f"保密协议第{seed}号", "乙方不得向第三方披露"], size=(600, 300))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def test_sqlite_catalogue_locked_past_the_busy_timeout(archive_env: dict[str, str]) -> None:
    """Another process keeps the catalogue's write lock longer than the busy timeout (cut to
    0.3 s here from 60 s; the lock itself is SQLite's own): the upload is refused with a
    503 in Chinese on the API and the web form, nothing registered; retried, it registers."""
    from tests.web.conftest import PW, csrf_token
    from web.app import create_app

    env, data = archive_env, Path(archive_env["DANGAN_DATA"])
    archive = Archive(Settings.from_env(env))
    init_archive(archive, admin_password="admin-password")

    with archive.session() as s:
        create_user(s, "arc", PW, role="archivist")
    app = create_app(archive, {"TESTING": True})
    client = app.test_client()
    client.post("/login", data={"username": "arc", "password": PW,
                                "csrf_token": csrf_token(client)})
    token = csrf_token(client, "/upload")
    fields = {"fonds": "J001", "category": "HT", "year": "2024", "retention": "D30",
              "secrecy": "内部", "title": "保密协议"}

    def short_wait(dbapi_conn, _record) -> None:
        dbapi_conn.execute("PRAGMA busy_timeout = 300")

    sa.event.listen(archive.engine, "connect", short_wait)
    archive.engine.dispose()
    blocker = sqlite3.connect(data / "catalogue.sqlite3", isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        r = client.post("/api/v1/items", data={**fields, "files": [
            (io.BytesIO(_png_upload(1)), "scan.png")]}, headers={"X-CSRFToken": token})
        assert r.status_code == 503 and r.headers["Retry-After"]
        assert r.get_json()["error"] == "数据库暂时不可用，请稍后再试。"
        r = client.post("/upload", data={**fields, "csrf_token": token, "files": [
            (io.BytesIO(_png_upload(1)), "scan.png")]})
        assert r.status_code == 503 and "数据库暂时不可用，请稍后再试。" in r.get_data(as_text=True)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
        sa.event.remove(archive.engine, "connect", short_wait)
        archive.engine.dispose()
    assert catalogue_count(data, "archive_item") == 0
    r = client.post("/api/v1/items", data={**fields, "files": [
        (io.BytesIO(_png_upload(1)), "scan.png")]}, headers={"X-CSRFToken": token})
    assert r.status_code == 201, r.get_data(as_text=True)
    assert r.get_json()["archival_code"] == "J001-HT·2024-D30-0001"
    assert_consistent(env)



@contextlib.contextmanager
def _catalogue_locked_once(archive: Archive, archive_env: dict[str, str], sql: str,
                           params: tuple) -> Iterator[None]:
    """Inside: the archive's connections give up on a lock after 0.3 s, and after the first
    commit of the archive's engine at which `sql` (on another connection) reads true, that
    connection takes the catalogue's write lock and holds it: the step after that commit
    (the item's finalising) meets a catalogue locked past its busy timeout."""
    blocker = sqlite3.connect(Path(archive_env["DANGAN_DATA"]) / "catalogue.sqlite3",
                              isolation_level=None, timeout=30)

    def short_wait(dbapi_conn, _record) -> None:
        dbapi_conn.execute("PRAGMA busy_timeout = 300")

    def lock_once_true(_conn) -> None:
        if blocker.execute(sql, params).fetchone()[0] and not blocker.in_transaction:
            blocker.execute("BEGIN IMMEDIATE")

    sa.event.listen(archive.engine, "connect", short_wait)
    archive.engine.dispose()
    sa.event.listen(archive.engine, "commit", lock_once_true)
    try:
        yield
    finally:
        sa.event.remove(archive.engine, "commit", lock_once_true)
        sa.event.remove(archive.engine, "connect", short_wait)
        if blocker.in_transaction:
            blocker.execute("ROLLBACK")
        blocker.close()
        archive.engine.dispose()


def test_catalogue_locked_as_a_repaired_item_is_finalised(archive, archive_env,
                                                          tmp_path: Path) -> None:
    """A bad file removed from an item, and the catalogue locked (past the busy timeout, cut
    to 0.3 s) as the item's new state is written: the removal stands, and the item is left
    for the reconcile to finish (not 'partial' for a file it no longer has, for good)."""

    queued = QueuedPages(archive)
    good = write_pdf_text_layer(tmp_path / "lease.pdf", [["Lease contract", "rent paid monthly"]])
    bad = write_truncated_jpeg(tmp_path / "annex.jpg")
    res = ingest(archive, IngestRequest(files=[good, bad], fonds="J001", category="HT",
                                        year=2024, retention="D30", secrecy="内部",
                                        title="Lease with annex"))
    while queued:
        run_page(archive, queued.pop(0))
    with archive.session() as s:
        arc = create_user(s, "arc", "password-123", role="archivist")
        s.flush()
        s.expunge(arc)
        assert s.get_one(ArchiveItem, res.id).status == "partial"
        bad_id = s.scalars(sa.select(StoredFile.id).where(
            StoredFile.original_name == "annex.jpg")).one()

    with _catalogue_locked_once(archive, archive_env, "SELECT role = 'removed' FROM stored_file "
                                "WHERE id = ?", (bad_id,)):
        with pytest.raises(sa.exc.OperationalError, match="locked"):
            remove_file(archive, arc, res.id, bad_id)
    with archive.session() as s:
        assert s.get_one(StoredFile, bad_id).role == "removed"  # committed before the fault

    with a_lease_later(archive):
        reconcile(archive)  # the workers' periodic run, once its grace has passed
    with archive.session() as s:
        item = s.get_one(ArchiveItem, res.id)
        assert (item.status, item.status_reason) == ("ready", None)
    assert_consistent(archive_env)


def test_catalogue_locked_as_a_rebuilt_searchable_pdf_is_recorded(archive, archive_env,
                                                                  tmp_path: Path) -> None:
    """A failed page read again changes the item's searchable PDF; the catalogue is locked
    (past the busy timeout, cut to 0.3 s) between storing the new PDF and recording its
    SHA-256. The PDF recorded must still be the one stored under its key: a fixity check
    in between finds nothing (no false alarm of tampering), and the reconcile finishes."""

    queued = QueuedPages(archive)
    scan = write_pdf_text_layer(tmp_path / "lease.pdf", [["Lease contract", "page one"],
                                                         ["Lease contract", "page two"]])
    res = ingest(archive, IngestRequest(files=[scan], fonds="J001", category="HT", year=2024,
                                        retention="D30", secrecy="内部", title="Lease"))
    first, second = queued.pop(0), queued.pop(0)
    run_page(archive, first)
    with archive.session() as s:  # the second page's attempts were used up earlier
        page = s.get_one(Page, second)
        page.status, page.error_code, page.error = "failed", "stalled", REASONS["stalled"]
    finalize_item(archive, res.id)
    assert retry_item(archive, res.id) == {second: 2}
    assert queued.pop(0) == second

    with _catalogue_locked_once(archive, archive_env,
                                "SELECT status = 'done' FROM page WHERE id = ?", (second,)):
        with pytest.raises(sa.exc.OperationalError, match="locked"):
            run_page(archive, second)
    assert check_fixity(archive)["bad"] == []

    with a_lease_later(archive):
        reconcile(archive)  # the workers' periodic run, once its grace has passed
    with archive.session() as s:
        item = s.get_one(ArchiveItem, res.id)
        pdf = s.scalars(sa.select(StoredFile).where(StoredFile.item_id == res.id,
                                                    StoredFile.role == "searchable_pdf")).one()
        assert (item.status, pdf.page_count) == ("ready", 2)
    assert_consistent(archive_env)
