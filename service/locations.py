"""Physical locations: shelving paths and boxes with their dated move history."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, object_session

from .codes import RETENTIONS, ArchivalCode, format_code, parse_code
from .errors import N_, Conflict, InvalidInput, Listing, Message, NotFound, msg
from .fields import check_text
from .models import ArchiveItem, Box, BoxMove, Rack, Room, Section, Shelf

_BARCODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")
#: The note of a box's first move onto a shelf: a message id, translated where it is shown
#: (notes typed by people are shown as they were written).
SHELVED = N_("入库")


def ensure_shelf(session: Session, room: str, rack: str, section: str, shelf: str,
                 room_name: str | None = None) -> Shelf:
    """Find or create the 库房/架/节/层 path (codes are short labels like `A`, `3`)."""
    for label, value in ((N_("库房编号"), room), (N_("架编号"), rack), (N_("节编号"), section),
                         (N_("层编号"), shelf)):
        field = Message(label)
        if not value or len(value) > 20:
            raise InvalidInput(N_("%(field)s不能为空且不超过20个字符。"), field=field)
        check_text(Room.code, value, field)
    check_text(Room.name, room_name, N_("库房名称"))
    r = _find_or_add(session, Room, {"code": room}, name=room_name or f"{room}库房")
    k = _find_or_add(session, Rack, {"room_id": r.id, "code": rack})
    sec = _find_or_add(session, Section, {"rack_id": k.id, "code": section})
    return _find_or_add(session, Shelf, {"section_id": sec.id, "code": shelf})


def _find_or_add(session: Session, model: type, keys: dict, **extra: object) -> Any:
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
        raise NotFound(N_("盒条码“%(barcode)s”不存在，请先登记该档案盒。"), barcode=barcode)
    return box


def create_box(session: Session, barcode: str, *, year: int | None = None,
               retention: str | None = None, org_code: str | None = None,
               shelf: Shelf | None = None, actor: str | None = None) -> Box:
    if not _BARCODE_RE.match(barcode or ""):
        raise InvalidInput(N_("盒条码“%(barcode)s”无效：只能含字母、数字、点、横线，最多40个字符。"), barcode=barcode)
    if retention is not None and retention not in RETENTIONS:
        raise InvalidInput(N_("保管期限应为 Y、D30 或 D10。"))
    if year is not None and not 1900 <= year <= date.today().year:
        raise InvalidInput(N_("年度“%(year)s”无效：应为 1900 至今年的4位年份。"), year=year)
    if session.scalar(select(Box).where(Box.barcode == barcode)):
        raise Conflict(N_("盒条码“%(barcode)s”已存在。"), barcode=barcode)
    box = Box(barcode=barcode, year=year, retention=retention, org_code=org_code)
    session.add(box)
    session.flush()
    if shelf is not None:
        move_box(session, box, shelf, actor=actor, note=SHELVED)
    return box


def move_box(session: Session, box: Box, shelf: Shelf | None, *, actor: str | None = None,
             note: str | None = None) -> BoxMove:
    """Record a move; the box's current shelf is the newest entry of its history."""
    box.shelf_id = shelf.id if shelf else None
    move = BoxMove(box_id=box.id, shelf_id=box.shelf_id, moved_by=actor, note=note)
    session.add(move)
    session.flush()
    return move


UNSHELVED = "未上架"
#: Reads back what Shelf.path and box_path write, for showing it in another language.
_PATH_RE = re.compile(r"^(?:(?P<room>.+)/(?P<rack>[^/]+)架/(?P<section>[^/]+)节/(?P<shelf>[^/]+)层"
                      rf"|{UNSHELVED})(?:/盒 (?P<box>.+))?$")


def box_path(box: Box | None) -> str | None:
    """`A库房/3架/2节/4层/盒 BOX-0001` (`未上架/盒 …` when not shelved); None without a box."""
    if box is None:
        return None
    return box_path_of(box.barcode, box.shelf.path if box.shelf is not None else None)


def box_path_of(barcode: str, shelf_path: str | None) -> str:
    """`box_path` from the box's barcode and its shelf's path (None: not shelved), for code
    that reads them as plain columns (service.items.hit_rows)."""
    return f"{shelf_path if shelf_path is not None else UNSHELVED}/盒 {barcode}"


def path_parts(path: str) -> dict[str, str | None] | None:
    """The parts of a stored shelf path or box_path: room (name), rack, section, shelf, box;
    the shelf parts are None for an unshelved box. None for any other text."""
    m = _PATH_RE.match(path or "")
    return m.groupdict() if m else None


def check_box_fits(box: Box, year: int, retention: str, org: str | None) -> None:
    """A box holds items of one year, one retention and one organisation (DESIGN).

    An item fits when it agrees with what the box was registered for and with every item
    already in it, so a box registered without these attributes still never mixes them
    (an item without an organisation code does not share a box with one that has one).
    Items of several categories may share a box; its label prints one 档号 range each.
    """
    clashes: list[Message] = []
    session = object_session(box)
    held = set() if session is None or box.id is None else set(session.execute(
        select(ArchiveItem.year, ArchiveItem.retention, ArchiveItem.org_code)
        .where(ArchiveItem.box_id == box.id).distinct()).all())
    years = {y for y, _, _ in held} | ({box.year} if box.year is not None else set())
    retentions = {r for _, r, _ in held} | ({box.retention} if box.retention is not None else set())
    orgs = {o for _, _, o in held} | ({box.org_code} if box.org_code is not None else set())
    none = Message(N_("（无）"))
    if years - {year}:
        clashes.append(msg(N_("年度 %(values)s"), values=Listing(sorted(years))))
    if retentions - {retention}:
        clashes.append(msg(N_("保管期限 %(values)s"), values=Listing(sorted(retentions))))
    if orgs - {org}:
        clashes.append(msg(N_("机构 %(values)s"), values=Listing(
            [o or none for o in sorted(orgs, key=lambda o: o or "")])))
    if clashes:
        raise InvalidInput(N_("档案盒 %(barcode)s 只装 %(clashes)s 的档案，与本件不符"
                              "（年度 %(year)s、保管期限 %(retention)s、机构 %(org)s）。"),
                           barcode=box.barcode, clashes=Listing(clashes), year=year,
                           retention=retention, org=org or none)


def next_position(box: Box) -> int:
    """The position (盒内序号) after the last item in the box."""
    session = object_session(box)
    if session is None or box.id is None:
        return 1
    with session.no_autoflush:
        last = session.scalar(select(func.max(ArchiveItem.box_position))
                              .where(ArchiveItem.box_id == box.id))
    return (last or 0) + 1


def put_in_box(box: Box, item: ArchiveItem, position: int | None = None) -> None:
    """Place `item` in `box` (at `position`, or after the last item): the one path for
    every write that fills a box.

    Checks the box's rule, then records on the box the year, retention and organisation
    it now holds when it was registered without them, so its page and label show them.
    """
    check_box_fits(box, item.year, item.retention, item.org_code)
    item.box_position = position if position is not None else next_position(box)
    item.box_id = box.id
    if box.year is None:
        box.year = item.year
    if box.retention is None:
        box.retention = item.retention
    if box.org_code is None and item.org_code is not None:
        box.org_code = item.org_code


@dataclass(frozen=True)
class CodeRange:
    """First and last 档号 of one series (全宗-门类·年度-期限-机构) in a box."""

    first: str
    last: str
    count: int


@dataclass(frozen=True)
class BoxContents:
    """What a box physically holds, whoever asks: for its spine label and paperwork."""

    count: int
    ranges: list[CodeRange]


def box_contents(session: Session, box: Box) -> BoxContents:
    """Every item in the box (any secrecy, any status), one 档号 range per series.

    A range is only meaningful within one series, so items of two categories (or fonds)
    in the same box give two ranges instead of one that runs across them.
    """
    items = session.execute(select(ArchiveItem.archival_code).where(
        ArchiveItem.box_id == box.id)).scalars().all()
    series: dict[str, list[ArchivalCode]] = {}
    for text in items:
        code = parse_code(text)
        series.setdefault(code.group_key, []).append(code)
    ranges = []
    for key in sorted(series):
        codes = sorted(series[key], key=lambda c: c.item_no)
        ranges.append(CodeRange(format_code(codes[0]), format_code(codes[-1]), len(codes)))
    return BoxContents(count=len(items), ranges=ranges)
