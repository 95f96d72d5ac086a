"""Arranging scans into items: split by page ranges, merge, page order, turns, blank pages.

The originals are never altered. A page is a reference to a stored original and a page
index in it (`Page.file_id`, `Page.file_page`); arranging moves or renumbers those
references and records a quarter turn (`Page.turn`) or a blank mark (`Page.blank`) over
them. A split moves pages (with their OCR text and derived images) to new items with new
档号 of the same group; a merge moves them into another item and leaves the emptied item's
档号 recorded as merged (codes are never reused). Afterwards each item's searchable PDF and
search entry are rebuilt (`finalize_item`); a turned page is read again by the page queue.
Every arrangement is recorded in the items' change history (service.edits.log_change).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from .access import require_edit_item
from .archive import Archive
from .codes import allocate, format_code
from .edits import log_change
from .errors import N_, Conflict, InvalidInput, NotFound
from .fields import check_text
from .indexing import write_item
from .items import get_item
from .jobs.pipeline import finalize_item
from .locations import put_in_box
from .models import ArchiveItem, Page, StoredFile, User
from .vocab import OPEN_PAGE_STATUSES, ItemStatus, PageStatus

TURNS = (0, 90, 180, 270)
_RANGE = re.compile(r"^\s*(\d+)\s*(?:[-–—~～至]\s*(\d+))?\s*$")


def counted_pages(item: ArchiveItem) -> int:
    """Pages that count (blank backs are kept and shown, not counted)."""
    return sum(1 for p in item.pages if not p.blank)


def parse_ranges(text: str, total: int) -> list[tuple[int, int]]:
    """"1-3, 4-10, 11-300" → [(1, 3), (4, 10), (11, 300)]: consecutive ranges that cover
    pages 1..total exactly once, each the pages of one item."""
    parts = [p for p in re.split(r"[,，;；、\s]+(?=\d)", (text or "").strip()) if p.strip()]
    ranges: list[tuple[int, int]] = []
    for part in parts:
        m = _RANGE.match(part)
        if m is None:
            raise InvalidInput(N_("页码范围“%(part)s”无效，请写成如 1-3, 4-10。"), part=part)
        a = int(m.group(1))
        b = int(m.group(2) or a)
        ranges.append((a, b))
    expected = 1
    for a, b in ranges:
        if a != expected or b < a or b > total:
            raise InvalidInput(N_("页码范围应从第 1 页起依次相接、不重叠，直到第 %(total)s 页"
                                  "（问题在 %(a)s-%(b)s）。"), total=total, a=a, b=b)
        expected = b + 1
    if expected != total + 1:
        raise InvalidInput(N_("页码范围没有覆盖到第 %(total)s 页。"), total=total)
    if len(ranges) < 2:
        raise InvalidInput(N_("拆分至少需要两个页码范围。"))
    return ranges


def _settled(item: ArchiveItem) -> None:
    if any(p.status in OPEN_PAGE_STATUSES for p in item.pages):
        raise Conflict(N_("%(code)s 仍在识别中，请等识别完成后再整理。"), code=item.archival_code)
    if item.status == ItemStatus.MERGED:
        raise Conflict(N_("%(code)s 已并入其他档案件。"), code=item.archival_code)


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(N_("请填写整理原因。"))
    check_text(Page.error, reason, "整理原因")
    return reason


def _renumber(s: Session, pages: list[Page]) -> None:
    """Number these pages 1..N in the given order (two steps: no two share a number)."""
    for p in pages:
        p.n += 1_000_000
    s.flush()
    for i, p in enumerate(pages, start=1):
        p.n = i
    s.flush()


def _new_item_like(s: Session, item: ArchiveItem, title: str, actor: str) -> ArchiveItem:
    """A new item of the same 档号 group and catalogue fields, with the next 件号."""
    code = allocate(s, item.fonds.code, item.category.code, item.year, item.retention,
                    item.org_code)
    new = ArchiveItem(
        archival_code=format_code(code), fonds_id=item.fonds_id, category_id=item.category_id,
        year=item.year, retention=item.retention, org_code=item.org_code, item_no=code.item_no,
        title=title, doc_number=item.doc_number, responsible=item.responsible,
        doc_date=item.doc_date, secrecy=item.secrecy, customer_id=item.customer_id,
        customer_section=item.customer_section, owner_id=item.owner_id,
        department=item.department, status=ItemStatus.PROCESSING, created_by=actor)
    if item.box is not None:
        put_in_box(item.box, new)
    s.add(new)
    s.flush()
    return new


def split_item(archive: Archive, user: User, item_id: int, ranges_text: str,
               titles: list[str], reason: str) -> list[int]:
    """Split an item by page ranges: the first range stays in the item (its 档号), each
    further range becomes a new item titled by ``titles`` (in order; blank: the item's
    title with the pages). Returns the ids, the original first."""
    reason = _reason(reason)
    with archive.session() as s:
        item = get_item(s, item_id)
        require_edit_item(user, item)
        _settled(item)
        pages = list(item.pages)
        ranges = parse_ranges(ranges_text, len(pages))
        ids = [item.id]
        codes: list[str] = []
        for i, (a, b) in enumerate(ranges[1:]):
            title = (titles[i] if i < len(titles) else "").strip() or \
                f"{item.title}（第 {a}-{b} 页）"
            check_text(ArchiveItem.title, title, "题名")
            new = _new_item_like(s, item, title, user.username)
            moved = pages[a - 1:b]
            for p in moved:
                p.item_id = new.id
            s.flush()
            _renumber(s, moved)
            ids.append(new.id)
            codes.append(new.archival_code)
            log_change(s, user, new, "split",
                       {"split_from": [None, f"{item.archival_code} {a}-{b}"]}, reason)
        first = ranges[0]
        _renumber(s, pages[first[0] - 1:first[1]])
        s.expire(item, ["pages"])
        log_change(s, user, item, "split",
                   {"pages": [f"1-{len(pages)}", f"{first[0]}-{first[1]}"], "new_items": [None, codes]},
                   reason)
    for i in ids:
        finalize_item(archive, i)
    return ids


def merge_items(archive: Archive, user: User, item_id: int, other_ids: list[int],
                reason: str) -> None:
    """Append the pages of ``other_ids`` (in that order) to the item. The emptied items stay
    recorded as merged (their 档号 is never reused) and leave the search index."""
    reason = _reason(reason)
    others = [i for i in dict.fromkeys(other_ids) if i != item_id]
    if not others:
        raise InvalidInput(N_("请给出要并入的档案件。"))
    with archive.session() as s:
        item = get_item(s, item_id)
        require_edit_item(user, item)
        _settled(item)
        pages = list(item.pages)
        merged: list[ArchiveItem] = []
        for oid in others:
            other = get_item(s, oid)
            require_edit_item(user, other)
            _settled(other)
            if (other.fonds_id, other.category_id, other.year, other.retention,
                    other.org_code, other.secrecy) != (item.fonds_id, item.category_id,
                                                       item.year, item.retention,
                                                       item.org_code, item.secrecy):
                raise Conflict(N_("%(other)s 与 %(code)s 的全宗、门类、年度、保管期限、机构或密级"
                                  "不同，不能合并。"), other=other.archival_code,
                               code=item.archival_code)
            moved = list(other.pages)
            for p in moved:
                p.item_id = item.id
                p.n += 2_000_000 + len(pages)  # clear of the item's numbers until renumbered
            pages += moved
            merged.append(other)
        s.flush()
        _renumber(s, pages)
        s.expire(item, ["pages"])
        for other in merged:
            s.expire(other, ["pages"])
            other.status = ItemStatus.MERGED
            other.status_reason = f"已并入 {item.archival_code} / merged into {item.archival_code}"
            for f in s.scalars(select(StoredFile).where(StoredFile.item_id == other.id,
                                                        StoredFile.role == "searchable_pdf")):
                f.role = "superseded"
            log_change(s, user, other, "merge", {"merged_into": [None, item.archival_code]},
                       reason)
            write_item(archive, s, other.id, [])
        log_change(s, user, item, "merge",
                   {"merged": [None, [o.archival_code for o in merged]]}, reason)
    finalize_item(archive, item_id)


def merge_by_codes(archive: Archive, user: User, item_id: int, codes: list[str],
                   reason: str) -> None:
    """`merge_items` with the items to merge named by their 档号 (as archivists write them)."""
    ids = []
    with archive.session() as s:
        for code in codes:
            found = s.scalar(select(ArchiveItem.id).where(ArchiveItem.archival_code == code.strip()))
            if found is None:
                raise NotFound(N_("档号“%(code)s”不存在。"), code=code)
            ids.append(found)
    merge_items(archive, user, item_id, ids, reason)


def arrange_pages(archive: Archive, user: User, item_id: int, order: list[int],
                  turns: Mapping[int, int], blanks: set[int], reason: str) -> int:
    """Set the page order (``order`` lists the current page numbers in their new order),
    quarter turns (page number → 0/90/180/270 clockwise over the original) and the blank
    pages (page numbers, current numbering). A turned page is read again; returns how many
    pages were queued."""
    reason = _reason(reason)
    with archive.session() as s:
        item = get_item(s, item_id)
        require_edit_item(user, item)
        _settled(item)
        pages = list(item.pages)
        by_n = {p.n: p for p in pages}
        if sorted(order) != sorted(by_n):
            raise InvalidInput(N_("页序应列出第 1 到第 %(n)s 页各一次。"), n=len(pages))
        for n, turn in turns.items():
            if n not in by_n or turn not in TURNS:
                raise InvalidInput(N_("第 %(n)s 页的旋转角度无效（可选 0、90、180、270）。"), n=n)
        if blanks - set(by_n):
            raise InvalidInput(N_("空白页页码不在本件中。"))
        changes: dict[str, list] = {}
        if order != sorted(order):
            changes["order"] = [sorted(order), list(order)]
        turned = [by_n[n] for n, t in sorted(turns.items()) if (by_n[n].turn or 0) != t]
        if turned:
            changes["turn"] = [[f"{p.n}:{p.turn or 0}°" for p in turned],
                               [f"{p.n}:{turns[p.n]}°" for p in turned]]
        was_blank = {p.n for p in pages if p.blank}
        if was_blank != blanks:
            changes["blank"] = [sorted(was_blank), sorted(blanks)]
        if not changes:
            raise InvalidInput(N_("页面整理没有变化。"))
        for p in pages:
            p.blank = p.n in blanks
        for p in turned:
            p.turn = turns[p.n]
            p.status, p.attempts = PageStatus.PENDING, 0
            p.error = p.error_code = p.error_detail = None
        _renumber(s, [by_n[n] for n in order])
        if turned:
            item.status = ItemStatus.PROCESSING
        log_change(s, user, item, "arrange", changes, reason)
        queued = {p.id: p.n for p in turned}
    if queued:
        archive.queue.enqueue_pages(queued)
    else:
        finalize_item(archive, item_id)
    return len(queued)
