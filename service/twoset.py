"""The two sets of an item (两套制) and the cross-references between them.

An item's paper side (box, position in the box, declared page count, condition, remarks)
and its electronic side (stored originals and pages, with SHA-256 and storage key) hang on
one row: each side's reference to the other is generated from that row whenever it is
shown, never typed, so moving a box or an item changes both at once (DESIGN, "The rule at
the centre"). Moves of an item between boxes are kept in its location history (ItemMove);
a box's own moves in BoxMove.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from .access import require_manage
from .errors import N_, Conflict, InvalidInput
from .fields import check_text
from .locations import UNSHELVED, box_path, get_box, put_in_box
from .models import ArchiveItem, Box, BoxMove, ItemMove, User
from .vocab import PaperCondition

#: The paper page count a form or the API may declare (as ingest allows).
MAX_PAPER_PAGES = 100_000


def now() -> datetime:
    return datetime.now(UTC)


def mark_changed(item: ArchiveItem, when: datetime | None = None) -> None:
    """Note that the item's paper or electronic set changed: it goes back to the records
    officer's queue if it was checked before (service.crosscheck)."""
    item.sets_changed_at = when or now()


# ----------------------------------------------------------------- the two sides


@dataclass(frozen=True)
class ScanFile:
    """One stored original of the electronic set."""

    id: int
    name: str | None
    key: str
    sha256: str
    size: int
    pages: int | None


@dataclass(frozen=True)
class ElectronicSide:
    """The electronic copy: its identifier, stored originals and scanned page count."""

    item_id: int
    identifier: str
    files: list[ScanFile]
    scanned_pages: int
    #: Generated text for the paper side's remarks (备考): where the scans are.
    reference: str


@dataclass(frozen=True)
class PaperSide:
    """The paper original: its 档号, box, position, physical path, pages and condition."""

    archival_code: str
    box: str | None
    position: int | None
    path: str | None
    room: str | None
    rack: str | None
    section: str | None
    shelf: str | None
    declared_pages: int | None
    condition: str
    remarks: str | None
    #: Generated text for the electronic catalogue's remarks: where the paper is.
    reference: str
    history: list[dict] = field(default_factory=list)


def electronic_identifier(item: ArchiveItem) -> str:
    """The electronic copy's identifier: the catalogue record number of the item."""
    return f"E{item.id:08d}"


def electronic_side(item: ArchiveItem) -> ElectronicSide:
    files = [ScanFile(f.id, f.original_name, f.key, f.sha256, f.size, f.page_count)
             for f in item.files if f.role == "original"]
    ident = electronic_identifier(item)
    parts = "；".join(f"{f.key}（SHA-256 {f.sha256}）" for f in files) or "（无扫描件）"
    ref = f"电子版 {ident}，存储地址 {parts} / Electronic copy {ident}"
    return ElectronicSide(item.id, ident, files, len(item.pages), ref)


def paper_side(session: Session | None, item: ArchiveItem) -> PaperSide:
    """The paper side; its location history needs the item's session (empty without)."""
    box = item.box
    shelf = box.shelf if box is not None else None
    path = box_path(box)
    if box is None:
        ref = f"纸质原件 档号 {item.archival_code}，未装盒 / Paper original {item.archival_code}, not boxed"
    else:
        pos = f"，第 {item.box_position} 件" if item.box_position else ""
        pos_en = f", item {item.box_position}" if item.box_position else ""
        ref = (f"纸质原件 档号 {item.archival_code}，存放 {path}{pos} / Paper original "
               f"{item.archival_code} at {path}{pos_en}")
    return PaperSide(
        archival_code=item.archival_code, box=box.barcode if box else None,
        position=item.box_position, path=path,
        room=shelf.section.rack.room.name if shelf else None,
        rack=shelf.section.rack.code if shelf else None,
        section=shelf.section.code if shelf else None,
        shelf=shelf.code if shelf else None,
        declared_pages=item.paper_pages, condition=item.paper_condition or PaperCondition.INTACT,
        remarks=item.paper_remarks, reference=ref,
        history=location_history(session, item) if session is not None else [])


def two_sets_json(session: Session | None, item: ArchiveItem) -> dict:
    """Both sides as JSON (the API, `dangan show`)."""
    return {"paper": asdict(paper_side(session, item)),
            "electronic": asdict(electronic_side(item))}


def location_history(session: Session, item: ArchiveItem) -> list[dict]:
    """Where the item's paper has been, newest first: its moves between boxes (`from`/`to`
    box paths with positions) and the moves of the box it sits in while it was there (`to`
    the shelf path)."""
    out: list[dict] = []
    moves = list(session.scalars(select(ItemMove).where(ItemMove.item_id == item.id)
                                 .order_by(ItemMove.moved_at.desc(), ItemMove.id.desc())))
    boxes = {b.id: b for b in session.scalars(select(Box).where(Box.id.in_(
        {m.from_box_id for m in moves} | {m.to_box_id for m in moves})))}
    for m in moves:
        out.append({"at": _aware(m.moved_at).isoformat(), "by": m.moved_by, "kind": "item",
                    "from": box_path(boxes.get(m.from_box_id or 0)),
                    "from_position": m.from_position,
                    "to": box_path(boxes.get(m.to_box_id or 0)), "to_position": m.to_position,
                    "note": m.note})
    if item.box is not None:
        since = moves[0].moved_at if moves and moves[0].to_box_id == item.box_id else None
        for bm in session.scalars(select(BoxMove).where(BoxMove.box_id == item.box_id)
                                  .order_by(BoxMove.moved_at.desc(), BoxMove.id.desc())):
            if since is not None and _aware(bm.moved_at) < _aware(since):
                break
            out.append({"at": _aware(bm.moved_at).isoformat(), "by": bm.moved_by, "kind": "box",
                        "from": None, "from_position": None,
                        "to": bm.shelf.path if bm.shelf is not None else UNSHELVED,
                        "to_position": None, "note": bm.note})
    out.sort(key=lambda e: e["at"], reverse=True)
    return out


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo else t.replace(tzinfo=UTC)


# ----------------------------------------------------------------- changing the paper side


def move_item(session: Session, user: User | None, item: ArchiveItem, barcode: str | None,
              position: int | None = None, note: str | None = None) -> ItemMove:
    """Put the item's paper in another box (or take it out with `barcode` None), recorded
    in its location history; both sides' references follow at once."""
    require_manage(user)
    check_text(ItemMove.note, note, N_("备注"))
    if position is not None and not 1 <= position <= 9999:
        raise InvalidInput(N_("盒内序号应为 1–9999。"))
    box = get_box(session, barcode.strip()) if barcode else None
    if box is not None and position is not None:
        taken = session.scalar(select(ArchiveItem.archival_code).where(
            ArchiveItem.box_id == box.id, ArchiveItem.box_position == position,
            ArchiveItem.id != item.id))
        if taken:
            raise Conflict(N_("盒 %(box)s 第 %(position)s 件已是 %(code)s。"), box=box.barcode,
                           position=position, code=taken)
    if box is not None and box.id == item.box_id and position in (None, item.box_position):
        raise InvalidInput(N_("档案已在该位置。"))
    move = ItemMove(item_id=item.id, from_box_id=item.box_id, from_position=item.box_position,
                    moved_by=user.username if user else None, note=(note or "").strip() or None)
    if box is None:
        item.box_id = item.box_position = None
    else:
        put_in_box(box, item, position)
    move.to_box_id, move.to_position = item.box_id, item.box_position
    session.add(move)
    mark_changed(item)
    session.flush()
    return move


def update_paper_side(session: Session, user: User | None, item: ArchiveItem, *,
                      declared_pages: int | None, condition: str,
                      remarks: str | None) -> bool:
    """Record the paper original's page count, condition and remarks; True when anything
    changed (the item then goes back to the cross-check queue)."""
    from .privacy import written_back  # privacy reads PaperSide: imported when used

    require_manage(user)
    # the form showed the remarks as the user may read them: a masked number keeps its digits
    remarks = written_back(user, remarks, item.paper_remarks)
    if declared_pages is not None and not 0 < declared_pages <= MAX_PAPER_PAGES:
        raise InvalidInput(N_("纸质页数应为 1–%(max)s。"), max=MAX_PAPER_PAGES)
    if condition not in tuple(PaperCondition):
        raise InvalidInput(N_("纸质状况“%(value)s”无效，可选：%(choices)s。"), value=condition,
                           choices="、".join(PaperCondition))
    remarks = (remarks or "").strip() or None
    check_text(ArchiveItem.paper_remarks, remarks, N_("纸质备注"))
    new = (declared_pages, condition, remarks)
    if new == (item.paper_pages, item.paper_condition, item.paper_remarks):
        return False
    item.paper_pages, item.paper_condition, item.paper_remarks = new
    mark_changed(item)
    session.flush()
    return True
