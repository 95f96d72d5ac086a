"""Running the page pipeline against the catalogue: one task per page, then finalise the item.

Each step is idempotent so that a retried, duplicated or re-queued task never yields a
missing or a duplicate page: page rows exist from registration (unique item+n), results
overwrite in place, derived objects have deterministic keys.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select, update

from service.archive import Archive
from service.models import ArchiveItem, Page, StoredFile

MAX_ATTEMPTS = 4
WORKER_ID = f"{socket.gethostname()}:{{pid}}"


def _now() -> datetime:
    return datetime.now(UTC)


def _worker_id() -> str:
    return WORKER_ID.format(pid=os.getpid())


def enqueue_pages(page_ids: list[int]) -> None:
    from .tasks import ocr_page_task

    for pid in page_ids:
        ocr_page_task(pid)


def _fetch_original(archive: Archive, key: str, tmpdir: str) -> Path:
    """The original as a local file (page renderers need a seekable path)."""
    store = archive.store
    local = getattr(store, "path_for", None)
    if local is not None:
        p = local(key)
        if p.exists():
            return p
    dest = Path(tmpdir) / "original"
    with store.open(key) as src, open(dest, "wb") as out:
        shutil.copyfileobj(src, out, 1 << 20)
    return dest


def run_page(archive: Archive, page_id: int) -> str:
    """Process one page; returns its final status ('done', 'failed', 'skipped')."""
    from .errors import IngestError
    from .page_processor import process_page

    with archive.session() as s:
        page = s.get(Page, page_id)
        if page is None or page.status in ("done", "failed"):
            return "skipped"
        if page.status == "running" and not _is_stale(page.started_at, page.worker,
                                                      _cutoff(archive), socket.gethostname()):
            return "skipped"
        page.status = "running"
        page.attempts += 1
        page.started_at = _now()
        page.worker = _worker_id()
        item_id, n, file_page = page.item_id, page.n, page.file_page
        key, fmt = page.file.key, page.file.format

    with tempfile.TemporaryDirectory(prefix="dangan-page-") as tmp:
        path = _fetch_original(archive, key, tmp)
        try:
            result = process_page(path, file_page, fmt=fmt, timeout=archive.settings.ocr_timeout)
        except IngestError as exc:
            with archive.session() as s:
                page = s.get(Page, page_id)
                page.status, page.error = "failed", exc.reason
            _maybe_finalize(archive, item_id)
            return "failed"

    prefix = f"derived/{item_id}/p{n:04d}"
    store = archive.store
    image = store.put_bytes(result.web_webp, key=f"{prefix}.webp", content_type="image/webp")
    thumb = store.put_bytes(result.thumb_webp, key=f"{prefix}-thumb.webp",
                            content_type="image/webp")
    pdf = store.put_bytes(result.pdf, key=f"{prefix}.pdf", content_type="application/pdf")
    with archive.session() as s:
        page = s.get(Page, page_id)
        page.status = "done"
        page.source, page.text, page.words = result.source, result.text, result.words
        page.confidence, page.rotation = result.confidence, result.rotation
        page.width, page.height = result.width, result.height
        page.image_key, page.thumb_key, page.pdf_key = image.key, thumb.key, pdf.key
        page.error = None
    _maybe_finalize(archive, item_id)
    return "done"


def _maybe_finalize(archive: Archive, item_id: int) -> None:
    with archive.session() as s:
        open_pages = s.scalar(select(func.count()).select_from(Page).where(
            Page.item_id == item_id, Page.status.in_(("pending", "running"))))
    if open_pages == 0:
        finalize_item(archive, item_id)


def finalize_item(archive: Archive, item_id: int) -> None:
    """Build the searchable PDF, set the item's status and (re)index it."""
    from .derived import merge_pdfs
    from .search_docs import page_docs

    with archive.session() as s:
        item = s.get(ArchiveItem, item_id)
        pages = list(item.pages)
        done = [p for p in pages if p.status == "done" and p.pdf_key]
        failed_pages = [p for p in pages if p.status == "failed"]
        failed_files = [f for f in item.files if f.role == "original" and f.status == "failed"]
        pdf_keys = [p.pdf_key for p in done]
    pdf_obj = None
    if pdf_keys:
        pdf_obj = archive.store.put_bytes(
            merge_pdfs([archive.store.read_bytes(k) for k in pdf_keys]),
            key=f"derived/{item_id}/searchable.pdf", content_type="application/pdf")
    with archive.session() as s:
        item = s.get(ArchiveItem, item_id)
        if pdf_obj is not None:
            existing = s.scalar(select(StoredFile).where(
                StoredFile.item_id == item_id, StoredFile.role == "searchable_pdf"))
            if existing is None:
                existing = StoredFile(item_id=item_id, role="searchable_pdf", seq=1,
                                      original_name=f"{item.archival_code}.pdf", format="pdf")
                s.add(existing)
            existing.key, existing.sha256, existing.size = pdf_obj.key, pdf_obj.sha256, pdf_obj.size
            existing.page_count, existing.status = len(pdf_keys), "stored"
        reasons = [f"{f.original_name}: {f.error_reason}" for f in failed_files]
        reasons += [f"第 {p.n} 页 / page {p.n}: {p.error}" for p in failed_pages]
        item.status = "failed" if reasons else "ready"
        item.status_reason = "\n".join(reasons) or None
        s.flush()
        docs = page_docs(s, item)
        if archive.embedded_search:
            archive.search.index_pages(docs, conn=s.connection()) if docs else \
                archive.search.delete_item(item_id, conn=s.connection())
    if not archive.embedded_search:
        if docs:
            archive.search.index_pages(docs)
        else:
            archive.search.delete_item(item_id)


def retry_item(archive: Archive, item_id: int) -> list[int]:
    """Re-queue the failed pages and re-triage the failed files of an item."""
    from .errors import IngestError
    from .page_processor import count_pages

    new_pages: list[int] = []
    with archive.session() as s:
        item = s.get(ArchiveItem, item_id)
        n = max((p.n for p in item.pages), default=0)
        for f in item.files:
            if f.role != "original" or f.status != "failed":
                continue
            with tempfile.TemporaryDirectory(prefix="dangan-retry-") as tmp:
                path = _fetch_original(archive, f.key, tmp)
                try:
                    f.format, f.page_count = count_pages(path)
                except IngestError as exc:
                    f.error_code, f.error_reason = exc.code, exc.reason
                    continue
            f.status, f.error_code, f.error_reason = "stored", None, None
            for fp in range(1, f.page_count + 1):
                n += 1
                page = Page(item_id=item.id, file_id=f.id, n=n, file_page=fp)
                s.add(page)
                s.flush()
                new_pages.append(page.id)
        for p in item.pages:
            if p.status == "failed":
                p.status, p.attempts, p.error = "pending", 0, None
                new_pages.append(p.id)
        item.status = "processing" if new_pages else item.status
    if new_pages:
        enqueue_pages(sorted(set(new_pages)))
    else:
        finalize_item(archive, item_id)
    return new_pages


def reconcile(archive: Archive, *, startup: bool = False) -> int:
    """Re-queue pages a crash left behind; returns how many were re-queued.

    A page is stale when it has been 'running' for longer than the OCR time limit, or when
    the worker process that took it on this host is gone. On start-up, pending pages are
    queued again too (a SIGKILLed consumer may have lost them); duplicates are harmless.
    """
    cutoff = _cutoff(archive)
    host = socket.gethostname()
    requeue: list[int] = []
    exhausted: list[int] = []
    with archive.session() as s:
        rows = s.execute(select(Page.id, Page.status, Page.started_at, Page.worker, Page.attempts)
                         .where(Page.status.in_(("pending", "running")))).all()
        for pid, status, started, note, attempts in rows:
            if status == "pending":
                if startup:
                    requeue.append(pid)
                continue
            if not _is_stale(started, note, cutoff, host):
                continue
            (exhausted if attempts >= MAX_ATTEMPTS else requeue).append(pid)
        if requeue:
            s.execute(update(Page).where(Page.id.in_(requeue), Page.status == "running")
                      .values(status="pending"))
        if exhausted:
            s.execute(update(Page).where(Page.id.in_(exhausted)).values(
                status="failed", error="多次处理均未完成（可能超时或进程崩溃），可重试。/ "
                                       "Processing did not finish after several attempts; retry."))
        stuck_items = s.scalars(select(ArchiveItem.id).where(
            ArchiveItem.status == "processing",
            ~select(Page.id).where(Page.item_id == ArchiveItem.id,
                                   Page.status.in_(("pending", "running"))).exists())).all()
    if requeue:
        enqueue_pages(requeue)
    for item_id in set(stuck_items) | _items_of(archive, exhausted):
        _maybe_finalize(archive, item_id)
    return len(requeue)


def _cutoff(archive: Archive) -> datetime:
    return _now() - timedelta(seconds=archive.settings.ocr_timeout + 60)


def _is_stale(started: datetime | None, worker: str | None, cutoff: datetime, host: str) -> bool:
    """A running page is stale when its lease ran out or its local worker process is gone."""
    if started is not None and started.tzinfo is None:
        started = started.replace(tzinfo=UTC)
    return started is None or started < cutoff or _dead_local_worker(worker, host)


def _items_of(archive: Archive, page_ids: list[int]) -> set[int]:
    if not page_ids:
        return set()
    with archive.session() as s:
        return set(s.scalars(select(Page.item_id).where(Page.id.in_(page_ids))))


def _dead_local_worker(note: str | None, host: str) -> bool:
    if not note or not note.startswith(f"{host}:"):
        return False
    try:
        pid = int(note.rsplit(":", 1)[1])
    except ValueError:
        return False
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
