"""A box's printed paperwork after DA/T 22-2015, as data: the cover and spine (盒脊), the
归档文件目录 and the 备考表, gathered from the catalogue for `paperwork_pdf` to lay out.

The 备考表's notes come from the records, never typed for the sheet: the paper side's
condition, discrepancies the records officers found and not yet closed, rescans, and items
moved into or out of the box, and items destroyed from it (the destruction register).

The paperwork describes what the box physically holds, whoever prints it, so every item is
listed; an item its printer may not open electronically (绝密) is listed by 档号 with its
title withheld. Printing a shelf prints each of its boxes, in barcode order, in one PDF.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, joinedload

from .access import (
    listed_title,
    operator_visibility,
    require_print_labels,
    visibility_for,
)
from .errors import N_, NotFound
from .locations import box_contents, box_path, get_box
from .models import (
    ArchiveItem,
    Box,
    CrossCheck,
    DestructionRecord,
    ItemMove,
    Rack,
    Rescan,
    Room,
    Section,
    Shelf,
    User,
)
from .privacy import text_for
from .twoset import electronic_identifier
from .vocab import (
    DISCREPANCY_NAMES,
    PAPER_CONDITION_NAMES,
    RETENTIONS,
    CheckResult,
    PaperCondition,
)


@dataclass(frozen=True)
class CatalogueRow:
    """One line of the 归档文件目录."""

    seq: int
    code: str
    doc_number: str
    responsible: str
    title: str
    date: str
    pages: str
    remarks: str


@dataclass(frozen=True)
class BoxSheet:
    """Everything printed for one box."""

    barcode: str
    url: str
    fonds: str  # "J001 某某公司" (all fonds in the box, normally one)
    fonds_codes: str
    year: str
    retention: str
    org: str
    #: 起止件号 per series, e.g. "HT 0001–0012".
    item_ranges: list[str]
    location: str
    rows: list[CatalogueRow]
    #: 盒内文件情况说明 of the 备考表, one note a line.
    notes: list[str] = field(default_factory=list)
    arranged_by: str = ""
    arranged_on: str = ""
    checked_by: str = ""
    checked_on: str = ""


def _dash(value: object) -> str:
    return "" if value is None else str(value)


def _yyyymmdd(value: date | None) -> str:
    """DA/T 22-2015 writes dates as eight digits, 20240315."""
    return value.strftime("%Y%m%d") if value else ""


def _ranges(session: Session, box: Box) -> list[str]:
    out = []
    for r in box_contents(session, box).ranges:
        series = r.first.rsplit("-", 1)[0]
        first, last = r.first.rsplit("-", 1)[1], r.last.rsplit("-", 1)[1]
        category = series.split("-")[1].split("·")[0]
        out.append(f"{category} {first}–{last}" if first != last else f"{category} {first}")
    return out


def box_sheet(session: Session, user: User | None, barcode: str,
              box_url: Callable[[str], str]) -> BoxSheet:
    """The paperwork of the box `barcode`; `box_url` gives the address its QR code opens."""
    require_print_labels(user)
    box = get_box(session, barcode)
    vis = visibility_for(user) if user is not None else operator_visibility()
    items = list(session.scalars(
        select(ArchiveItem).where(ArchiveItem.box_id == box.id)
        .options(joinedload(ArchiveItem.fonds))
        .order_by(ArchiveItem.box_position.is_(None), ArchiveItem.box_position,
                  ArchiveItem.archival_code)))
    # what people typed as the user may read it (privacy.text_for: ID and mobile numbers
    # masked without the privacy right)
    rows = [CatalogueRow(seq=n, code=i.archival_code, doc_number=_dash(text_for(user, i.doc_number)),
                         responsible=_dash(text_for(user, i.responsible)),
                         title=text_for(user, listed_title(vis, i)) or "",
                         date=_yyyymmdd(i.doc_date), pages=_dash(i.paper_pages),
                         remarks=text_for(user, _remarks(i)) or "")
            for n, i in enumerate(items, 1)]
    fonds = {i.fonds.code: i.fonds.name for i in items}
    years = sorted({str(i.year) for i in items} | ({str(box.year)} if box.year else set()))
    retentions = sorted({i.retention for i in items} | ({box.retention} if box.retention else set()))
    orgs = sorted({i.org_code for i in items if i.org_code} | ({box.org_code} if box.org_code else set()))
    pages = sum(i.paper_pages or 0 for i in items)
    notes = [f"本盒共有文件 {len(items)} 件，纸质 {pages} 页。", *(text_for(user, n) or '' for n in _history(session, box, items))]
    arrangers = sorted({i.created_by for i in items if i.created_by})
    arranged = max((i.created_at for i in items), default=None)
    checks = _last_checks(session, items)
    checked = max((c.checked_at for c in checks.values()), default=None)
    return BoxSheet(
        barcode=box.barcode, url=box_url(box.barcode),
        fonds="；".join(f"{code} {name}" for code, name in sorted(fonds.items())),
        fonds_codes="、".join(sorted(fonds)), year="、".join(years),
        retention="、".join(RETENTIONS.get(r, r) for r in retentions), org="、".join(orgs),
        item_ranges=_ranges(session, box), location=box_path(box) or "", rows=rows,
        notes=notes, arranged_by="、".join(arrangers),
        arranged_on=arranged.strftime("%Y-%m-%d") if arranged else "",
        checked_by="、".join(sorted({c.officer_name or c.officer for c in checks.values()})),
        checked_on=checked.strftime("%Y-%m-%d") if checked else "")


def _remarks(item: ArchiveItem) -> str:
    """备注: the electronic copy's identifier (两套制), then what was typed on either side."""
    parts = [f"电子版 {electronic_identifier(item)}", item.paper_remarks, item.remarks]
    return "；".join(p for p in parts if p)


def _last_checks(session: Session, items: list[ArchiveItem]) -> dict[int, CrossCheck]:
    """Each item's newest signed cross-check."""
    if not items:
        return {}
    newest = select(func.max(CrossCheck.id)).where(
        CrossCheck.item_id.in_([i.id for i in items])).group_by(CrossCheck.item_id)
    return {c.item_id: c for c in session.scalars(select(CrossCheck).where(
        CrossCheck.id.in_(newest)))}


def _day(t: datetime) -> str:
    return t.strftime("%Y-%m-%d")


def _pages(pages: list[int] | None) -> str:
    return f"第 {'、'.join(str(p) for p in pages)} 页" if pages else "全件"


def _history(session: Session, box: Box, items: list[ArchiveItem]) -> list[str]:
    """The 备考表's notes from the records: paper damaged or missing pages, discrepancies
    still open, rescans, and items moved into or out of the box, oldest first."""
    notes: list[tuple[datetime | None, str]] = []
    for item in items:
        if item.paper_condition and item.paper_condition != PaperCondition.INTACT:
            name = PAPER_CONDITION_NAMES.get(item.paper_condition, item.paper_condition)
            extra = f"（{item.paper_remarks}）" if item.paper_remarks else ""
            notes.append((None, f"{item.archival_code}：纸质原件{name}{extra}。"))
    for item_id, chk in _last_checks(session, items).items():
        if chk.result == CheckResult.DISCREPANCY:
            code = next(i.archival_code for i in items if i.id == item_id)
            found = "；".join(f"{DISCREPANCY_NAMES.get(f.kind, f.kind)}（{_pages(f.pages)}）"
                             for f in chk.findings)
            notes.append((chk.checked_at, f"{_day(chk.checked_at)} {code}：核对发现{found}，"
                                          f"待处理（{chk.officer_name or chk.officer}）。"))
    codes = {i.id: i.archival_code for i in items}
    for r in session.scalars(select(Rescan).where(Rescan.item_id.in_(list(codes)))):
        notes.append((r.rescanned_at, f"{_day(r.rescanned_at)} {codes[r.item_id]}：重扫"
                                      f"{_pages(r.pages)}（{r.rescanned_by}），原扫描件保留。"))
    moves = session.scalars(select(ItemMove).where(
        or_(ItemMove.to_box_id == box.id, ItemMove.from_box_id == box.id)))
    for m in moves:
        if m.from_box_id == m.to_box_id:
            continue
        moved = session.scalar(select(ArchiveItem.archival_code).where(ArchiveItem.id == m.item_id))
        if m.to_box_id == box.id:
            origin = _barcode(session, m.from_box_id)
            notes.append((m.moved_at, f"{_day(m.moved_at)} 调入 {moved}"
                                      f"{f'（自盒 {origin}）' if origin else ''}（{m.moved_by or '—'}）。"))
        else:
            to = _barcode(session, m.to_box_id)
            notes.append((m.moved_at, f"{_day(m.moved_at)} 调出 {moved}"
                                      f"（{f'至盒 {to}' if to else '出盒'}，{m.moved_by or '—'}）。"))
    for d in session.scalars(select(DestructionRecord).where(DestructionRecord.box == box.barcode)):
        notes.append((d.destroyed_at, f"{_day(d.destroyed_at)} 销毁 {d.archival_code}（销毁清册第 "
                                      f"{d.number} 号，监销人 {d.supervisor}，销毁人 {d.confirmed_by}）。"))
    return [text for _, text in sorted(notes, key=lambda n: (n[0] is not None, _aware(n[0])))]


def _aware(t: datetime | None) -> datetime:
    if t is None:
        return datetime.min.replace(tzinfo=UTC)
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def _barcode(session: Session, box_id: int | None) -> str | None:
    return session.scalar(select(Box.barcode).where(Box.id == box_id)) if box_id else None


def shelf_boxes(session: Session, shelf_id: int) -> list[str]:
    """The barcodes of the boxes on a shelf, in order."""
    if session.get(Shelf, shelf_id) is None:
        raise NotFound(N_("层 %(shelf)s 不存在。"), shelf=shelf_id)
    boxes = session.scalars(select(Box.barcode).where(Box.shelf_id == shelf_id)
                            .order_by(Box.barcode))
    return list(boxes)


def find_shelf(session: Session, room: str, rack: str, section: str, shelf: str) -> Shelf:
    """The shelf at 库房/架/节/层 codes (`A/3/2/4`); NotFound when no such shelf is registered."""
    found = session.scalar(
        select(Shelf).join(Section, Shelf.section_id == Section.id)
        .join(Rack, Section.rack_id == Rack.id).join(Room, Rack.room_id == Room.id)
        .where(Room.code == room, Rack.code == rack, Section.code == section,
               Shelf.code == shelf))
    if found is None:
        where = f"{room}/{rack}/{section}/{shelf}"
        raise NotFound(N_("位置 %(where)s（库房/架/节/层）未登记。"), where=where)
    return found
