"""Running the page pipeline against the catalogue: one task per page, then finalise the item.

Each step is idempotent so that a retried, duplicated or re-queued task never yields a
missing or a duplicate page: page rows exist from registration (unique item+n), results
overwrite in place, and each claim's derived objects have keys of their own, the row naming
the current ones (`derived_keys`).
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import tempfile
from collections.abc import Callable, Iterable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from huey.exceptions import TaskTimeout
from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.orm import Session

from indexer import page_processor
from indexer.derived import merge_pdf_files, merge_pdfs
from indexer.errors import REASONS, IngestError, classify
from indexer.textlayer import image_only_page, retext_page
from indexer.wordboxes import lines_of
from storage import ObjectStore, StorageError, StoredObject

from .. import clock
from ..errors import LINES, N_, Listing, about, msg
from ..indexing import write_item
from ..models import ArchiveItem, Page, StoredFile
from ..purge import schedule as schedule_purge
from ..search_docs import page_docs
from ..twoset import mark_changed
from ..vocab import (
    OPEN_PAGE_STATUSES,
    FileStatus,
    ItemStatus,
    PageStatus,
)
from .lease import Claim, Heartbeat, claim, is_stale, lock_item, renew, settle, worker_id

if TYPE_CHECKING:
    from ..archive import Archive

#: Runs of one page before it is failed for good (the queue's retries are MAX_ATTEMPTS - 1).
MAX_ATTEMPTS = 4
log = logging.getLogger(__name__)
#: Priority of a page task: page 1 of every item runs before page 2 of any, and so on, so
#: the first pages of a one-page upload are not queued behind the tail of a 1,000-page one.
PRIORITY_TOP = 100_000


def page_priority(n: int) -> int:
    """Higher runs first (Huey); decreasing with the page's position in its item."""
    return max(1, PRIORITY_TOP - n)


def _local_file(store: ObjectStore, key: str, dest: Path) -> Path:
    """The object as a local file: the store's own where it has one, else copied to ``dest``
    (page renderers and the PDF merger read files, in bounded memory)."""
    local = store.local_path(key)
    if local is not None and local.exists():
        return local
    with store.open(key) as src, open(dest, "wb") as out:
        shutil.copyfileobj(src, out, 1 << 20)
    return dest


def fetch_original(archive: Archive, key: str, tmpdir: str) -> Path:
    """The original as a local file (page renderers need a seekable path)."""
    return _local_file(archive.store, key, Path(tmpdir) / "original")


def store_merged_pdf(store: ObjectStore, page_keys: list[str],
                     key: str | Callable[[str], str]) -> StoredObject:
    """Merge the stored page PDFs into one PDF stored under ``key`` (or the key ``key(sha256)``
    names for the merged file), file to file: the finaliser's memory stays flat however many
    pages the item has (indexer.derived)."""
    with tempfile.TemporaryDirectory(prefix="dangan-merge-") as tmp:
        pages = [_local_file(store, k, Path(tmp) / f"page-{i}.pdf")
                 for i, k in enumerate(page_keys)]
        merged = Path(tmp) / "merged.pdf"
        merge_pdf_files(pages, merged)
        digest = None
        if callable(key):
            with merged.open("rb") as fh:
                digest = hashlib.file_digest(fh, "sha256").hexdigest()
            key = key(digest)
        with merged.open("rb") as fh:
            return store.put(fh, key=key, content_type="application/pdf",
                             expected_sha256=digest)


def run_page(archive: Archive, page_id: int) -> str:
    """Process one page; returns its final status ('done', 'failed', 'skipped').

    The page is claimed first (service.jobs.lease): a page another worker holds, or one
    already settled, is skipped, so a duplicate task never runs a page twice. A failure is
    written to the page at once: a bad file fails the page with its reason; any other
    error leaves the page ``pending`` with the reason and is raised again so the queue
    retries it with back-off, until the last attempt fails the page. The writer of an
    item's last open page finalises the item.
    """
    c = claim(archive, page_id)
    if c is None:
        return "skipped"
    try:
        with Heartbeat(archive, c) as beat:
            last = _process_and_store(archive, c, beat)
    except Exception as exc:  # every failure gets a state and a localised reason, at once
        outcome = _record_failure(archive, c, exc)
        if outcome is None:  # the claim was lost meanwhile: the page is another worker's
            return "skipped"
        final, last = outcome
        if not final:
            raise  # the queue retries it (with back-off); the page waits as 'pending'
        if last:
            finalize_item(archive, c.item_id)
        return PageStatus.FAILED
    if last is None:
        return "skipped"
    log.info("page %s done by %s (attempt %s)", page_id, c.worker, c.attempt)
    if last:
        finalize_item(archive, c.item_id)
    return PageStatus.DONE


def _process_and_store(archive: Archive, c: Claim, beat: Heartbeat) -> bool | None:
    """Read the page and store its results; None when the claim was lost (nothing kept),
    else whether it was the item's last open page."""
    with tempfile.TemporaryDirectory(prefix="dangan-page-") as tmp:
        path = fetch_original(archive, c.key, tmp)
        result = page_processor.process_page(path, c.file_page, fmt=c.fmt,
                                             timeout=archive.settings.ocr_timeout, turn=c.turn)
    # Another worker took the page after a stall, or a rescan reset it: its derived objects
    # (same keys) must not be overwritten with this run's.
    if beat.lost.is_set() or not renew(archive, c):
        log.warning("page %s: the claim of %s was lost while it ran; nothing stored",
                    c.page_id, c.worker)
        return None

    keys = derived_keys(c)
    store = archive.store
    try:
        image = store.put_bytes(result.web_webp, key=keys[0], content_type="image/webp")
        thumb = store.put_bytes(result.thumb_webp, key=keys[1], content_type="image/webp")
        pdf = store.put_bytes(result.pdf, key=keys[2], content_type="application/pdf")
    except BaseException:
        _drop(archive, keys, "of a failed attempt")
        raise
    previous = _recorded_keys(archive, c.page_id)
    last = settle(archive, c, dict(
        status=PageStatus.DONE, source=result.source, text=result.text, words=result.words,
        confidence=result.confidence, rotation=result.rotation, width=result.width,
        height=result.height, image_key=image.key, thumb_key=thumb.key, pdf_key=pdf.key,
        error=None, error_code=None, error_detail=None, lease_until=None))
    if last is None:  # lost after the last renewal: its objects are nobody's
        _drop(archive, keys, "of a lost claim")
        return None
    _drop(archive, sorted(previous - set(keys)), "replaced by a new run")
    return last


def derived_keys(c: Claim) -> tuple[str, str, str]:
    """The view, thumbnail and PDF keys of one claim's run of a page.

    Keyed by page id, not position (positions change when a bad file is removed or
    replaced), and by the claim: a worker that lost its claim after its last renewal (a
    stall past its lease) may still be writing when the page's next claimant has stored
    and recorded its own; with keys of their own its objects can never replace those the
    row names, and are removed when its settle finds the claim gone."""
    prefix = f"derived/{c.item_id}/page-{c.page_id}-{c.tag}"
    return f"{prefix}.webp", f"{prefix}-thumb.webp", f"{prefix}.pdf"


def _recorded_keys(archive: Archive, page_id: int) -> set[str]:
    """The derived objects the page's row names now (only the claim's holder changes them)."""
    with archive.session() as s:
        row = s.execute(select(Page.image_key, Page.thumb_key, Page.pdf_key)
                        .where(Page.id == page_id)).one()
    return {k for k in row if k}


def _record_failure(archive: Archive, c: Claim, exc: BaseException) -> tuple[bool, bool] | None:
    """Write a failed attempt to the page: (final, last open page of its item), or None when
    the claim was lost meanwhile (another worker or a reset owns the page now).

    A file the engines refuse (IngestError) is final: retrying the same bytes cannot help.
    Anything else (Tesseract crashed, the store or memory ran out) is retried until
    MAX_ATTEMPTS. The user-facing reason is coded and localised; the exception text goes to
    the log and to ``error_detail``.
    """
    failure = classify(exc, timeouts=(TaskTimeout,))
    final = isinstance(exc, IngestError) or c.attempt >= MAX_ATTEMPTS
    last = settle(archive, c, dict(
        status=PageStatus.FAILED if final else PageStatus.PENDING, error=failure.reason,
        error_code=failure.code, error_detail=failure.detail, started_at=None, worker=None,
        lease_until=None))
    if last is None:
        return None
    level = logging.WARNING if isinstance(exc, IngestError) else logging.ERROR
    log.log(level, "page %s attempt %s %s: %s (%s)", c.page_id, c.attempt,
            "failed" if final else "will be retried", failure.code, failure.detail,
            exc_info=not isinstance(exc, IngestError))
    return final, last


def _maybe_finalize(archive: Archive, item_id: int) -> None:
    with archive.session() as s:
        open_pages = s.scalar(select(func.count()).select_from(Page).where(
            Page.item_id == item_id, Page.status.in_(OPEN_PAGE_STATUSES)))
    if open_pages == 0:
        finalize_item(archive, item_id)


def pdf_pages(pages: list[Page]) -> list[tuple[Page, str]]:
    """The pages that make up the item's searchable PDF, in order, with their PDF's key."""
    return [(p, p.pdf_key) for p in pages if p.status == PageStatus.DONE and p.pdf_key]


def searchable_pdf_through(archive: Archive, item_id: int,
                           transform: Callable[[str], str]) -> bytes | None:
    """The item's searchable PDF with its text passed through ``transform`` (e.g. masking
    personal data, one character for one), or None when no page's text changes, so the
    stored file is already the answer.

    Built on request from the stored page PDFs, so it always follows the current rule:
    an OCR page keeps its scan and gets its text layer rewritten from its word boxes; a
    born-digital page whose own text would change is handed out as an image only.
    """
    with archive.session() as s:
        item = s.get_one(ArchiveItem, item_id)
        pages = [(key, p.source, p.text or "", p.words or [], p.width, p.height)
                 for p, key in pdf_pages(list(item.pages))]

    def rewrite(source: str | None, text: str, words: list[dict]) -> bool:
        if source == "ocr":
            layer = "\n".join(line.text for line in lines_of(words))
            return transform(layer) != layer
        return transform(text) != text

    todo = [rewrite(source, text, words) for _, source, text, words, _, _ in pages]
    if not any(todo):
        return None
    out: list[bytes] = []
    for (key, source, _, words, width, height), change in zip(pages, todo, strict=True):
        data = archive.store.read_bytes(key)
        if change and source == "ocr" and width and height:
            data = retext_page(data, words, width, height, transform)
        elif change:
            data = image_only_page(data)
        out.append(data)
    return merge_pdfs(out)


def finalize_item(archive: Archive, item_id: int) -> None:
    """Build the searchable PDF, set the item's status, (re)index it, and run the item's
    four-property check (service.fourprops) on the result."""
    with archive.session() as s:
        item = s.get_one(ArchiveItem, item_id)
        pages = list(item.pages)
        failed_pages = [p for p in pages if p.status == PageStatus.FAILED]
        failed_files = [f for f in item.files
                        if f.role == "original" and f.status == FileStatus.FAILED]
        pdf_keys = [key for _, key in pdf_pages(pages)]
    pdf_obj, previous = None, None
    if pdf_keys:
        pdf_obj = store_merged_pdf(archive.store, pdf_keys,
                                   lambda digest: searchable_pdf_key(item_id, digest))
    with archive.session() as s:
        # Two finalisers of one item (the last page's worker and the reconcile's) take
        # turns here, so the second updates the first's searchable PDF row, never adds one.
        lock_item(s, item_id)
        item = s.get_one(ArchiveItem, item_id)
        if pdf_obj is not None:
            existing = s.scalar(select(StoredFile).where(
                StoredFile.item_id == item_id, StoredFile.role == "searchable_pdf"))
            if existing is None:
                existing = StoredFile(item_id=item_id, role="searchable_pdf", seq=1,
                                      original_name=f"{item.archival_code}.pdf", format="pdf")
                s.add(existing)
            previous = existing.key
            existing.key, existing.sha256, existing.size = pdf_obj.key, pdf_obj.sha256, pdf_obj.size
            existing.page_count, existing.status = len(pdf_keys), FileStatus.STORED
        reasons = [about(f.original_name, f.error_reason) for f in failed_files]
        reasons += [about(msg(N_("第 %(n)s 页"), n=p.n), p.error) for p in failed_pages]
        item.status = item_status(bool(pdf_keys), bool(reasons))
        item.status_reason = Listing(reasons, LINES) if reasons else None
        s.flush()
        write_item(archive, s, item_id, page_docs(s, item))
    if previous and pdf_obj is not None and previous != pdf_obj.key:
        _drop(archive, [previous], "a replaced searchable PDF")
    log.info("item %s finalised by %s", item_id, worker_id())
    from ..fourprops import check_at_ingest  # the check reads back through this module

    check_at_ingest(archive, item_id)  # 四性检测: records what it finds, never fails this


def searchable_pdf_key(item_id: int, sha256: str) -> str:
    """Each version of an item's searchable PDF under a key of its own, never overwritten:
    until the catalogue records a new one, the recorded key still holds the recorded bytes
    (a failure in between leaves the new one an orphan, not a fixity mismatch)."""
    return f"derived/{item_id}/searchable-{sha256[:16]}.pdf"


def _drop(archive: Archive, keys: Iterable[str], why: str) -> None:
    """Delete derived objects no row names (any more); should that fail, the orphan sweep
    removes them."""
    for key in keys:
        try:
            archive.store.delete(key)
        except StorageError as exc:
            log.warning("could not delete %s (%s): %s", key, why, exc)


def item_status(readable_pages: bool, problems: bool) -> str:
    """The one rule for a finished item: 'ready', 'partial' (usable, with a problem) or 'failed'.

    An item with readable pages stays usable and searchable even when a file or page of it
    failed; only an item with nothing readable is 'failed'.
    """
    if not problems:
        return ItemStatus.READY
    return ItemStatus.PARTIAL if readable_pages else ItemStatus.FAILED


def _renumber(s: Session, item: ArchiveItem) -> None:
    """Number the item's pages 1..N in file order (after a file is removed or replaced)."""
    s.flush()
    s.expire(item, ["pages", "files"])
    seq = {f.id: f.seq for f in item.files}
    pages = sorted(item.pages, key=lambda p: (seq.get(p.file_id, 0), p.file_page))
    for p in pages:  # two steps, so that no two pages share a number in between
        p.n += 1_000_000
    s.flush()
    for i, p in enumerate(pages, start=1):
        p.n = i
    s.flush()
    s.expire(item, ["pages"])
    mark_changed(item)  # the electronic set changed: back to the records officer's queue


def _retire(s: Session, item: ArchiveItem, f: StoredFile, role: str) -> None:
    """Take a file out of the item (the object stays stored and recorded); drop its pages."""
    f.role = role
    f.seq = max((x.seq for x in item.files), default=0) + 1
    dropped = [p for p in item.pages if p.file_id == f.id]
    for p in dropped:
        s.delete(p)
    schedule_purge(s, item.id, [k for p in dropped
                                for k in (p.image_key, p.thumb_key, p.pdf_key) if k])
    s.flush()


def _add_pages(s: Session, item: ArchiveItem, f: StoredFile) -> list[Page]:
    top = max((p.n for p in item.pages), default=0)
    added = [Page(item_id=item.id, file_id=f.id, n=top + fp, file_page=fp)
             for fp in range(1, (f.page_count or 0) + 1)]
    s.add_all(added)
    s.flush()
    return added


def retry_file(archive: Archive, item_id: int, file_id: int) -> dict[int, int]:
    """Read one bad file again: re-check a failed file, re-queue its failed pages.

    Returns the queued pages (page id -> position); the item's status is recomputed.
    """
    queued: list[Page] = []
    with archive.session() as s:
        item = s.get_one(ArchiveItem, item_id)
        f = s.get_one(StoredFile, file_id)
        if f.status == FileStatus.FAILED:
            with tempfile.TemporaryDirectory(prefix="dangan-retry-") as tmp:
                try:
                    f.format, f.page_count = page_processor.count_pages(fetch_original(archive, f.key, tmp))
                    f.status, f.error_code, f.error_reason, f.error_detail = (
                        FileStatus.STORED, None, None, None)
                except IngestError as exc:
                    f.error_code, f.error_reason, f.error_detail = exc.code, exc.reason, exc.detail
            if f.status == FileStatus.STORED:
                queued += _add_pages(s, item, f)
                _renumber(s, item)
        for p in item.pages:
            if p.file_id == f.id and p.status == PageStatus.FAILED:
                p.status, p.attempts = PageStatus.PENDING, 0
                p.error = p.error_code = p.error_detail = None
                queued.append(p)
        item.status = ItemStatus.PROCESSING  # until finalised (see above remove_file)
        s.flush()
        positions = {p.id: p.n for p in queued}
    if positions:
        archive.queue.enqueue_pages(positions)
    else:
        finalize_item(archive, item_id)
    return positions


# An item whose files or pages change is 'processing' from the change's own transaction
# until finalize_item writes its new status, PDF and index entry: should that step fail (the
# database lost, the store full), the change stays committed and the reconcile finalises the
# item later, where its old status would otherwise stand for good.


def remove_file(archive: Archive, item_id: int, file_id: int) -> None:
    """Detach a bad file from its item (kept in the store and the catalogue as 'removed')."""
    with archive.session() as s:
        item = s.get_one(ArchiveItem, item_id)
        _retire(s, item, s.get_one(StoredFile, file_id), "removed")
        _renumber(s, item)
        still_open = any(p.status in OPEN_PAGE_STATUSES for p in item.pages)
        item.status = ItemStatus.PROCESSING  # until finalised (see above remove_file)
    if not still_open:
        finalize_item(archive, item_id)


def replace_file(archive: Archive, item_id: int, file_id: int, new: StoredFile) -> dict[int, int]:
    """Put ``new`` (a stored, counted original) in the place of a bad file and queue its pages.

    The old file stays stored and recorded (role 'replaced'); the new one takes its place
    in the item's file order. Returns the queued pages (page id -> position).
    """
    with archive.session() as s:
        item = s.get_one(ArchiveItem, item_id)
        old = s.get_one(StoredFile, file_id)
        seq = old.seq
        _retire(s, item, old, "replaced")
        new.item_id, new.role, new.seq = item.id, "original", seq
        s.add(new)
        s.flush()
        added = _add_pages(s, item, new)
        _renumber(s, item)
        item.status = ItemStatus.PROCESSING
        positions = {p.id: p.n for p in added}
    archive.queue.enqueue_pages(positions)
    return positions


def _reset(p: Page) -> list[str]:
    """Make a page wait for its worker again, its old results forgotten; returns the keys of
    the derived objects it named (no row names them any more)."""
    old = [k for k in (p.image_key, p.thumb_key, p.pdf_key) if k]
    p.status, p.attempts = PageStatus.PENDING, 0
    p.source = p.text = p.words = p.confidence = p.rotation = None
    p.width = p.height = None
    p.image_key = p.thumb_key = p.pdf_key = None
    p.error = p.error_code = p.error_detail = None
    p.started_at = p.worker = p.lease_until = None
    return old


def rescan_into(s: Session, item: ArchiveItem, new: StoredFile,
                pages: list[int] | None) -> tuple[dict[int, int], list[int]]:
    """Point the item's pages at a rescan (a stored, counted original), in the caller's
    transaction: the given item pages, in order, to the new file's pages 1..k, keeping
    their numbers; or, with `pages` None, the whole item (every original put out of use,
    the new file's pages numbered 1..N). Originals no page points to any more stay stored
    and recorded with the role 'replaced'. Only the pages that point to new scans are
    returned (page id -> position) to be queued: the others keep their OCR and index.

    Returns (queued pages, ids of the files put out of use)."""
    new.item_id, new.role = item.id, "original"
    new.seq = max((f.seq for f in item.files), default=0) + 1
    s.add(new)
    s.flush()
    if pages is None:
        retired = [f for f in item.files if f.role == "original" and f.id != new.id]
        for f in retired:
            _retire(s, item, f, "replaced")
        s.expire(item, ["pages", "files"])
        queued = _add_pages(s, item, new)
        _renumber(s, item)
    else:
        by_n = {p.n: p for p in item.pages}
        queued, unnamed = [], []
        for fp, n in enumerate(pages, start=1):
            page = by_n[n]
            page.file_id, page.file_page = new.id, fp
            unnamed += _reset(page)
            queued.append(page)
        schedule_purge(s, item.id, unnamed)  # no page names them any more
        s.flush()
        s.expire(item, ["pages", "files"])
        used = {p.file_id for p in item.pages}
        retired = [f for f in item.files if f.role == "original" and f.id not in used]
        top = max((f.seq for f in item.files), default=0)
        for i, f in enumerate(retired, start=1):
            f.role, f.seq = "replaced", top + i
        mark_changed(item)
    item.status = ItemStatus.PROCESSING
    s.flush()
    return {p.id: p.n for p in queued}, [f.id for f in retired]


def retry_item(archive: Archive, item_id: int) -> dict[int, int]:
    """Re-queue the failed pages and re-triage the failed files of an item.

    Returns the queued pages (page id -> position in the item).
    """
    new_pages: dict[int, int] = {}
    with archive.session() as s:
        item = s.get_one(ArchiveItem, item_id)
        n = max((p.n for p in item.pages), default=0)
        for f in item.files:
            if f.role != "original" or f.status != FileStatus.FAILED:
                continue
            with tempfile.TemporaryDirectory(prefix="dangan-retry-") as tmp:
                path = fetch_original(archive, f.key, tmp)
                try:
                    f.format, f.page_count = page_processor.count_pages(path)
                except IngestError as exc:
                    f.error_code, f.error_reason, f.error_detail = exc.code, exc.reason, exc.detail
                    continue
            f.status, f.error_code, f.error_reason, f.error_detail = (
                FileStatus.STORED, None, None, None)
            for fp in range(1, f.page_count + 1):
                n += 1
                page = Page(item_id=item.id, file_id=f.id, n=n, file_page=fp)
                s.add(page)
                s.flush()
                new_pages[page.id] = n
        for p in item.pages:
            if p.status == PageStatus.FAILED:
                p.status, p.attempts = PageStatus.PENDING, 0
                p.error = p.error_code = p.error_detail = None
                new_pages[p.id] = p.n
        item.status = ItemStatus.PROCESSING  # until finalised (see above remove_file)
    if new_pages:
        archive.queue.enqueue_pages(new_pages)
    else:
        finalize_item(archive, item_id)
    return new_pages


def reconcile(archive: Archive, *, startup: bool = False) -> int:
    """Re-queue pages a crash left behind; returns how many were re-queued.

    A running page is stale when its worker's lease ran out (the worker died, on any
    machine) or its worker was a process of this host that is gone. A pending page whose
    task is neither queued nor scheduled for a retry (its task died with a worker between
    taking it off the queue and claiming the page) is queued again; when the queue is too
    long to read, only on start-up. Duplicates are harmless: a page is claimed once.
    An item left unfinished with no open page (its finaliser died) is finalised.
    """
    now = clock.now()
    queued = archive.queue.queued_pages()
    requeue: dict[int, int] = {}
    exhausted: list[int] = []
    with archive.session() as s:
        rows = s.execute(select(Page.id, Page.n, Page.status, Page.started_at, Page.worker,
                                Page.lease_until, Page.attempts)
                         .where(Page.status.in_(OPEN_PAGE_STATUSES))).all()
        for row in rows:
            if row.status == PageStatus.PENDING:
                if (startup and queued is None) or (queued is not None and row.id not in queued):
                    requeue[row.id] = row.n
                continue
            if not is_stale(archive, row.lease_until, row.started_at, row.worker, now):
                continue
            # Compare-and-set, as a claim: a page renewed or taken meanwhile is left alone.
            final = row.attempts >= MAX_ATTEMPTS
            values = (dict(status=PageStatus.FAILED, error=REASONS["stalled"],
                           error_code="stalled",
                           error_detail=f"still running after {MAX_ATTEMPTS} attempts")
                      if final else dict(status=PageStatus.PENDING))
            changed = s.execute(update(Page).where(
                Page.id == row.id, Page.status == PageStatus.RUNNING,
                Page.attempts == row.attempts, Page.worker.is_not_distinct_from(row.worker))
                .values(**values, started_at=None, worker=None, lease_until=None)
                .execution_options(synchronize_session=False))
            if cast("CursorResult[Any]", changed).rowcount != 1:
                continue
            log.warning("page %s of %s: lease ran out, %s", row.id, row.worker,
                        f"failed after {MAX_ATTEMPTS} attempts" if final else "queued again")
            if final:
                exhausted.append(row.id)
            else:
                requeue[row.id] = row.n
        # Items with no open page left unfinished for a lease (their finaliser died).
        grace = now - timedelta(seconds=archive.settings.page_lease)
        stuck_items = s.scalars(select(ArchiveItem.id).where(
            ArchiveItem.status == ItemStatus.PROCESSING,
            ~select(Page.id).where(Page.item_id == ArchiveItem.id,
                                   Page.status.in_(OPEN_PAGE_STATUSES)
                                   | (Page.updated_at > grace)).exists())).all()
    if requeue:
        archive.queue.enqueue_pages(requeue)
    for item_id in set(stuck_items) | _items_of(archive, exhausted):
        _maybe_finalize(archive, item_id)
    return len(requeue)


def _items_of(archive: Archive, page_ids: list[int]) -> set[int]:
    if not page_ids:
        return set()
    with archive.session() as s:
        return set(s.scalars(select(Page.item_id).where(Page.id.in_(page_ids))))
