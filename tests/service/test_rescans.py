"""Rescan and replace (#11): a discrepancy found at the desk goes to the archivist, whose
rescan replaces those pages only (the old original still stored and verified), re-reads and
re-indexes only them, and sends the item back to the records officer's queue.

Pages run in-process from the archive's real queue; the scans are text-layer PDFs, so the
page pipeline reads them without Tesseract and the test stays fast.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from scanfactory import write_pdf_text_layer
from sqlalchemy import select

from service.crosscheck import CHANGED, Finding, check_queue, record_check, rescan_tasks
from service.errors import Conflict, InvalidInput, PermissionDenied
from service.ingest import IngestRequest, ingest
from service.items import get_item
from service.jobs.pipeline import run_page
from service.models import AuditEntry, Page, Rescan, StoredFile, User
from service.rescans import rescan
from service.search import run_search
from service.users import create_user
from tests.queued import QueuedPages

PAGES = [["Lease contract page one", "alpha clause"], ["Lease contract page two", "bravo clause"],
         ["Lease contract page three", "charlie clause"]]


@pytest.fixture
def queued(archive) -> QueuedPages:
    return QueuedPages(archive)


def _run(archive, queued: QueuedPages) -> list[int]:
    ran = []
    while len(queued):
        pid = queued.pop(0)
        ran.append(pid)
        run_page(archive, pid)
    return ran


def _user(archive, name: str, role: str) -> User:
    with archive.session() as s:
        create_user(s, name, "password-123", role=role)
    with archive.session() as s:
        u = s.scalar(select(User).where(User.username == name))
        s.expunge(u)
        return u


@pytest.fixture
def lease(archive, queued, tmp_path: Path) -> dict:
    path = write_pdf_text_layer(tmp_path / "lease.pdf", PAGES)
    res = ingest(archive, IngestRequest(files=[path], fonds="J001", category="HT", year=2024,
                                        retention="D30", secrecy="内部", title="Lease",
                                        paper_pages=3))
    _run(archive, queued)
    return {"id": res.id, "arc": _user(archive, "arc", "archivist"),
            "officer": _user(archive, "officer", "officer")}


def _hits(archive, q: str) -> list[tuple[int, int]]:
    """(item id, page) of each hit of a search by the operator."""
    return [(h["id"], h["page"]) for h in run_search(archive, q)["hits"]]


def _pages(archive, item_id: int) -> dict[int, tuple]:
    with archive.session() as s:
        return {p.n: (p.id, p.file_id, p.attempts, p.text, p.status)
                for p in get_item(s, item_id).pages}


def test_rescan_replaces_and_rereads_only_its_pages(archive, queued, lease, tmp_path) -> None:
    item_id, arc, officer = lease["id"], lease["arc"], lease["officer"]
    with archive.session() as s:
        record_check(s, officer, item_id, "discrepancy",
                     [Finding("illegible", [2], "第2页模糊")])
    with archive.session() as s:
        assert [t.item.id for t in rescan_tasks(s, arc)] == [item_id]
    before = _pages(archive, item_id)
    assert {n: b[2] for n, b in before.items()} == {1: 1, 2: 1, 3: 1}
    assert "bravo" in before[2][3]
    with archive.session() as s:
        old = s.get(StoredFile, before[2][1])
        old_key, old_sha = old.key, old.sha256
    assert _hits(archive, "bravo")

    new = write_pdf_text_layer(tmp_path / "rescan.pdf",
                               [["Lease contract page two rescanned", "delta clause"]])
    # wrong inputs are refused and store nothing
    for pages, exc, match in (([2, 3], InvalidInput, "1 页"), ([4], InvalidInput, "第 4 页"),
                              ([], InvalidInput, "页码")):
        with pytest.raises(exc, match=match):
            rescan(archive, arc, item_id, new, "rescan.pdf", pages)
    with pytest.raises(PermissionDenied):
        rescan(archive, officer, item_id, new, "rescan.pdf", [2])
    with pytest.raises(Conflict):  # the old original again
        rescan(archive, arc, item_id, Path(archive.store.local_path(old_key)), "again.pdf", [2])
    assert len(queued) == 0

    result = rescan(archive, arc, item_id, new, "rescan.pdf", [2], note="重扫第2页")
    assert result.pages == [2] and result.replaced_file_ids == []  # pages 1, 3 still use it
    assert list(queued) == [before[2][0]]  # only page 2 is queued again
    with pytest.raises(Conflict):  # processing: no second rescan meanwhile
        rescan(archive, arc, item_id, tmp_path / "rescan.pdf", "x.pdf", [1])
    assert _run(archive, queued) == [before[2][0]]

    after = _pages(archive, item_id)
    assert after[1] == before[1] and after[3] == before[3]  # not read again
    assert after[2][0] == before[2][0] and after[2][1] == result.file_id
    assert after[2][2] == 1 and "delta" in after[2][3] and after[2][4] == "done"
    assert _hits(archive, "delta") == [(item_id, 2)]
    assert _hits(archive, "bravo") == []  # the index follows the new page
    assert _hits(archive, "charlie") == [(item_id, 3)]

    with archive.session() as s:
        files = s.scalars(select(StoredFile).where(StoredFile.item_id == item_id,
                                                   StoredFile.role == "original")
                          .order_by(StoredFile.seq)).all()
        assert [f.original_name for f in files] == ["lease.pdf", "rescan.pdf"]
        assert get_item(s, item_id).status == "ready"
        row = s.scalar(select(Rescan).where(Rescan.item_id == item_id))
        assert (row.pages, row.rescanned_by, row.note, row.check_id is not None) == (
            [2], "arc", "重扫第2页", True)
        audit = s.scalar(select(AuditEntry).where(AuditEntry.action == "item.rescan"))
        assert audit.detail["pages"] == [2] and audit.detail["sha256"] == result.sha256
        # back in the officer's queue, off the archivist's list
        assert [(r.item.id, r.reason) for r in check_queue(s, officer)] == [(item_id, CHANGED)]
        assert rescan_tasks(s, arc) == []
        record_check(s, officer, item_id, "agrees")
    with archive.session() as s:
        assert check_queue(s, officer) == []
    # the old original is still stored, unaltered
    assert archive.store.verify(old_key, old_sha)


def test_rescan_of_the_whole_item_keeps_the_old_originals(archive, queued, lease, tmp_path) -> None:
    item_id, arc = lease["id"], lease["arc"]
    before = _pages(archive, item_id)
    with archive.session() as s:
        old = s.get(StoredFile, before[1][1])
        old_id, old_key, old_sha = old.id, old.key, old.sha256
    new = write_pdf_text_layer(tmp_path / "whole.pdf", PAGES + [["Lease annex page four",
                                                                  "echo clause"]])
    result = rescan(archive, arc, item_id, new, "whole.pdf", None)
    assert result.pages == [1, 2, 3, 4] and result.replaced_file_ids == [old_id]
    assert len(queued) == 4
    _run(archive, queued)
    after = _pages(archive, item_id)
    assert sorted(after) == [1, 2, 3, 4]
    assert {a[1] for a in after.values()} == {result.file_id}
    assert "echo" in after[4][3]
    with archive.session() as s:
        assert s.get(StoredFile, old_id).role == "replaced"
        assert s.scalar(select(Page.id).where(Page.file_id == old_id)) is None
    assert archive.store.verify(old_key, old_sha)
    assert _hits(archive, "echo") == [(item_id, 4)]
