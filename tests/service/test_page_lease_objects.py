"""A late worker's derived objects never replace the ones the page's new claimant wrote.

A worker stalls after its last renewal and before it stores its page's views, thumbnail and
PDF; meanwhile its lease runs out and another worker claims the page, runs it and settles it.
When the late worker wakes up, its writes must not touch the objects the page's row names,
and what it did write must not stay behind. Two workers interleaved deterministically
(threads and events), on SQLite and PostgreSQL.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from scanfactory import render_page, write_png
from sqlalchemy import select, update

from service import clock
from service.archive import Archive
from service.ingest import IngestRequest, ingest
from service.jobs.pipeline import run_page
from service.models import Page
from tests.queued import QueuedPages


@pytest.fixture
def shared(archive_env: dict[str, str], db_url: str,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[Archive]:
    from service.db import dispose_all
    from service.setup import init_archive

    monkeypatch.setenv("DANGAN_DATABASE_URL", db_url)
    arch = Archive()
    init_archive(arch, admin_password="admin-password")
    # A lease far longer than the test: no heartbeat renews it behind the test's back.
    arch.settings = dataclasses.replace(arch.settings, page_lease=600)
    yield arch
    dispose_all()


def _page(archive: Archive, tmp_path: Path) -> int:
    QueuedPages(archive)
    scan = write_png(tmp_path / "p.png", render_page(["租赁合同 第一条"], size=(600, 400)))
    res = ingest(archive, IngestRequest(files=[scan], fonds="J001", category="HT", year=2024,
                                        retention="D30", secrecy="内部", title="租赁合同"))
    with archive.session() as s:
        return s.scalars(select(Page.id).where(Page.item_id == res.id)).one()


def test_a_late_worker_overwrites_nothing_the_new_claimant_stored(
        shared: Archive, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import indexer.page_processor as processor

    page = _page(shared, tmp_path)
    results: dict[str, Any] = {}
    real_process = processor.process_page

    def process(path: Path, file_page: int, **kw: Any) -> Any:
        out = real_process(path, file_page, **kw)
        results[threading.current_thread().name] = out
        return out

    monkeypatch.setattr(processor, "process_page", process)
    at_store, go_on = threading.Event(), threading.Event()
    real_put = shared.store.put_bytes

    def put_bytes(data: bytes, **kw: Any) -> Any:
        if threading.current_thread().name == "late" and not at_store.is_set():
            at_store.set()  # renewed its claim, about to store: stalls here
            assert go_on.wait(120)
        return real_put(data, **kw)

    monkeypatch.setattr(shared.store, "put_bytes", put_bytes)
    late_outcome: list[str] = []
    late = threading.Thread(target=lambda: late_outcome.append(run_page(shared, page)),
                            name="late")
    late.start()
    assert at_store.wait(120)
    # While it stalls its lease runs out, and the page is turned a quarter (so the two runs'
    # views differ); another worker claims it, runs it and settles it.
    with shared.session() as s:
        s.execute(update(Page).where(Page.id == page).values(
            lease_until=clock.now() - timedelta(seconds=1), turn=90))
    assert run_page(shared, page) == "done"
    with shared.session() as s:
        row = s.get_one(Page, page)
        keys = (row.image_key, row.thumb_key, row.pdf_key)
        assert (row.status, row.attempts, row.turn) == ("done", 2, 90)
    new = results["MainThread"]
    assert shared.store.read_bytes(keys[0]) == new.web_webp

    go_on.set()
    late.join(120)
    assert late_outcome == ["skipped"]  # its result dropped
    assert results["late"].web_webp != new.web_webp  # it read the page unturned
    with shared.session() as s:
        row = s.get_one(Page, page)
        assert (row.image_key, row.thumb_key, row.pdf_key) == keys
    assert shared.store.read_bytes(keys[0]) == new.web_webp
    assert shared.store.read_bytes(keys[1]) == new.thumb_webp
    assert shared.store.read_bytes(keys[2]) == new.pdf
    # and the late worker's own objects are gone: the page's are the row's, nothing else
    stored = {k.key for k in shared.store.list_keys(f"derived/{row.item_id}/page-")}
    assert stored == set(keys)


def test_a_pages_new_run_removes_the_objects_of_the_run_before(shared: Archive,
                                                               tmp_path: Path) -> None:
    """A page run again (a quarter turn resets it, keeping its old results until the new
    ones are stored): the row names the new run's objects, and the old ones are removed."""
    page = _page(shared, tmp_path)
    assert run_page(shared, page) == "done"
    with shared.session() as s:
        row = s.get_one(Page, page)
        first = {row.image_key, row.thumb_key, row.pdf_key}
        row.turn, row.status, row.attempts = 90, "pending", 0
    assert run_page(shared, page) == "done"
    with shared.session() as s:
        row = s.get_one(Page, page)
        second = {row.image_key, row.thumb_key, row.pdf_key}
    assert not first & second
    assert {k.key for k in shared.store.list_keys(f"derived/{row.item_id}/page-")} == second
