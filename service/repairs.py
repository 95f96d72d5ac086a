"""Fixing an item's bad files: retry, replace or remove one file, then recompute the status.

An item whose file (or a page of it) failed stays usable with its good pages ('partial');
the archive's own roles (access.FILE_REPAIR_ROLES) fix the bad file from the item page.
Every action is audited. Originals are never deleted: a replaced or removed file stays
stored and recorded, only out of the item's reading order.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from indexer.errors import IngestError
from indexer.page_processor import FileCount, measure

from .access import require_repair_files
from .archive import Archive
from .audit import record
from .config import Settings
from .errors import N_, Conflict, InvalidInput, Message, NotFound
from .ingest import put_original, scan_limits, sha256_file
from .items import get_item
from .jobs.pipeline import remove_file as detach
from .jobs.pipeline import replace_file as swap
from .jobs.pipeline import retry_file as rerun
from .models import ArchiveItem, StoredFile, User
from .vocab import FileStatus, ItemStatus, PageStatus


@dataclass
class FileProblem:
    """A bad file of an item and why: the file failed, or some of its pages did."""

    file: StoredFile
    file_reason: Message | str | None  # the whole file could not be read
    page_reasons: list[tuple[int, Message | str]]  # (page number in the item, reason)


def file_problems(item: ArchiveItem) -> list[FileProblem]:
    """The item's original files that failed or have failed pages, with their reasons."""
    out = []
    for f in item.files:
        if f.role != "original":
            continue
        file_reason = (f.error_reason or "") if f.status == FileStatus.FAILED else None
        pages = [(p.n, p.error or "") for p in item.pages
                 if p.file_id == f.id and p.status == PageStatus.FAILED]
        if file_reason is not None or pages:
            out.append(FileProblem(f, file_reason, pages))
    return out


def _bad_file(archive: Archive, user: User, item_id: int, file_id: int) -> tuple[str, str]:
    """Check who may act and that the file is one of the item's bad files: (name, sha256)."""
    with archive.session() as s:
        item = get_item(s, item_id)
        require_repair_files(user, item)
        if item.status == ItemStatus.PROCESSING:
            raise Conflict(N_("本件仍在识别中，请等识别完成后再处理问题文件。"))
        problem = next((p for p in file_problems(item) if p.file.id == file_id), None)
        if problem is None:
            raise NotFound(N_("文件 %(file_id)s 不是本件的问题文件。"), file_id=file_id)
        return problem.file.original_name or "", problem.file.sha256


def _audit(archive: Archive, user: User, action: str, item_id: int, detail: dict) -> None:
    with archive.session() as s:
        item = s.get_one(ArchiveItem, item_id)
        record(s, user.username, action, f"item:{item_id}",
               {"archival_code": item.archival_code, **detail})


def retry_file(archive: Archive, user: User, item_id: int, file_id: int) -> int:
    """Read a bad file again; returns how many pages were queued."""
    name, sha = _bad_file(archive, user, item_id, file_id)
    _audit(archive, user, "file.retry", item_id, {"file": name, "sha256": sha})
    return len(rerun(archive, item_id, file_id))


def remove_file(archive: Archive, user: User, item_id: int, file_id: int) -> None:
    """Take a bad file out of the item (the original stays stored)."""
    name, sha = _bad_file(archive, user, item_id, file_id)
    with archive.session() as s:
        left = [f for f in get_item(s, item_id).files if f.role == "original" and f.id != file_id]
    if not left:
        raise InvalidInput(N_("这是本件唯一的文件，不能移除；请上传替换文件。"))
    _audit(archive, user, "file.remove", item_id, {"file": name, "sha256": sha})
    detach(archive, item_id, file_id)


#: A replacement or rescan changed between its check and its storing.
CHANGED_WHILE_READ = N_("文件 %(name)s 在读取过程中被修改，请重试。")


def measure_replacement(settings: Settings, path: Path, name: str, unusable: str) -> FileCount:
    """Count a file that stands in for stored pages (a replacement, a rescan) against the
    per-file caps, refusing it with ``unusable`` (name, reason) when it cannot be used."""
    try:
        return measure(path, scan_limits(settings))
    except IngestError as exc:
        raise InvalidInput(unusable, {"code": exc.code}, name=name, reason=exc.reason) from None


def replace_file(archive: Archive, user: User, item_id: int, file_id: int, path: Path,
                 name: str) -> int:
    """Store ``path`` as the new file in place of a bad one; returns how many pages were queued.

    The replacement is checked like an upload (readable, within the limits, not already
    stored); the old original stays stored and recorded as replaced.
    """

    old_name, old_sha = _bad_file(archive, user, item_id, file_id)
    settings = archive.settings
    sha, size = sha256_file(path)
    counted = measure_replacement(settings, path, name, N_("替换文件 %(name)s 无法使用：%(reason)s"))
    if counted.pages > settings.max_pages_per_upload:
        raise InvalidInput(N_("替换文件共 %(pages)s 页，超过每次上传 %(max_pages_per_upload)s 页的上限。"),
                           pages=counted.pages, max_pages_per_upload=settings.max_pages_per_upload)
    with archive.session() as s:
        if s.scalar(select(StoredFile.id).where(StoredFile.sha256 == sha,
                                                StoredFile.role == "original")) is not None:
            raise Conflict(N_("文件 %(name)s 已经入库，不能作为替换文件。"), name=name)
    obj = put_original(archive, path, sha, counted.format, name, CHANGED_WHILE_READ)
    _audit(archive, user, "file.replace", item_id,
           {"file": old_name, "sha256": old_sha, "new_file": name, "new_sha256": sha})
    new = StoredFile(key=obj.key, sha256=obj.sha256, size=obj.size, original_name=name,
                     format=counted.format, page_count=counted.pages, status=FileStatus.STORED)
    return len(swap(archive, item_id, file_id, new))
