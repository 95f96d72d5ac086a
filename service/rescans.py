"""Rescan and replace: the archivist's answer to a discrepancy found at the desk.

A rescan of some pages (or of the whole item) is checked like an upload, stored beside the
old original (originals are never altered or deleted), and the item's pages point to the new
scans; OCR and indexing run again for those pages only (the page tasks of service.jobs).
The change is audited, kept in the item's rescan history, and sends the item back to the
records officer's queue (service.crosscheck), whose next check closes the discrepancy.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from .access import require_rescan
from .archive import Archive
from .audit import record
from .crosscheck import open_discrepancy
from .errors import N_, Conflict, InvalidInput
from .fields import check_text
from .ingest import put_original, sha256_file
from .items import get_item
from .jobs.pipeline import rescan_into
from .models import Rescan, StoredFile, User
from .repairs import CHANGED_WHILE_READ, measure_replacement
from .vocab import FileStatus, ItemStatus

BUSY = N_("本件仍在识别中，请等识别完成后再上传重扫件。")


@dataclass(frozen=True)
class RescanResult:
    rescan_id: int
    file_id: int
    sha256: str
    #: Item page numbers queued for OCR again.
    pages: list[int]
    replaced_file_ids: list[int]


def _check_pages(pages: list[int] | None, scanned: int) -> list[int] | None:
    if pages is None:
        return None
    if not pages:
        raise InvalidInput(N_("请填写要重扫的页码，或选择重扫整件。"))
    bad = [n for n in pages if not 1 <= n <= scanned]
    if bad:
        raise InvalidInput(N_("第 %(page)s 页不存在（本件扫描 %(scanned)s 页）；缺扫的页请重扫整件。"),
                           page=bad[0], scanned=scanned)
    return sorted(set(pages))


def rescan(archive: Archive, user: User, item_id: int, path: Path, name: str,
           pages: list[int] | None, note: str | None = None) -> RescanResult:
    """Store `path` as a rescan of `pages` of the item (None: the whole item) and queue
    OCR for those pages only. A file of k pages replaces k given pages, in order."""
    with archive.session() as s:
        item = get_item(s, item_id)
        require_rescan(user, item)
        if item.status == ItemStatus.PROCESSING:
            raise Conflict(BUSY)
        pages = _check_pages(pages, len(item.pages))
    check_text(Rescan.note, note, "重扫说明")
    settings = archive.settings
    sha, _size = sha256_file(path)
    with archive.session() as s:
        if s.scalar(select(StoredFile.id).where(StoredFile.sha256 == sha)) is not None:
            raise Conflict(N_("文件 %(name)s 已经入库，不能作为重扫件。"), name=name)
    counted = measure_replacement(settings, path, name, N_("重扫文件 %(name)s 无法使用：%(reason)s"))
    if pages is not None and counted.pages != len(pages):
        raise InvalidInput(N_("重扫文件共 %(pages)s 页，而要替换 %(wanted)s 页，请核对。"),
                           pages=counted.pages, wanted=len(pages))
    if counted.pages > settings.max_pages_per_upload:
        raise InvalidInput(N_("重扫文件共 %(pages)s 页，超过每次上传 %(limit)s 页的上限。"),
                           pages=counted.pages, limit=settings.max_pages_per_upload)
    obj = put_original(archive, path, sha, counted.format, name, CHANGED_WHILE_READ)
    with archive.session() as s:
        item = get_item(s, item_id)
        if item.status == ItemStatus.PROCESSING:  # another rescan won the race
            raise Conflict(BUSY)
        check = open_discrepancy(s, item.id)
        new = StoredFile(key=obj.key, sha256=obj.sha256, size=obj.size, original_name=name,
                         format=counted.format, page_count=counted.pages,
                         status=FileStatus.STORED)
        queued, replaced = rescan_into(s, item, new, pages)
        row = Rescan(item_id=item.id, check_id=check.id if check else None, file_id=new.id,
                     pages=pages, replaced_file_ids=replaced, rescanned_by=user.username,
                     note=(note or "").strip() or None)
        s.add(row)
        s.flush()
        record(s, user.username, "item.rescan", f"item:{item.id}",
               {"archival_code": item.archival_code, "file": name, "sha256": obj.sha256,
                "pages": pages, "replaced_files": replaced,
                "check": check.id if check else None})
        result = RescanResult(row.id, new.id, obj.sha256, sorted(queued.values()), replaced)
    archive.queue.enqueue_pages(queued)
    return result


def rescan_history(archive: Archive, item_id: int) -> list[Rescan]:
    with archive.session() as s:
        rows = list(s.scalars(select(Rescan).where(Rescan.item_id == item_id)
                              .order_by(Rescan.id.desc())))
        s.expunge_all()
        return rows
