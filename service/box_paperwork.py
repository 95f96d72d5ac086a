"""A box's printed paperwork after DA/T 22-2015, as data: the cover and spine (盒脊), the
归档文件目录 and the 备考表, gathered from the catalogue for `paperwork_pdf` to lay out.

The paperwork describes what the box physically holds, whoever prints it, so every item is
listed; an item its printer may not open electronically (绝密) is listed by 档号 with its
title withheld. Printing a shelf prints each of its boxes, in barcode order, in one PDF.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from .access import operator_visibility, require_print_labels, visibility_for, visible_under
from .errors import NotFound
from .locations import box_contents, box_path, get_box
from .models import ArchiveItem, Box, Rack, Room, Section, Shelf, User
from .vocab import RETENTIONS

#: Shown instead of a title the printer may not open electronically.
WITHHELD = "（题名不以电子方式提供）"


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
        .options(joinedload(ArchiveItem.fonds)).order_by(ArchiveItem.archival_code)))
    rows = [CatalogueRow(seq=n, code=i.archival_code, doc_number=_dash(i.doc_number),
                         responsible=_dash(i.responsible),
                         title=i.title if visible_under(vis, i) else WITHHELD,
                         date=_yyyymmdd(i.doc_date), pages=_dash(i.paper_pages),
                         remarks=_dash(i.remarks))
            for n, i in enumerate(items, 1)]
    fonds = {i.fonds.code: i.fonds.name for i in items}
    years = sorted({str(i.year) for i in items} | ({str(box.year)} if box.year else set()))
    retentions = sorted({i.retention for i in items} | ({box.retention} if box.retention else set()))
    orgs = sorted({i.org_code for i in items if i.org_code} | ({box.org_code} if box.org_code else set()))
    pages = sum(i.paper_pages or 0 for i in items)
    notes = [f"本盒共有文件 {len(items)} 件，纸质 {pages} 页。"]
    arrangers = sorted({i.created_by for i in items if i.created_by})
    arranged = max((i.created_at for i in items), default=None)
    return BoxSheet(
        barcode=box.barcode, url=box_url(box.barcode),
        fonds="；".join(f"{code} {name}" for code, name in sorted(fonds.items())),
        fonds_codes="、".join(sorted(fonds)), year="、".join(years),
        retention="、".join(RETENTIONS.get(r, r) for r in retentions), org="、".join(orgs),
        item_ranges=_ranges(session, box), location=box_path(box) or "", rows=rows,
        notes=notes, arranged_by="、".join(arrangers),
        arranged_on=arranged.strftime("%Y-%m-%d") if arranged else "")


def shelf_boxes(session: Session, shelf_id: int) -> list[str]:
    """The barcodes of the boxes on a shelf, in order."""
    if session.get(Shelf, shelf_id) is None:
        raise NotFound(f"层 {shelf_id} 不存在。/ Shelf {shelf_id} does not exist.")
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
        raise NotFound(f"位置 {where}（库房/架/节/层）未登记。/ No shelf is registered at {where} "
                       "(room/rack/section/shelf).")
    return found
