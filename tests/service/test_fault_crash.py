"""A crash between storing an original and recording it (#15.5).

Ingest puts the originals into the content-addressed store before the catalogue
transaction. An upload SIGKILLed between the two leaves a stored object that no row
references: nothing is registered (no item, no 档号 used), the object is an orphan kept
through the grace period and swept after it, and the same upload, retried, registers
normally. The window is held open for certain by a real write lock on the catalogue
(another connection's `BEGIN IMMEDIATE`), so the kill never lands before or after it.
"""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import sqlalchemy as sa
from clihelp import INGEST, ROOT, dangan_json
from faulthelp import assert_consistent, catalogue_count, check_report, wait_for
from scanfactory import render_page, write_png

from service.archive import Archive
from service.checks import check_fixity, check_orphans
from service.config import Settings
from service.ingest import IngestRequest, ingest
from service.jobs.pipeline import reconcile, run_page
from service.models import ArchiveItem
from storage import content_key


def _scan(tmp_path: Path) -> Path:
    return write_png(tmp_path / "lease.png",
                     render_page(["房屋租赁合同", "租期自二〇二四年一月一日起"], size=(700, 400)))



def _ingest_killed_once_stored(env: dict[str, str], data: Path, scan: Path,
                               stored: Path) -> None:
    """`dangan ingest` of `scan`, SIGKILLed once its original is at `stored` but before its
    rows commit (another connection holds the catalogue's write lock meanwhile)."""
    blocker = sqlite3.connect(data / "catalogue.sqlite3", isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # the registration's transaction must wait here
    try:
        proc = subprocess.Popen([sys.executable, "-m", "cli", "ingest", str(scan), *INGEST,
                                 "--title", "租赁合同", "--json"], cwd=ROOT,
                                env={**os.environ, **env}, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        wait_for(lambda: stored.exists() or proc.poll() is not None, "the original stored")
        assert proc.poll() is None, proc.communicate()
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert proc.returncode == -signal.SIGKILL


def test_sigkill_after_the_original_is_stored_before_its_row_commits(
        archive_env: dict[str, str], tmp_path: Path) -> None:
    env, data = archive_env, Path(archive_env["DANGAN_DATA"])
    dangan_json(env, "init", "--admin-password", "initial-pass")
    scan = _scan(tmp_path)
    stored = data / "objects" / content_key(hashlib.sha256(scan.read_bytes()).hexdigest())

    _ingest_killed_once_stored(env, data, scan, stored)

    assert stored.exists()  # the original made it, its row did not
    assert catalogue_count(data, "archive_item") == 0
    assert catalogue_count(data, "stored_file") == 0
    assert catalogue_count(data, "archival_code_counter") == 0  # no 档号 used up
    code, report = check_report(env, "--orphans")
    assert code == 0  # young: it may be an upload in progress, so not yet a problem
    assert [o["key"] for o in report["orphans"]["orphans"]] == [str(stored.relative_to(
        data / "objects"))]
    assert report["orphans"]["leftovers"] == []  # the store's temporary was renamed

    res = dangan_json(env, "ingest", str(scan), *INGEST, "--title", "租赁合同")  # retried
    assert res["archival_code"] == "J001-HT·2024-D30-0001" and res["pages"] == 1
    assert check_report(env, "--orphans")[1]["orphans"]["orphans"] == []  # now referenced
    assert_consistent(env)


def test_sigkilled_upload_never_retried_is_swept_after_the_grace(
        archive_env: dict[str, str], tmp_path: Path) -> None:
    """The same crash with nobody retrying: the orphan goes once the grace has passed."""
    env, data = archive_env, Path(archive_env["DANGAN_DATA"])
    dangan_json(env, "init", "--admin-password", "initial-pass")
    scan = _scan(tmp_path)
    stored = data / "objects" / content_key(hashlib.sha256(scan.read_bytes()).hexdigest())
    _ingest_killed_once_stored(env, data, scan, stored)
    old = time.time() - 7200  # an hour past the grace
    os.utime(stored, (old, old), follow_symlinks=False)
    code, report = check_report(env, "--orphans")
    assert code == 1 and len(report["orphans"]["orphans"]) == 1  # now a problem to report
    assert_consistent(env)
    assert not stored.exists()


def test_a_retry_keeps_the_old_original_it_stores_again(archive, tmp_path: Path) -> None:
    """The crashed upload's original is past the grace when the user retries. While the
    retry's row is not yet committed, the orphan sweep runs: it must not delete the object
    the retry is about to reference (the store's put found it already there and kept it)."""
    scan = _scan(tmp_path)
    with open(scan, "rb") as fh:
        first = archive.store.put(fh)  # what the crashed upload left
    old = time.time() - 7200
    os.utime(archive.store.root / first.key, (old, old))

    swept: list[dict] = []
    lock = threading.Lock()

    def sweep_before_the_row(conn, cursor, statement, *_args) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO ARCHIVAL_CODE_COUNTER") \
                and lock.acquire(blocking=False):  # the retry's transaction has begun
            swept.append(check_orphans(archive, delete=True))

    sa.event.listen(archive.engine, "before_cursor_execute", sweep_before_the_row)
    try:
        res = ingest(archive, IngestRequest(files=[scan], fonds="J001", category="HT",
                                            year=2024, retention="D30", secrecy="内部",
                                            title="租赁合同"))
    finally:
        sa.event.remove(archive.engine, "before_cursor_execute", sweep_before_the_row)
    assert swept and swept[0]["removed"] == 0, swept  # young again: kept through the grace
    assert res.pages == 1
    assert check_fixity(archive)["bad"] == []


def test_sigkill_after_the_row_commits_before_its_pages_are_queued(
        archive_env: dict[str, str], tmp_path: Path) -> None:
    """The registration committed, its page tasks never reached the queue (the queue's own
    write lock held them, then the upload was killed). The workers' periodic reconcile, not
    only a worker's restart, queues the pages no task will run, and the item completes."""
    env, data = archive_env, Path(archive_env["DANGAN_DATA"])
    dangan_json(env, "init", "--admin-password", "initial-pass")
    archive = Archive(Settings.from_env(env))
    assert archive.queue.huey.pending_count() == 0  # the queue's file made, as a worker would
    blocker = sqlite3.connect(data / "queue.sqlite3", isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        proc = subprocess.Popen([sys.executable, "-m", "cli", "ingest", str(_scan(tmp_path)),
                                 *INGEST, "--title", "租赁合同"], cwd=ROOT,
                                env={**os.environ, **env}, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        wait_for(lambda: catalogue_count(data, "page") or proc.poll() is not None,
                 "the registration to commit")
        assert proc.poll() is None
        proc.kill()
        proc.wait(30)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert archive.queue.huey.pending_count() == 0  # nothing queued: the pages would wait

    assert reconcile(archive) == 1  # the periodic one (no start-up)
    assert reconcile(archive) == 0  # queued once: a task waiting is not queued again
    (task,) = archive.queue.huey.pending()
    assert run_page(archive, task.args[0]) == "done"
    with archive.session() as s:
        assert s.scalars(sa.select(ArchiveItem.status)).one() == "ready"
    assert_consistent(env)
