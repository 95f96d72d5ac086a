"""A partly good item is usable with a problem, and its bad file can be fixed (#8.6).

Pages run in-process (the queue is a list); the scans are text-layer PDFs, so no OCR is
needed and the tests stay fast.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from scanfactory import write_pdf_text_layer, write_truncated_jpeg
from sqlalchemy import select

from service.errors import InvalidInput, PermissionDenied
from service.ingest import IngestRequest, ingest
from service.items import get_item, item_to_json
from service.jobs.pipeline import finalize_item, run_page
from service.models import AuditEntry, Page, StoredFile, User
from service.repairs import file_problems, remove_file, replace_file, retry_file
from service.search import run_search
from service.users import create_user
from tests.queued import QueuedPages

PAGES = [[f"Lease contract page {i}", f"rent clause number {i}00 paid monthly"] for i in range(1, 5)]


@pytest.fixture
def queued(archive) -> QueuedPages:
    return QueuedPages(archive)


def _run(archive, queued: list[int]) -> None:
    while queued:
        run_page(archive, queued.pop(0))


def _user(archive, name: str, role: str) -> User:
    with archive.session() as s:
        create_user(s, name, "password-123", role=role)
    with archive.session() as s:
        u = s.scalar(select(User).where(User.username == name))
        s.expunge(u)
        return u


@pytest.fixture
def partial(archive, queued, tmp_path: Path) -> dict:
    """An item of 4 good pages and one truncated scan, processed."""
    good = write_pdf_text_layer(tmp_path / "lease.pdf", PAGES)
    bad = write_truncated_jpeg(tmp_path / "annex.jpg")
    res = ingest(archive, IngestRequest(files=[good, bad], fonds="J001", category="HT",
                                        year=2024, retention="D30", secrecy="内部",
                                        title="Lease with annex"))
    _run(archive, queued)
    with archive.session() as s:
        bad_id = s.scalar(select(StoredFile.id).where(StoredFile.item_id == res.id,
                                                      StoredFile.original_name == "annex.jpg"))
    return {"id": res.id, "bad": bad_id, "arc": _user(archive, "arc", "archivist")}


def _state(archive, item_id: int) -> dict:
    with archive.session() as s:
        return item_to_json(get_item(s, item_id), with_text=False)


def _audit(archive, action: str) -> list[AuditEntry]:
    with archive.session() as s:
        rows = list(s.scalars(select(AuditEntry).where(AuditEntry.action == action)))
        s.expunge_all()
        return rows


def test_four_good_pages_and_a_bad_file_is_usable_with_a_problem(archive, partial) -> None:
    shown = _state(archive, partial["id"])
    assert shown["status"] == "partial"
    assert [p["status"] for p in shown["pages"]] == ["done"] * 4
    hits = run_search(archive, "rent clause")
    assert partial["id"] in [h["id"] for h in hits["hits"]]  # its pages are searchable
    with archive.session() as s:
        [problem] = file_problems(get_item(s, partial["id"]))
        assert problem.file.original_name == "annex.jpg" and problem.page_reasons == []
        assert str(problem.file_reason).startswith("文件不完整")


def test_only_the_archive_roles_may_fix_files(archive, partial) -> None:
    for name, role in (("staff1", "staff"), ("officer1", "officer"), ("boss", "executive")):
        with pytest.raises(PermissionDenied):
            remove_file(archive, _user(archive, name, role), partial["id"], partial["bad"])
    assert _state(archive, partial["id"])["status"] == "partial"


def test_remove_the_bad_file_recomputes_the_status(archive, partial) -> None:
    remove_file(archive, partial["arc"], partial["id"], partial["bad"])
    shown = _state(archive, partial["id"])
    assert shown["status"] == "ready" and shown["status_reason"] is None
    removed = next(f for f in shown["files"] if f["name"] == "annex.jpg")
    assert removed["role"] == "removed" and archive.store.exists(removed["key"])  # kept
    [entry] = _audit(archive, "file.remove")
    assert entry.actor == "arc" and entry.detail["file"] == "annex.jpg"
    with pytest.raises(Exception):  # noqa: B017 - no longer a bad file of the item
        remove_file(archive, partial["arc"], partial["id"], partial["bad"])


def test_replace_the_bad_file_keeps_the_original(archive, partial, queued, tmp_path) -> None:
    new = write_pdf_text_layer(tmp_path / "annex-rescan.pdf", [["Annex rescanned page one"]])
    queued_n = replace_file(archive, partial["arc"], partial["id"], partial["bad"], new,
                            "annex-rescan.pdf")
    assert queued_n == 1 and _state(archive, partial["id"])["status"] == "processing"
    _run(archive, queued)
    shown = _state(archive, partial["id"])
    assert shown["status"] == "ready"
    assert [p["n"] for p in shown["pages"]] == [1, 2, 3, 4, 5]
    originals = [f["name"] for f in shown["files"] if f["role"] == "original"]
    assert originals == ["lease.pdf", "annex-rescan.pdf"]
    old = next(f for f in shown["files"] if f["name"] == "annex.jpg")
    assert old["role"] == "replaced" and archive.store.exists(old["key"])
    assert partial["id"] in [h["id"] for h in run_search(archive, "rescanned")["hits"]]
    [entry] = _audit(archive, "file.replace")
    assert entry.detail["new_file"] == "annex-rescan.pdf"


def test_unreadable_replacement_is_refused_and_nothing_changes(archive, partial,
                                                               tmp_path) -> None:
    with pytest.raises(InvalidInput) as exc:
        replace_file(archive, partial["arc"], partial["id"], partial["bad"],
                     write_truncated_jpeg(tmp_path / "again.jpg", keep=0.4), "again.jpg")
    assert "again.jpg" in exc.value.message
    assert _state(archive, partial["id"])["status"] == "partial"


def test_retry_reads_the_bad_file_again(archive, partial, queued, tmp_path) -> None:
    assert retry_file(archive, partial["arc"], partial["id"], partial["bad"]) == 0
    assert _state(archive, partial["id"])["status"] == "partial"  # still truncated
    assert len(_audit(archive, "file.retry")) == 1
    # a page that failed for a passing reason is queued again and the status follows
    with archive.session() as s:
        page = s.scalar(select(Page).where(Page.item_id == partial["id"], Page.n == 4))
        page.status, page.error, page.error_code = "failed", "超时。/ Timed out.", "ocr-timeout"
        lease = page.file_id
    finalize_item(archive, partial["id"])
    assert retry_file(archive, partial["arc"], partial["id"], lease) == 1
    _run(archive, queued)
    assert _state(archive, partial["id"])["status"] == "partial"  # annex.jpg still bad
    remove_file(archive, partial["arc"], partial["id"], partial["bad"])
    assert _state(archive, partial["id"])["status"] == "ready"
