"""Physical locations: shelving paths and boxes with their dated move history."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from .codes import RETENTIONS
from .errors import Conflict, InvalidInput, NotFound
from .models import Box, BoxMove, Rack, Room, Section, Shelf

_BARCODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")


def ensure_shelf(session: Session, room: str, rack: str, section: str, shelf: str,
                 room_name: str | None = None) -> Shelf:
    """Find or create the 库房/架/节/层 path (codes are short labels like `A`, `3`)."""
    for label, value in (("库房", room), ("架", rack), ("节", section), ("层", shelf)):
        if not value or len(value) > 20:
            raise InvalidInput(f"{label}编号不能为空且不超过20个字符。/ {label} code must be 1–20 characters.")
    r = _find_or_add(session, Room, {"code": room}, name=room_name or f"{room}库房")
    k = _find_or_add(session, Rack, {"room_id": r.id, "code": rack})
    sec = _find_or_add(session, Section, {"rack_id": k.id, "code": section})
    return _find_or_add(session, Shelf, {"section_id": sec.id, "code": shelf})


def _find_or_add(session: Session, model: type, keys: dict, **extra: object):  # type: ignore[no-untyped-def]
    """The row of `model` matching `keys`, created (with `extra`) when missing."""
    row = session.scalar(select(model).filter_by(**keys))
    if row is None:
        row = model(**keys, **extra)
        session.add(row)
        session.flush()
    return row


def get_box(session: Session, barcode: str) -> Box:
    box = session.scalar(select(Box).where(Box.barcode == barcode))
    if box is None:
        raise NotFound(f"盒条码“{barcode}”不存在，请先登记该档案盒。/ Unknown box barcode {barcode!r}.")
    return box


def create_box(session: Session, barcode: str, *, year: int | None = None,
               retention: str | None = None, org_code: str | None = None,
               shelf: Shelf | None = None, actor: str | None = None) -> Box:
    if not _BARCODE_RE.match(barcode or ""):
        raise InvalidInput(f"盒条码“{barcode}”无效：只能含字母、数字、点、横线，最多40个字符。/ "
                           "Invalid box barcode: letters, digits, '.', '-' and '_' only, up to 40.")
    if retention is not None and retention not in RETENTIONS:
        raise InvalidInput("保管期限应为 Y、D30 或 D10。/ Retention must be Y, D30 or D10.")
    if session.scalar(select(Box).where(Box.barcode == barcode)):
        raise Conflict(f"盒条码“{barcode}”已存在。/ Box {barcode!r} already exists.")
    box = Box(barcode=barcode, year=year, retention=retention, org_code=org_code)
    session.add(box)
    session.flush()
    if shelf is not None:
        move_box(session, box, shelf, actor=actor, note="入库 / shelved")
    return box


def move_box(session: Session, box: Box, shelf: Shelf | None, *, actor: str | None = None,
             note: str | None = None) -> BoxMove:
    """Record a move; the box's current shelf is the newest entry of its history."""
    box.shelf_id = shelf.id if shelf else None
    move = BoxMove(box_id=box.id, shelf_id=box.shelf_id, moved_by=actor, note=note)
    session.add(move)
    session.flush()
    return move


def box_path(box: Box | None) -> str | None:
    """`A库房/3架/2节/4层/盒 BOX-0001`, or None when the box is not shelved."""
    if box is None:
        return None
    where = box.shelf.path if box.shelf is not None else "未上架"
    return f"{where}/盒 {box.barcode}"


def check_box_fits(box: Box, year: int, retention: str, org: str | None) -> None:
    """A box holds items of one year, one retention and one organisation."""
    clashes = []
    if box.year is not None and box.year != year:
        clashes.append(f"年度 {box.year}")
    if box.retention is not None and box.retention != retention:
        clashes.append(f"保管期限 {box.retention}")
    if box.org_code is not None and org is not None and box.org_code != org:
        clashes.append(f"机构 {box.org_code}")
    if clashes:
        raise InvalidInput(f"档案盒 {box.barcode} 只装 {'、'.join(clashes)} 的档案，与本件不符。/ "
                           f"Box {box.barcode} holds items of another year/retention/organisation.")
