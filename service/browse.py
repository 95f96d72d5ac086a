"""Listings for the web pages: 库房 → 架 → 节 → 层 → 盒, box contents, customer files.

Everything here filters by what the asking user may see (service.access), so a page
built from these results never shows an item, a count or a customer it should not.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .access import (
    can_print_labels,
    can_see_customer,
    require_manage,
    visibility_for,
    visible_clause,
)
from .audit import record
from .catalogue import create_customer, get_customer, update_customer, visible_customer
from .db import is_row_id
from .edits import NOTHING_CHANGED
from .errors import N_, InvalidInput, NotFound, PermissionDenied
from .locations import (
    BoxContents,
    box_contents,
    create_box,
    ensure_shelf,
    get_box,
    move_box,
)
from .models import (
    ArchiveItem,
    Box,
    Customer,
    Rack,
    Room,
    Section,
    Shelf,
    User,
)
from .users import get_user
from .vocab import CUSTOMER_SECTIONS

# ----------------------------------------------------------------- shelving tree


@dataclass
class ShelfNode:
    id: int
    code: str
    path: str
    boxes: int


@dataclass
class SectionNode:
    id: int
    code: str
    shelves: list[ShelfNode] = field(default_factory=list)


@dataclass
class RackNode:
    id: int
    code: str
    sections: list[SectionNode] = field(default_factory=list)


@dataclass
class RoomNode:
    id: int
    code: str
    name: str
    racks: list[RackNode] = field(default_factory=list)

    @property
    def boxes(self) -> int:
        return sum(sh.boxes for r in self.racks for s in r.sections for sh in s.shelves)


def _natural(code: str) -> tuple:
    return (0, int(code), "") if code.isdigit() else (1, 0, code)


def shelving_tree(session: Session) -> list[RoomNode]:
    """Every room with its racks, sections and shelves, and the number of boxes on each shelf."""
    counts: dict[int | None, int] = dict(session.execute(
        select(Box.shelf_id, func.count(Box.id)).where(Box.shelf_id.is_not(None))
        .group_by(Box.shelf_id)).tuples().all())
    rooms: OrderedDict[int, RoomNode] = OrderedDict()
    for room in session.scalars(select(Room).order_by(Room.code)):
        rooms[room.id] = RoomNode(room.id, room.code, room.name)
    racks: dict[int, RackNode] = {}
    for rack in sorted(session.scalars(select(Rack)), key=lambda r: _natural(r.code)):
        rack_node = RackNode(rack.id, rack.code)
        racks[rack.id] = rack_node
        rooms[rack.room_id].racks.append(rack_node)
    sections: dict[int, SectionNode] = {}
    for sec in sorted(session.scalars(select(Section)), key=lambda s: _natural(s.code)):
        section_node = SectionNode(sec.id, sec.code)
        sections[sec.id] = section_node
        racks[sec.rack_id].sections.append(section_node)
    for sh in sorted(session.scalars(select(Shelf)), key=lambda s: _natural(s.code)):
        sections[sh.section_id].shelves.append(ShelfNode(sh.id, sh.code, sh.path,
                                                         counts.get(sh.id, 0)))
    return list(rooms.values())


def get_room(session: Session, room_id: int) -> Room:
    room = session.get(Room, room_id) if is_row_id(room_id) else None
    if room is None:
        raise NotFound(N_("库房 %(room_id)s 不存在。"), room_id=room_id)
    return room


def room_tree(session: Session, room_id: int) -> RoomNode:
    get_room(session, room_id)
    for node in shelving_tree(session):
        if node.id == room_id:
            return node
    raise NotFound(N_("库房 %(room_id)s 不存在。"), room_id=room_id)


def get_shelf(session: Session, shelf_id: int) -> Shelf:
    shelf = session.get(Shelf, shelf_id) if is_row_id(shelf_id) else None
    if shelf is None:
        raise NotFound(N_("层 %(shelf_id)s 不存在。"), shelf_id=shelf_id)
    return shelf


def all_shelves(session: Session) -> list[Shelf]:
    return sorted(session.scalars(select(Shelf)), key=lambda s: s.path)


@dataclass
class BoxRow:
    box: Box
    items: int


def boxes_on_shelf(session: Session, user: User | None, shelf_id: int) -> list[BoxRow]:
    boxes = list(session.scalars(select(Box).where(Box.shelf_id == shelf_id).order_by(Box.barcode)))
    return [BoxRow(b, len(visible_items_in_box(session, user, b))) for b in boxes]


def unshelved_boxes(session: Session, user: User | None) -> list[BoxRow]:
    boxes = list(session.scalars(select(Box).where(Box.shelf_id.is_(None)).order_by(Box.barcode)))
    return [BoxRow(b, len(visible_items_in_box(session, user, b))) for b in boxes]


def all_boxes(session: Session) -> list[Box]:
    return list(session.scalars(select(Box).order_by(Box.barcode)))


def visible_items_in_box(session: Session, user: User | None, box: Box) -> list[ArchiveItem]:
    return list(session.scalars(select(ArchiveItem).where(
        ArchiveItem.box_id == box.id, visible_clause(visibility_for(user)))
        .order_by(ArchiveItem.archival_code)))


def box_page(session: Session, user: User | None, barcode: str) -> tuple[Box, list[ArchiveItem]]:
    """The box and the items in it that `user` may open (the only ones listed by title)."""
    box = get_box(session, barcode)
    return box, visible_items_in_box(session, user, box)


def box_label(session: Session, user: User | None, barcode: str) -> tuple[Box, BoxContents]:
    """The box and what it physically holds (count, 档号 ranges), the same for every printer."""
    if not can_print_labels(user):
        raise PermissionDenied(N_("只有档案室人员可以打印盒脊标签。"))
    box = get_box(session, barcode)
    return box, box_contents(session, box)


def register_shelf(session: Session, user: User | None, room: str, rack: str, section: str,
                   shelf: str, room_name: str | None = None) -> Shelf:
    require_manage(user)
    return ensure_shelf(session, room.strip(), rack.strip(), section.strip(), shelf.strip(),
                        room_name=(room_name or "").strip() or None)


def register_box(session: Session, user: User | None, barcode: str, *, year: int | None,
                 retention: str | None, org_code: str | None, shelf_id: int | None) -> Box:
    require_manage(user)
    shelf = get_shelf(session, shelf_id) if shelf_id else None
    if org_code is not None and (len(org_code) != 3 or not org_code.isalpha()
                                 or not org_code.isupper()):
        raise InvalidInput(N_("机构代码应为3个大写字母，如 BGS。"))
    return create_box(session, barcode.strip(), year=year, retention=retention or None,
                      org_code=org_code or None, shelf=shelf, actor=user.username if user else None)


def relocate_box(session: Session, user: User | None, barcode: str, shelf_id: int | None,
                 note: str | None = None) -> Box:
    require_manage(user)
    box = get_box(session, barcode)
    shelf = get_shelf(session, shelf_id) if shelf_id else None
    if (shelf.id if shelf else None) == box.shelf_id:
        raise InvalidInput(N_("档案盒已在该位置。"))
    move_box(session, box, shelf, actor=user.username if user else None,
             note=(note or "").strip() or None)
    return box


# ----------------------------------------------------------------- customers


def list_customers(session: Session, user: User | None, q: str = "") -> list[Customer]:
    stmt = select(Customer).order_by(Customer.number)
    q = (q or "").strip()
    if q:
        like = f"%{q}%"
        stmt = stmt.where(Customer.number.ilike(like) | Customer.name.ilike(like))
    return [c for c in session.scalars(stmt) if can_see_customer(user, c)]


def item_counts_by_customer(session: Session, user: User | None,
                            customers: list[Customer]) -> dict[int, int]:
    """Per customer, how many of its items `user` may open (customers with none are left out)."""
    if not customers:
        return {}
    rows = session.execute(
        select(ArchiveItem.customer_id, func.count(ArchiveItem.id))
        .where(ArchiveItem.customer_id.in_([c.id for c in customers]),
               visible_clause(visibility_for(user)))
        .group_by(ArchiveItem.customer_id)).tuples()
    return {customer_id: n for customer_id, n in rows if customer_id is not None}


@dataclass
class CustomerFile:
    customer: Customer
    owner: User | None
    sections: list[tuple[str, str, list[ArchiveItem]]]  # (code, name, items)
    other: list[ArchiveItem]

    @property
    def total(self) -> int:
        return sum(len(s[2]) for s in self.sections) + len(self.other)


def customer_file(session: Session, user: User | None, number: str) -> CustomerFile:
    cust = visible_customer(session, user, number)
    items = list(session.scalars(select(ArchiveItem).where(
        ArchiveItem.customer_id == cust.id, visible_clause(visibility_for(user)))
        .order_by(ArchiveItem.doc_date, ArchiveItem.id)))
    sections = [(code, name, [i for i in items if i.customer_section == code])
                for code, name in CUSTOMER_SECTIONS.items()]
    other = [i for i in items if i.customer_section not in CUSTOMER_SECTIONS]
    owner = session.get(User, cust.owner_id) if cust.owner_id else None
    return CustomerFile(cust, owner, sections, other)


def register_customer(session: Session, user: User | None, number: str, name: str, *,
                      kind: str, grade: str, industry: str | None, contacts: str | None,
                      owner_username: str | None, department: str | None,
                      phone: str | None = None, address: str | None = None) -> Customer:
    require_manage(user)
    if not (name or "").strip():
        raise InvalidInput(N_("客户名称不能为空。"))
    owner = None
    if owner_username:
        owner = get_user(session, owner_username.strip())
    return create_customer(session, number.strip(), name.strip(), kind=kind, grade=grade,
                           industry=(industry or "").strip() or None,
                           contacts=(contacts or "").strip() or None, owner=owner,
                           department=(department or "").strip() or None,
                           phone=(phone or "").strip() or None,
                           address=(address or "").strip() or None)


def edit_customer(session: Session, user: User | None, number: str,
                  values: dict[str, str | None], owner_username: str | None) -> Customer:
    """Change a customer's record (客户档案登记); the change is audited with previous values."""
    require_manage(user)
    owner = get_user(session, owner_username.strip()) if owner_username else None
    changes = update_customer(session, number, values, owner)
    if not changes:
        raise InvalidInput(NOTHING_CHANGED)
    record(session, user.username if user else "cli", "customer.edit", f"customer:{number}",
           {"changes": changes})
    return get_customer(session, number)


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).where(User.active.is_(True)).order_by(User.username)))
