"""Registering an archive item from scan files: validate, store originals, allocate 档号, queue OCR.

Order matters for "nothing lost, nothing half-registered": everything that can be checked
is checked before any write; originals go into the content-addressed store (immutable,
idempotent) before the catalogue transaction; the catalogue rows and the 档号 are written
in one transaction; page tasks are queued only after it commits (and a reconciler
re-queues anything a crash dropped).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from indexer.document import Limits
from indexer.errors import IngestError
from indexer.page_processor import measure
from storage import ChecksumMismatch, StoredObject

from .access import (
    operator_visibility,
    registered_owner,
    require_register,
    require_register_id_copies,
    visibility_for,
    visible_under,
)
from .archive import Archive
from .audit import record
from .audit_actions import AuditAction
from .catalogue import (
    get_category,
    get_customer,
    get_fonds,
    validate_customer_number,
    visible_customer,
)
from .codes import allocate, format_code, validate_parts
from .config import Settings
from .errors import CLAUSES, LINES, N_, Conflict, InvalidInput, Listing, Message, about, msg
from .fields import check_text
from .locations import check_box_fits, get_box, put_in_box
from .models import ArchiveItem, Box, Customer, Page, StoredFile, User
from .privacy import title_for
from .vocab import CUSTOMER_SECTIONS, SECRECY_LEVELS, FileStatus, ItemStatus, PageStatus

MAX_FILES = 2000
CONTENT_TYPES = {"jpeg": "image/jpeg", "png": "image/png", "tiff": "image/tiff", "bmp": "image/bmp",
                 "webp": "image/webp", "pdf": "application/pdf"}


@dataclass
class IngestRequest:
    files: list[Path]
    fonds: str
    category: str
    year: int
    retention: str
    secrecy: str
    title: str
    org: str | None = None
    customer: str | None = None
    customer_section: str | None = None
    box: str | None = None
    doc_number: str | None = None
    responsible: str | None = None
    doc_date: date | None = None
    paper_pages: int | None = None
    remarks: str | None = None
    #: The item holds copies of resident ID cards (身份证复印件): only users with the privacy
    #: right open it (service.access).
    id_copies: bool = False
    actor: str = "cli"
    original_names: list[str] | None = None
    # Who uploads (web and API); None is the operator at the command line. It decides what
    # may be registered (service.access) and which existing items a duplicate may name.
    uploader: User | None = None
    # The 件号 a catalogue sheet asks for (service.batch): registered only if it is the one
    # the group's counter gives, so the numbers stay gap-free; None takes the next.
    item_no: int | None = None
    # First and last page of the one file that this item is a part of (a whole volume
    # scanned as one PDF or TIFF, split into items by page ranges): the original is stored
    # once, unaltered, and each page of it belongs to at most one item.
    page_range: tuple[int, int] | None = None


@dataclass
class IngestResult:
    id: int
    archival_code: str
    status: str
    pages: int
    failed_files: list[dict] = field(default_factory=list)

    def to_json(self) -> dict:
        out = {"id": self.id, "archival_code": self.archival_code, "status": self.status,
               "pages": self.pages}
        if self.failed_files:
            out["failed_files"] = self.failed_files
        return out


@dataclass
class _Triage:
    path: Path
    name: str
    sha256: str
    size: int
    fmt: str | None = None
    pages: int = 0
    error_code: str | None = None
    error_reason: Message | None = None
    error_detail: str | None = None
    decoded_bytes: int = 0


def sha256_file(path: Path) -> tuple[str, int]:
    with open(path, "rb") as fh:
        digest = hashlib.file_digest(fh, "sha256")
    return digest.hexdigest(), path.stat().st_size


def _check_files(paths: list[Path]) -> None:
    if not paths:
        raise InvalidInput(N_("没有给出扫描文件。"))
    if len(paths) > MAX_FILES:
        raise InvalidInput(N_("一次最多 %(MAX_FILES)s 个文件。"), MAX_FILES=MAX_FILES)
    for p in paths:
        if not p.exists():
            raise InvalidInput(N_("文件不存在：%(p)s。请检查路径。"), p=str(p))
        if not p.is_file():
            raise InvalidInput(N_("不是普通文件：%(p)s（可能是目录）。"), p=str(p))
        if not os.access(p, os.R_OK):
            raise InvalidInput(N_("无法读取文件：%(p)s，请检查权限。"), p=str(p))


#: More paper pages than any one item holds; beyond a database integer it would be a 500.
MAX_PAPER_PAGES = 100_000


def validate_request(archive: Archive, req: IngestRequest) -> None:
    """Every check that needs no write; raises InvalidInput/NotFound with a helpful message."""
    if req.secrecy not in SECRECY_LEVELS:
        raise InvalidInput(N_("密级“%(secrecy)s”无效，可选：%(choices)s。"), secrecy=req.secrecy,
                           choices=Listing(tuple(SECRECY_LEVELS)))
    require_register(req.uploader, req.secrecy)
    if req.id_copies:
        require_register_id_copies(req.uploader)
    validate_parts(req.fonds, req.category, req.year, req.retention, req.org)
    if req.doc_date is not None:
        check_doc_date(req.doc_date, req.year)
    if req.customer:
        validate_customer_number(req.customer)
    if not (req.title or "").strip():
        raise InvalidInput(N_("题名不能为空。"))
    if len(req.title) > 1000:
        raise InvalidInput(N_("题名过长（最多1000字）。"))
    if req.customer_section is not None and req.customer_section not in CUSTOMER_SECTIONS:
        raise InvalidInput(N_("客户档案分类无效，可选：%(choices)s。"),
                           choices=Listing(tuple(CUSTOMER_SECTIONS)))
    if req.paper_pages is not None and req.paper_pages < 0:
        raise InvalidInput(N_("纸质页数不能为负。"))
    if req.paper_pages is not None and req.paper_pages > MAX_PAPER_PAGES:
        raise InvalidInput(N_("纸质页数 %(paper_pages)s 过大（最多 %(MAX_PAPER_PAGES)s）。"),
                           paper_pages=req.paper_pages, MAX_PAPER_PAGES=MAX_PAPER_PAGES)
    for column, value, label in ((ArchiveItem.title, req.title, N_("题名")),
                                 (ArchiveItem.doc_number, req.doc_number, N_("文号")),
                                 (ArchiveItem.responsible, req.responsible, N_("责任者")),
                                 (ArchiveItem.remarks, req.remarks, N_("备注")),
                                 (Box.barcode, req.box, N_("盒条码"))):
        check_text(column, value, label)
    _check_files(req.files)
    with archive.session() as s:
        get_fonds(s, req.fonds)
        get_category(s, req.category)
        if req.customer:
            _customer(s, req)
        if req.box:
            check_box_fits(get_box(s, req.box), req.year, req.retention, req.org)


def check_doc_date(doc_date: date, year: int) -> None:
    """日期 is the document's own date: it falls in the item's 年度 and is not in the future."""
    if doc_date.year != year:
        raise InvalidInput(N_("日期 %(doc_date)s 不在年度 %(year)s 内：文件日期应属于所填年度，请核对日期或年度。"),
                           doc_date=doc_date.isoformat(), year=year)
    if doc_date > date.today():
        raise InvalidInput(N_("日期 %(doc_date)s 晚于今天：请核对文件日期。"), doc_date=doc_date.isoformat())


def _customer(session: Session, req: IngestRequest) -> Customer:
    """The customer file the item goes into: a user may file only into a customer they may
    see (the operator into any); "unknown" and "not yours" answer alike."""
    if req.uploader is None:
        return get_customer(session, req.customer or "")
    return visible_customer(session, req.uploader, req.customer or "")


#: Failures that mean "too big to take", not "unreadable": the whole upload is refused.
LIMIT_CODES = frozenset({"too-many-pages", "too-large", "too-many-pixels"})


def scan_limits(settings: Settings) -> Limits:
    """The caps each scan file is measured against: in an upload, a replacement, a rescan."""
    return Limits(max_pages=settings.max_pages_per_file,
                  max_decoded_bytes=settings.max_decoded_bytes_per_file)


def _triage(paths: list[Path], names: list[str], settings: Settings) -> list[_Triage]:
    """Hash each file and count its pages and decoded bytes from its structure (no decoding)."""
    limits = scan_limits(settings)
    out = []
    for path, name in zip(paths, names, strict=True):
        sha, size = sha256_file(path)
        t = _Triage(path=path, name=name, sha256=sha, size=size)
        try:
            counted = measure(path, limits)
            t.fmt, t.pages, t.decoded_bytes = counted.format, counted.pages, counted.decoded_bytes
        except IngestError as exc:
            t.error_code, t.error_reason, t.error_detail = exc.code, exc.reason, exc.detail
        out.append(t)
    return out


def check_upload_limits(settings: Settings, triaged: list[_Triage]) -> None:
    """Refuse an upload that breaks a resource cap, before anything is stored or queued."""
    over = [t for t in triaged if t.error_code in LIMIT_CODES]
    if over:
        raise InvalidInput(N_("文件超出处理上限，本次上传未保存。%(files)s"), files=Listing(
            [about(t.name, t.error_reason) for t in over], CLAUSES))
    pages = sum(t.pages for t in triaged)
    if pages > settings.max_pages_per_upload:
        raise InvalidInput(N_("本次上传共 %(pages)s 页，超过每次上传 %(max_pages_per_upload)s 页的上限。请分几次上传。"),
                           pages=pages, max_pages_per_upload=settings.max_pages_per_upload)
    decoded = sum(t.decoded_bytes for t in triaged)
    if decoded > settings.max_decoded_bytes_per_upload:
        gib, cap = decoded / 2**30, settings.max_decoded_bytes_per_upload / 2**30
        raise InvalidInput(N_("本次上传解码后的数据量过大（%(gib).1f GiB，上限 %(cap).1f GiB）。请分几次上传，或以 300 dpi 重新扫描。"),
                           gib=gib, cap=cap)


class AlreadyStored(Conflict):
    """An upload held files the archive already stores; `details["existing"]` lists them,
    with the item (id, 档号, 题名) only where the uploader may open it."""


def _find_duplicates(archive: Archive, req: IngestRequest, triaged: list[_Triage]) -> None:
    """Refuse an upload holding any file already stored, saying which files and, where the
    uploader may open it, as which item (a hidden item is not named: "already stored" only).

    Nothing is registered and no other item is returned as if it were the upload's result:
    the catalogue data typed for this upload would otherwise be silently dropped.
    """
    with archive.session() as s:
        rows = s.execute(select(StoredFile.sha256, ArchiveItem).join(
            ArchiveItem, ArchiveItem.id == StoredFile.item_id).where(
            StoredFile.role == "original",
            StoredFile.sha256.in_({t.sha256 for t in triaged}))).all()
        if not rows:
            return
        vis = visibility_for(req.uploader) if req.uploader is not None else operator_visibility()
        holders = {sha: (item.id, item.archival_code, title_for(req.uploader, item))
                   for sha, item in rows if visible_under(vis, item)}
        stored = {sha for sha, _item in rows}
    existing: list[dict] = []
    parts: list[Message | str] = []
    for t in triaged:
        if t.sha256 not in stored:
            continue
        if t.sha256 in holders:
            item_id, code, title = holders[t.sha256]
            existing.append({"name": t.name, "id": item_id, "archival_code": code, "title": title})
            parts.append(msg(N_("%(name)s → %(code)s《%(title)s》"), name=t.name, code=code,
                             title=title))
        else:
            existing.append({"name": t.name})
            parts.append(t.name)
    raise AlreadyStored(
        N_("以下文件已经入库，本次没有登记，填写的著录信息也未保存：%(files)s。"
           "如要登记新的档案，请去掉已入库的文件后重新上传。"),
        {"duplicate": True, "existing": existing}, files=Listing(parts, CLAUSES))


def _require_readable(triaged: list[_Triage]) -> None:
    """An upload from which no file yields a page is refused before anything is stored or
    a 档号 is used (an empty item could be neither read nor voided)."""
    if any(t.pages and not t.error_code for t in triaged):
        return
    raise InvalidInput(N_("没有一个文件能读出页面，本次没有登记，也没有占用档号。请检查下列文件后重新上传。"), {"failed_files": [{"name": t.name, "code": t.error_code or "no_pages",
                           "reason": t.error_reason or Message(N_("文件中没有页面。"))}
                          for t in triaged]})


def ingest(archive: Archive, req: IngestRequest) -> IngestResult:
    """Register one item whose scans are `req.files`; OCR runs later in the background."""
    validate_request(archive, req)
    triaged = triage_upload(archive, req)
    stored = _store_originals(archive, triaged)
    result, page_ids = _register(archive, req, triaged, stored)
    _enqueue(archive, page_ids)
    return result


def triage_upload(archive: Archive, req: IngestRequest) -> list[_Triage]:
    """Look at every file before anything is written: caps, duplicates, at least one page."""
    names = req.original_names or [p.name for p in req.files]
    triaged = _triage(req.files, names, archive.settings)
    check_upload_limits(archive.settings, triaged)
    if req.page_range is not None:
        _check_range(archive, req, triaged)
        return triaged
    _find_duplicates(archive, req, triaged)
    _refuse_repeats(triaged)
    _require_readable(triaged)
    return triaged


class PagesTaken(Conflict):
    """Pages of a volume that another item already holds; `details["existing"]` lists the
    items (id, 档号, first and last page) where the uploader may open them."""


def _check_range(archive: Archive, req: IngestRequest, triaged: list[_Triage]) -> None:
    """A part of a volume: one readable file, the range inside it, its pages nobody's yet."""
    assert req.page_range is not None
    first, last = req.page_range
    if len(triaged) != 1:
        raise InvalidInput(N_("按起止页登记时只能对应一个整卷扫描文件。"))
    t = triaged[0]
    if t.error_code:
        raise InvalidInput(N_("扫描文件“%(name)s”无法读取：%(error_reason)s"), {"failed_files": [
                               {"name": t.name, "code": t.error_code, "reason": t.error_reason}]}, name=t.name, error_reason=t.error_reason)
    if not 1 <= first <= last <= t.pages:
        raise InvalidInput(N_("起止页 %(first)s-%(last)s 超出扫描文件“%(name)s”的页数（共 %(pages)s 页）。"),
                           first=first, last=last, name=t.name, pages=t.pages)
    with archive.session() as s:
        rows = s.execute(
            select(ArchiveItem, func.min(Page.file_page), func.max(Page.file_page))
            .join(Page, Page.item_id == ArchiveItem.id)
            .join(StoredFile, StoredFile.id == Page.file_id)
            .where(StoredFile.role == "original", StoredFile.sha256 == t.sha256,
                   Page.file_page >= first, Page.file_page <= last)
            .group_by(ArchiveItem.id)).all()
        if not rows:
            return
        vis = visibility_for(req.uploader) if req.uploader is not None else operator_visibility()
        existing = [{"id": item.id, "archival_code": item.archival_code, "first": lo, "last": hi}
                    if visible_under(vis, item) else {"first": lo, "last": hi}
                    for item, lo, hi in rows]
    listed = Listing([msg(N_("%(code)s 第 %(first)s-%(last)s 页"), code=e.get("archival_code", ""),
                          first=e["first"], last=e["last"]) for e in existing], CLAUSES)
    raise PagesTaken(N_("“%(name)s”的第 %(first)s-%(last)s 页中已有页面登记在其他档案：%(listed)s。"),
                     {"existing": existing}, name=t.name, first=first, last=last, listed=listed)


def _refuse_repeats(triaged: list[_Triage]) -> None:
    seen: set[str] = set()
    for t in triaged:
        if t.sha256 in seen:
            raise InvalidInput(N_("同一文件出现了两次：%(name)s。"), name=t.name)
        seen.add(t.sha256)


def _store_originals(archive: Archive, triaged: list[_Triage]) -> list[StoredObject]:
    """Put the originals into the content-addressed store, before the catalogue transaction."""
    return [put_original(archive, t.path, t.sha256, t.fmt, t.name,
                         N_("文件 %(name)s 在读取过程中被修改，请待扫描完成后重试。"))
            for t in triaged]


def put_original(archive: Archive, path: Path, sha256: str, fmt: str | None, name: str,
                 changed: str) -> StoredObject:
    """Put one original (an upload's, a replacement, a rescan) into the content-addressed
    store; ``changed`` is the message when the file no longer has the hash it was checked by."""
    with open(path, "rb") as fh:
        try:
            return archive.store.put(fh, expected_sha256=sha256, content_type=CONTENT_TYPES.get(
                fmt or "", "application/octet-stream"))
        except ChecksumMismatch:
            raise Conflict(changed, name=name) from None


def _register(archive: Archive, req: IngestRequest, triaged: list[_Triage],
              stored: list[StoredObject]) -> tuple[IngestResult, dict[int, int]]:
    """The catalogue rows and the 档号, in one transaction; returns the result and the new
    pages (page id -> position in the item, its queue priority)."""
    failed = [t for t in triaged if t.error_code]
    with archive.session() as s:
        item = _new_item(s, req, failed)
        page_ids = _add_files(s, item, triaged, stored, req.page_range)
        record(s, req.actor, AuditAction.ITEM_INGEST, f"item:{item.id}",
               {"archival_code": item.archival_code, "files": [t.name for t in triaged]})
        result = IngestResult(item.id, item.archival_code, item.status, len(page_ids),
                              failed_files=[{"name": t.name, "code": t.error_code,
                                             "reason": t.error_reason} for t in failed])
    return result, page_ids


def _new_item(s: Session, req: IngestRequest, failed: list[_Triage]) -> ArchiveItem:
    """The item row with its allocated 档号, owner and box (checked again in this transaction)."""
    fonds = get_fonds(s, req.fonds)
    category = get_category(s, req.category)
    customer = _customer(s, req) if req.customer else None
    box = get_box(s, req.box) if req.box else None
    code = allocate(s, req.fonds, req.category, req.year, req.retention, req.org)
    if req.item_no is not None and code.item_no != req.item_no:
        raise Conflict(N_("件号 %(item_no)s 不是本组下一个可用的件号（应为 %(item_no2)s）：件号按顺序分配，不能跳号或重复，请留空由系统分配。"),
                       item_no=req.item_no, item_no2=code.item_no)
    owner_id, department = registered_owner(req.uploader)
    owner_id = owner_id or (customer.owner_id if customer else None)
    department = department or (customer.department if customer else None)
    item = ArchiveItem(
        archival_code=format_code(code), fonds_id=fonds.id, category_id=category.id,
        year=req.year, retention=req.retention, org_code=req.org, item_no=code.item_no,
        title=req.title.strip(), doc_number=req.doc_number, responsible=req.responsible,
        doc_date=req.doc_date, secrecy=req.secrecy, paper_pages=req.paper_pages,
        remarks=req.remarks, id_copies=req.id_copies,
        customer_id=customer.id if customer else None,
        customer_section=req.customer_section,
        owner_id=owner_id, department=department,
        status=ItemStatus.PROCESSING,  # _require_readable: at least one page to read
        created_by=req.actor,
        status_reason=_failure_summary(failed) if failed else None,
    )
    if box is not None:
        put_in_box(box, item)  # checked again inside the transaction that fills the box
    s.add(item)
    s.flush()
    return item


def _add_files(s: Session, item: ArchiveItem, triaged: list[_Triage],
               stored: list[StoredObject], page_range: tuple[int, int] | None = None
               ) -> dict[int, int]:
    """A row per original and per page in it; returns page id -> position in the item."""
    n = 0
    page_ids: dict[int, int] = {}
    for seq, (t, obj) in enumerate(zip(triaged, stored, strict=True), start=1):
        f = StoredFile(item_id=item.id, role="original", seq=seq, key=obj.key,
                       sha256=obj.sha256, size=obj.size, original_name=t.name, format=t.fmt,
                       page_count=t.pages or None,
                       status=FileStatus.FAILED if t.error_code else FileStatus.STORED,
                       error_code=t.error_code, error_reason=t.error_reason,
                       error_detail=t.error_detail)
        s.add(f)
        s.flush()
        first, last = page_range or (1, t.pages)
        for fp in range(first, last + 1):
            n += 1
            page = Page(item_id=item.id, file_id=f.id, n=n, file_page=fp,
                        status=PageStatus.PENDING)
            s.add(page)
            s.flush()
            page_ids[page.id] = n
    return page_ids


def _enqueue(archive: Archive, page_ids: dict[int, int]) -> None:
    """Queue the page tasks, only after the catalogue transaction has committed."""
    archive.queue.enqueue_pages(page_ids)


def _failure_summary(failed: list[_Triage]) -> Listing:
    return Listing([about(t.name, t.error_reason) for t in failed], LINES)
