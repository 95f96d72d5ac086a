"""Page and file failures: a state at once, and reasons users can read (#8.7, #8.20).

The page task runs in-process here (the queue is replaced by a list), so each failed
attempt can be inspected between the queue's retries.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from scanfactory import render_page, write_png, write_truncated_jpeg

import indexer.page_processor
from indexer.errors import REASONS, EngineFailure, IngestError, classify
from indexer.messages import Message
from service.ingest import IngestRequest, ingest
from service.jobs.pipeline import MAX_ATTEMPTS, run_page
from service.models import Page, StoredFile
from tests.queued import QueuedPages
from web.i18n import bilingual, render

RAW = "image file is truncated (20 bytes not processed)"


@pytest.fixture
def queued(archive) -> QueuedPages:
    return QueuedPages(archive)


def _request(files: list[Path], title: str = "租赁合同") -> IngestRequest:
    return IngestRequest(files=files, fonds="J001", category="HT", year=2024, retention="D30",
                         secrecy="内部", title=title)


def _bilingual(reason: Message) -> None:
    zh, sep, en = bilingual(reason).partition("/ ")
    assert sep and any("\u4e00" <= ch <= "\u9fff" for ch in zh) and en.isascii(), reason


@pytest.mark.parametrize("exc, code", [
    (OSError(RAW), "truncated"),
    (SyntaxError("broken PNG file"), "corrupt-image"),
    (OSError("decoder error -2"), "corrupt-image"),
    (subprocess.TimeoutExpired(["tesseract"], 180), "ocr-timeout"),
    (type("TesseractFailed", (EngineFailure,), {"code": "ocr-failed"})("tesseract failed (1)"),
     "ocr-failed"),
    (MemoryError(), "out-of-memory"),
    (KeyError("page_image"), "internal"),
])
def test_known_failures_map_to_coded_localised_reasons(exc: BaseException, code: str) -> None:
    failure = classify(exc)
    assert failure.code == code and failure.reason == REASONS[code]
    _bilingual(failure.reason)
    assert type(exc).__name__ not in bilingual(failure.reason)
    assert type(exc).__name__ in (failure.detail or "")


def test_pdf_render_error_is_a_coded_reason() -> None:
    import pypdfium2 as pdfium

    failure = classify(pdfium.PdfiumError("Failed to load page."))
    assert failure.code == "render-failed" and "Failed to load" not in bilingual(failure.reason)


def test_truncated_file_reason_has_no_exception_text(archive, queued, tmp_path: Path) -> None:
    good = write_png(tmp_path / "p1.png", render_page(["租赁合同"], size=(600, 400)))
    bad = write_truncated_jpeg(tmp_path / "p2.jpg")
    res = ingest(archive, _request([good, bad]))
    with archive.session() as s:
        f = s.query(StoredFile).filter_by(item_id=res.id, original_name="p2.jpg").one()
        assert f.status == "failed" and f.error_code == "truncated"
        assert f.error_reason == REASONS["truncated"]
        assert "Error" not in bilingual(f.error_reason)
        assert "truncated (" not in bilingual(f.error_reason)
        assert f.error_detail and "Error" in f.error_detail  # kept for the administrator
    assert all("Error" not in bilingual(ff["reason"]) for ff in res.failed_files)


def test_page_task_that_raises_is_pending_at_once_then_failed_after_last_retry(
        archive, queued, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scan = write_png(tmp_path / "p1.png", render_page(["租赁合同"], size=(600, 400)))
    res = ingest(archive, _request([scan]))
    [page_id] = queued

    def boom(*_a, **_k):
        raise OSError(RAW)

    monkeypatch.setattr(indexer.page_processor, "process_page", boom)
    for attempt in range(1, MAX_ATTEMPTS):
        with pytest.raises(OSError):  # raised again so that the queue retries with back-off
            run_page(archive, page_id)
        with archive.session() as s:
            page = s.get(Page, page_id)
            # not left 'running': the queue's next retry really runs it again
            assert (page.status, page.attempts, page.error_code) == ("pending", attempt,
                                                                      "truncated")
            assert page.error == REASONS["truncated"] and RAW in page.error_detail
            assert page.item.status == "processing"
    assert run_page(archive, page_id) == "failed"  # the last attempt fails it for good
    with archive.session() as s:
        page = s.get(Page, page_id)
        assert page.status == "failed" and page.attempts == MAX_ATTEMPTS
        assert page.error == REASONS["truncated"] and "OSError" not in bilingual(page.error)
        assert page.item.status != "processing"
        assert "OSError" not in bilingual(page.item.status_reason)
        assert all(render(REASONS["truncated"], lang) in render(page.item.status_reason, lang)
                   for lang in ("zh_CN", "en"))
    assert res.status == "processing"


def test_bad_file_fails_its_page_at_once_without_retries(
        archive, queued, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scan = write_png(tmp_path / "p1.png", render_page(["租赁合同"], size=(600, 400)))
    ingest(archive, _request([scan]))
    [page_id] = queued

    def refuse(*_a, **_k):
        raise IngestError("corrupt-image", REASONS["corrupt-image"], "ValueError: bad mode")

    monkeypatch.setattr(indexer.page_processor, "process_page", refuse)
    assert run_page(archive, page_id) == "failed"
    with archive.session() as s:
        page = s.get(Page, page_id)
        assert page.status == "failed" and page.attempts == 1
        assert page.error == REASONS["corrupt-image"] and page.error_detail == "ValueError: bad mode"


def test_the_queue_task_timeout_is_an_ocr_timeout() -> None:
    """indexer.errors knows no job queue: the pipeline names Huey's timeout to classify."""
    from huey.exceptions import TaskTimeout

    assert classify(TaskTimeout("task 1 timed out"), timeouts=(TaskTimeout,)).code == "ocr-timeout"
    assert classify(TaskTimeout("task 1 timed out")).code == "internal"
