"""A page is claimed by one worker, held by a lease, and its item finalised once (#14.5).

On SQLite and on PostgreSQL (READ COMMITTED, where a read-then-write claim lets two workers
take one page). Concurrent workers are threads with sessions of their own, released
together by a barrier; the claims and writes are the ones the page tasks make.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from scanfactory import render_page, write_png, write_tiff
from sqlalchemy import func, select

from service import clock
from service.archive import Archive
from service.ingest import IngestRequest, ingest
from service.jobs import lease
from service.jobs.periodic import claim_period
from service.jobs.pipeline import reconcile, run_page
from service.models import ArchiveItem, Page, StoredFile
from tests.queued import QueuedPages

RACERS = 6


@pytest.fixture
def shared(archive_env: dict[str, str], db_url: str,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[Archive]:
    """An archive whose catalogue is SQLite or PostgreSQL, as several workers share it."""
    from service.db import dispose_all
    from service.setup import init_archive

    monkeypatch.setenv("DANGAN_DATABASE_URL", db_url)
    monkeypatch.setenv("DANGAN_PAGE_LEASE", "30")
    arch = Archive()
    init_archive(arch, admin_password="admin-password")
    yield arch
    dispose_all()


def _item(archive: Archive, tmp_path: Path, pages: int) -> list[int]:
    """Register an item of `pages` scanned pages; returns its page ids (none run yet)."""
    QueuedPages(archive)  # an empty queue of our own
    images = [render_page([f"租赁合同 第{i}条"], size=(500, 300)) for i in range(1, pages + 1)]
    scan = (write_tiff(tmp_path / "vol.tif", images) if pages > 1
            else write_png(tmp_path / "p.png", images[0]))
    res = ingest(archive, IngestRequest(files=[scan], fonds="J001", category="HT", year=2024,
                                        retention="D30", secrecy="内部", title="租赁合同"))
    with archive.session() as s:
        return list(s.scalars(select(Page.id).where(Page.item_id == res.id).order_by(Page.n)))


def _race(fn: Callable[[int], Any], n: int = RACERS) -> list[Any]:
    """Run fn(0..n-1) in n threads released at once; their results in order."""
    gate = threading.Barrier(n)
    out: list[Any] = [None] * n
    errors: list[BaseException] = []

    def run(i: int) -> None:
        gate.wait()
        try:
            out[i] = fn(i)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    return out


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The pages read by the engine (each call of the page processor), in order."""
    import indexer.page_processor as processor

    done: list[int] = []
    real = processor.process_page

    def counted(path: Path, file_page: int, **kw: Any) -> Any:
        done.append(file_page)
        return real(path, file_page, **kw)

    monkeypatch.setattr(processor, "process_page", counted)
    return done


def test_concurrent_tasks_of_one_page_run_it_once(shared: Archive, tmp_path: Path,
                                                  runs: list[int]) -> None:
    """The queue handed one page to several workers at once (duplicate tasks): the engine
    reads it once; before the claim was a compare-and-set it read it five times of six."""
    [page] = _item(shared, tmp_path, 1)
    results = _race(lambda _: run_page(shared, page))
    assert sorted(results) == ["done"] + ["skipped"] * (RACERS - 1)
    assert runs == [1]
    with shared.session() as s:
        row = s.get_one(Page, page)
        assert (row.status, row.attempts) == ("done", 1)


def test_concurrent_claims_of_one_page_let_exactly_one_worker_take_it(
        shared: Archive, tmp_path: Path) -> None:
    [page] = _item(shared, tmp_path, 1)
    claims = _race(lambda _: lease.claim(shared, page))
    taken = [c for c in claims if c is not None]
    assert len(taken) == 1, claims
    with shared.session() as s:
        row = s.get_one(Page, page)
        assert (row.status, row.attempts, row.worker) == ("running", 1, taken[0].worker)
    # A duplicate task of the same page, later: skipped while the claim's lease holds.
    assert run_page(shared, page) == "skipped"
    with shared.session() as s:
        assert s.get_one(Page, page).attempts == 1


def test_the_last_pages_of_an_item_finishing_together_finalise_it_once(
        shared: Archive, tmp_path: Path, runs: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    """Every page of an item finishes reading at the same instant, in as many workers."""
    import indexer.page_processor as processor
    from service.jobs import pipeline

    pages = _item(shared, tmp_path, RACERS)
    together = threading.Barrier(RACERS)
    counted = processor.process_page

    def read_then_wait(path: Path, file_page: int, **kw: Any) -> Any:
        result = counted(path, file_page, **kw)
        together.wait(60)
        return result

    finalised: list[int] = []
    finalize = pipeline.finalize_item
    monkeypatch.setattr(processor, "process_page", read_then_wait)
    monkeypatch.setattr(pipeline, "finalize_item",
                        lambda archive, item_id: (finalised.append(item_id),
                                                  finalize(archive, item_id))[1])
    assert _race(lambda i: run_page(shared, pages[i])) == ["done"] * RACERS
    with shared.session() as s:
        item_id = s.get_one(Page, pages[0]).item_id
        assert s.get_one(ArchiveItem, item_id).status == "ready"
    assert finalised == [item_id]


def test_a_dead_workers_page_is_queued_again_when_its_lease_runs_out_and_its_late_result_dropped(
        shared: Archive, tmp_path: Path) -> None:
    """A worker on another machine (no process here to look up) claims a page and is lost:
    the page waits for the lease, then the reconcile queues it again and another worker
    runs it; the lost worker's write, should it come back, changes nothing."""
    [page] = _item(shared, tmp_path, 1)
    queued = QueuedPages(shared)
    start = clock.now()
    with clock.use_clock(lambda: start):
        c = lease.claim(shared, page)
    assert c is not None
    with shared.session() as s:  # as if claimed on another host
        s.get_one(Page, page).worker = "elsewhere:4242"
    lost = lease.Claim(**{**c.__dict__, "worker": "elsewhere:4242"})

    with clock.use_clock(lambda: start + timedelta(seconds=29)):
        assert reconcile(shared) == 0 and list(queued) == []
        assert lease.claim(shared, page) is None  # still held
    with clock.use_clock(lambda: start + timedelta(seconds=31)):
        assert reconcile(shared) == 1
    assert list(queued) == [page]
    with shared.session() as s:
        assert s.get_one(Page, page).status == "pending"

    assert run_page(shared, queued.pop(0)) == "done"
    assert lease.settle(shared, lost, {"text": "迟到的结果"}) is None
    with shared.session() as s:
        row = s.get_one(Page, page)
        assert row.status == "done" and row.attempts == 2 and "租赁合同" in row.text
        assert s.get_one(ArchiveItem, row.item_id).status == "ready"


def test_the_heartbeat_keeps_a_long_page_from_being_taken(
        shared: Archive, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A page running longer than its lease is renewed by its heartbeat; once the claim is
    gone (here: reset by hand, as a rescan does), the heartbeat says it was lost."""
    import dataclasses

    [page] = _item(shared, tmp_path, 1)
    shared.settings = dataclasses.replace(shared.settings, page_lease=0.4)
    c = lease.claim(shared, page)
    assert c is not None
    with lease.Heartbeat(shared, c) as beat:
        threading.Event().wait(1.5)  # nearly four leases
        assert lease.claim(shared, page) is None and reconcile(shared) == 0
        assert not beat.lost.is_set()
        with shared.session() as s:
            s.get_one(Page, page).attempts = 0  # the claim is gone
        threading.Event().wait(0.5)
        assert beat.lost.is_set()


def test_the_last_two_pages_finishing_together_finalise_their_item_once(
        shared: Archive, tmp_path: Path) -> None:
    pages = _item(shared, tmp_path, RACERS)
    claims = [lease.claim(shared, p) for p in pages]
    assert all(claims)
    last = _race(lambda i: lease.settle(shared, claims[i], {"status": "done"}))
    assert sorted(last) == [False] * (RACERS - 1) + [True]


def test_two_finalisers_of_one_item_leave_one_searchable_pdf(shared: Archive, tmp_path: Path) -> None:
    from service.jobs.pipeline import finalize_item

    pages = _item(shared, tmp_path, 2)
    for p in pages:
        assert run_page(shared, p) == "done"
    with shared.session() as s:
        item_id = s.get_one(Page, pages[0]).item_id
        s.execute(StoredFile.__table__.delete().where(StoredFile.item_id == item_id,
                                                      StoredFile.role == "searchable_pdf"))
        s.get_one(ArchiveItem, item_id).status = "processing"
    _race(lambda _: finalize_item(shared, item_id), n=3)
    with shared.session() as s:
        assert s.scalar(select(func.count()).select_from(StoredFile).where(
            StoredFile.item_id == item_id, StoredFile.role == "searchable_pdf")) == 1
        assert s.get_one(ArchiveItem, item_id).status == "ready"


def test_a_periodic_job_runs_once_per_period_however_many_workers_ask(shared: Archive) -> None:
    start = clock.now().replace(microsecond=0)
    for k in range(3):
        at = start + timedelta(seconds=60 * k)
        with clock.use_clock(lambda at=at: at):
            ran = _race(lambda _: claim_period(shared, "reconcile", 60))
        assert ran.count(True) == 1, (k, ran)
    with clock.use_clock(lambda: start + timedelta(seconds=120)):
        assert not claim_period(shared, "reconcile", 60)  # the same period again
        assert claim_period(shared, "purge", 3600)  # each job has periods of its own


def test_a_pending_page_whose_task_was_lost_is_queued_again(shared: Archive, tmp_path: Path) -> None:
    """A worker died between taking a page's task off the queue and claiming the page: the
    page is 'pending' with no task anywhere. The periodic reconcile queues it again (once:
    a page already queued is not queued twice)."""
    pages = _item(shared, tmp_path, 2)
    huey = shared.queue.huey

    def queued() -> list[int]:
        return sorted(task.args[0] for task in huey.pending())

    assert queued() == pages
    assert reconcile(shared) == 0 and queued() == pages
    lost = huey.dequeue().args[0]  # taken off the queue by a worker that then died
    assert reconcile(shared) == 1 and queued() == pages
    assert reconcile(shared) == 0 and queued() == pages
    assert run_page(shared, lost) == "done"


@pytest.mark.parametrize("old", ["{host}:{pid}", "{host}:{pid}:0badc0de"])
def test_a_restarted_worker_with_the_old_ones_host_and_pid_does_not_take_its_claim_for_live(
        shared: Archive, tmp_path: Path, old: str) -> None:
    """A worker restarted in a container gets the same host name and often the same pid as the
    one before it: a claim that process left (its lease not yet run out) is not this one's,
    and the process it names is gone, so the page is taken at once, not after the lease."""
    import os
    import socket

    [page] = _item(shared, tmp_path, 1)
    queued = QueuedPages(shared)
    assert lease.claim(shared, page) is not None
    assert lease.claim(shared, page) is None  # this process's own live claim holds
    with shared.session() as s:  # the same page as the process before this one left it
        s.get_one(Page, page).worker = old.format(host=socket.gethostname(), pid=os.getpid())
    assert reconcile(shared) == 1 and list(queued) == [page]
    assert run_page(shared, queued.pop(0)) == "done"
