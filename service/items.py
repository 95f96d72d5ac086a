"""The read model of items: an item's catalogue fields, where the paper set is, its files and
pages, how it shows as a search hit, and the catalogue listed by filters alone — for
`dangan show`, the API and the web pages.

Every reader that acts for a user goes through `visible_item` (service.access decides);
no Flask here: the web views call these and render the result.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, bindparam, func, select, tuple_
from sqlalchemy.orm import (
    InstrumentedAttribute,
    Session,
    configure_mappers,
    joinedload,
    object_session,
)

from indexer.search.common import as_list, check_filters, sort_facet
from indexer.search.highlight import find_spans, match_boxes
from indexer.search.query import parse_query
from indexer.search.types import (
    FACET_FIELDS,
    ItemHit,
    SearchRequest,
    SearchResult,
    Visibility,
    clamp_request,
)

from . import clock
from .access import (
    Reader,
    Who,
    handling,
    may_look_up,
    may_open,
    open_decision,
    require_export,
    require_open,
    require_unmasked_copy,
    require_view,
    user_of,
    visible_clause,
    with_grants,
)
from .audit import record
from .audit_actions import AuditAction
from .db import is_row_id
from .errors import N_, NotFound, PermissionDenied
from .locations import box_path, box_path_of
from .models import (
    ArchiveItem,
    Box,
    Category,
    Customer,
    Fonds,
    Page,
    Rack,
    Room,
    Section,
    Shelf,
    StoredFile,
    User,
)
from .models.location import shelf_path
from .privacy import can_see_personal, item_personal_data, masked_words, text_for, title_for
from .twoset import two_sets_json
from .vocab import CUSTOMER_SECTIONS, SETTLED_PAGE_STATUSES, PageStatus, Secrecy

# ----------------------------------------------------------------- finding an item


def get_item(session: Session, item_id: int) -> ArchiveItem:
    item = session.get(ArchiveItem, item_id) if is_row_id(item_id) else None
    if item is None:
        raise NotFound(N_("档案件 %(item_id)s 不存在。"), item_id=item_id)
    return item


def visible_item(session: Session, user: Who, item_id: int) -> ArchiveItem:
    """The item whose catalogue entry the user may see (access.may_look_up), or
    NotFound/PermissionDenied; 绝密 and other users' files never come back. Its content
    (text, pages, files) needs `openable_item`."""
    item = get_item(session, item_id)
    try:
        require_view(user, item)
    except PermissionDenied:
        record_denied(session, user, item, "top_secret" if item.secrecy == Secrecy.TOP_SECRET
                      else "scope")
        raise
    return item


def openable_item(session: Session, who: Who, item_id: int) -> ArchiveItem:
    """The item whose content (text, page images, thumbnails) the reader may open
    (access.may_open), or PermissionDenied saying why and what to do (the refusal audited)."""
    item = visible_item(session, who, item_id)
    decision = open_decision(who, item)
    if not decision.allowed:
        record_denied(session, who, item, decision.remedy or "scope")
    require_open(who, item)
    return item


def record_denied(session: Session, who: Who, item: ArchiveItem, reason: str,
                  detail: dict | None = None) -> None:
    """Audit a refused attempt to open an item (view.denied), on every path: the item page,
    its page images and downloads, the API. Committed at once, because the refusal that
    follows rolls the rest of the request's work back and the record must stay. A 绝密
    item is named by its id only: the trail is read by the administrator, who may not
    learn its 档号 either."""
    record_access(session, who, AuditAction.ITEM_VIEW_DENIED, item,
                  {"reason": reason, **(detail or {})},
                  named=item.secrecy != Secrecy.TOP_SECRET)
    session.commit()


def get_page(item: ArchiveItem, n: int) -> Page:
    for p in item.pages:
        if p.n == n:
            return p
    raise NotFound(N_("第 %(n)s 页不存在。"), n=n)


# ----------------------------------------------------------------- fields, location, files, pages


def progress(item: ArchiveItem) -> dict:
    pages = item.pages
    done = sum(1 for p in pages if p.status in SETTLED_PAGE_STATUSES)
    return {"pages_done": done, "pages_total": len(pages),
            "pages_failed": sum(1 for p in pages if p.status == PageStatus.FAILED)}


def item_summary(item: ArchiveItem, who: Who = None) -> dict:
    """The item's progress as `who` reads it (None: the operator)."""
    return {"id": item.id, "archival_code": item.archival_code, "title": title_for(who, item),
            "status": item.status, "pages": len(item.pages), **progress(item)}


def location(item: ArchiveItem) -> dict | None:
    """Where the paper set is: its box and the box's shelf, or None when not boxed."""
    box = item.box
    if box is None:
        return None
    shelf = box.shelf
    return {
        "box": box.barcode, "path": box_path(box),
        "room": shelf.section.rack.room.name if shelf else None,
        "rack": shelf.section.rack.code if shelf else None,
        "section": shelf.section.code if shelf else None,
        "shelf": shelf.code if shelf else None,
    }


def _readable_fields(who: Who, item: ArchiveItem) -> dict[str, str | None]:
    """The item's title, 文号, 责任者 and remarks as `who` may read them (privacy.text_for)."""
    return {name: text_for(who, getattr(item, name))
            for name in ("title", "doc_number", "responsible", "remarks")}


def catalogue_entry_json(item: ArchiveItem, who: Who) -> dict:
    """What a reader who may look an item up but not open it gets: the catalogue entry and
    where the paper is, never its files, storage keys or pages; `content_withheld` says why
    and `remedy` what to do (access.open_decision)."""
    decision = open_decision(who, item)
    fields = _readable_fields(who, item)
    return {
        "id": item.id, "archival_code": item.archival_code, "title": fields["title"],
        "fonds": item.fonds.code, "category": item.category.code, "year": item.year,
        "retention": item.retention, "org": item.org_code, "item_no": item.item_no,
        "doc_number": fields["doc_number"], "responsible": fields["responsible"],
        "date": item.doc_date.isoformat() if item.doc_date else None,
        "secrecy": item.secrecy, "paper_pages": item.paper_pages, "status": item.status,
        "id_copies": bool(item.id_copies),
        "location": location(item), "content_withheld": decision.reason,
        "remedy": decision.remedy,
    }


def item_to_json(item: ArchiveItem, who: Who = None, *, with_text: bool = True) -> dict:
    """Everything about an item: catalogue fields, paper set location, electronic set, as
    `who` may read them (None: the operator): ID and mobile numbers in the page texts and
    the catalogue fields masked for a reader without the privacy right (privacy.text_for).
    The page texts leave only when the item's secrecy lets its content be exported (not 机密
    or 绝密, see `access.handling`); otherwise `text_withheld` says why.
    """
    rule = handling(item)
    with_text = with_text and rule.export

    def page_text(text: str | None) -> str:
        return text_for(who, text) or ""

    two_sets = two_sets_json(object_session(item), item)
    two_sets["paper"]["remarks"] = text_for(who, two_sets["paper"]["remarks"])
    return {
        **_readable_fields(who, item),
        "id": item.id,
        "archival_code": item.archival_code,
        "fonds": item.fonds.code,
        "fonds_name": item.fonds.name,
        "category": item.category.code,
        "category_name": item.category.name,
        "year": item.year,
        "retention": item.retention,
        "org": item.org_code,
        "item_no": item.item_no,
        "date": item.doc_date.isoformat() if item.doc_date else None,
        "secrecy": item.secrecy,
        "id_copies": bool(item.id_copies),
        "paper_pages": item.paper_pages,
        "customer": ({"number": item.customer.number, "name": item.customer.name,
                      "section": item.customer_section,
                      "section_name": CUSTOMER_SECTIONS.get(item.customer_section or "")}
                     if item.customer else None),
        "department": item.department,
        "status": item.status,
        "status_reason": item.status_reason,
        "progress": progress(item),
        "location": location(item),
        "two_sets": two_sets,
        "created_at": item.created_at.isoformat(),
        "files": [{"key": f.key, "sha256": f.sha256, "size": f.size, "role": f.role,
                   "name": f.original_name, "format": f.format, "pages": f.page_count,
                   "status": f.status, "error": f.error_reason} for f in item.files],
        "pages": [{"n": p.n, "status": p.status, "source": p.source, "blank": p.blank,
                   "turn": p.turn or 0, "file": p.file.sha256, "file_page": p.file_page,
                   "confidence": round(p.confidence, 1) if p.confidence is not None else None,
                   "error": p.error if p.status == PageStatus.FAILED else None,
                   **({"text": page_text(p.text)} if with_text else {})} for p in item.pages],
        **({} if rule.export else {"text_withheld": rule.reason}),
    }


# ----------------------------------------------------------------- files, page text, hits


def downloadable_file(session: Session, user: Who, item_id: int,
                      file_id: int) -> StoredFile:
    item = openable_item(session, user, item_id)
    require_export(user, item)
    f = session.get(StoredFile, file_id)
    if f is None or f not in source_files(item) and f.role == "original":
        raise NotFound(N_("文件 %(file_id)s 不存在。"), file_id=file_id)
    if f.role != "original" and f.item_id != item.id:
        raise NotFound(N_("文件 %(file_id)s 不存在。"), file_id=file_id)
    if f.role != "searchable_pdf":
        # the scans as they are show ID and mobile numbers unmasked (the searchable PDF is
        # handed out with them covered: service.page_render.masked_download)
        require_unmasked_copy(user, item_personal_data(item))
    return f


def source_files(item: ArchiveItem) -> list[StoredFile]:
    """The originals the item's pages are drawn from: its own, and after a split or merge
    those of the item the pages came from (never copied, never altered)."""
    out = [f for f in item.files if f.role == "original"]
    for p in item.pages:
        if p.file not in out:
            out.append(p.file)
    return out


def hit_boxes(page: Page, q: str | None, who: Who) -> list[dict[str, int]]:
    """Boxes (page-image coordinates) of the OCR words matching the query on this page, as
    the user may read the words (a masked number is never outlined: no search oracle)."""
    if not q or not page.words or not may_open(who, page.item):
        return []
    return merge_boxes(match_boxes(readable_words(user_of(who), page.words),
                                   parse_query(q).positive_phrases()))


def readable_words(user: User | None, words: list[dict]) -> list[dict]:
    """OCR words with personal numbers masked for users who may not see them; a number
    split over several words (138 1234 5678) is masked as the page text is."""
    if can_see_personal(user) or not words:
        return words
    return masked_words(words)


def merge_boxes(boxes: list[dict[str, int]]) -> list[dict[str, int]]:
    """Join boxes of neighbouring words on one line, so a phrase is outlined once."""
    out: list[dict[str, int]] = []
    for b in sorted(boxes, key=lambda b: b["x"]):
        for last in out:
            top, bottom = max(last["y"], b["y"]), min(last["y"] + last["h"], b["y"] + b["h"])
            same_line = bottom - top > 0.5 * min(last["h"], b["h"])
            gap = b["x"] - (last["x"] + last["w"])
            if same_line and gap <= 0.8 * max(last["h"], b["h"]):
                x, y = min(last["x"], b["x"]), min(last["y"], b["y"])
                last.update(x=x, y=y, w=max(last["x"] + last["w"], b["x"] + b["w"]) - x,
                            h=max(last["y"] + last["h"], b["y"] + b["h"]) - y)
                break
        else:
            out.append(dict(b))
    return out


def text_segments(text: str | None, q: str | None) -> list[tuple[str, bool]]:
    """The page text cut into (piece, is_match) for rendering with autoescape."""
    text = text or ""
    if not q or not text:
        return [(text, False)] if text else []
    spans = find_spans(text, parse_query(q).positive_phrases())
    out: list[tuple[str, bool]] = []
    pos = 0
    for s, e in spans:
        if s > pos:
            out.append((text[pos:s], False))
        out.append((text[s:e], True))
        pos = e
    if pos < len(text):
        out.append((text[pos:], False))
    return out


def pages_with_matches(item: ArchiveItem, q: str | None, who: Who) -> list[int]:
    """Pages whose text, as the user may read it, matches the query (none for an item the
    reader may not open: that would confirm words in it)."""
    if not q or not may_open(who, item):
        return []
    user = user_of(who)
    phrases = parse_query(q).positive_phrases()
    return [p.n for p in item.pages if p.text and find_spans(text_for(user, p.text) or "", phrases)]


@dataclass
class HitRow:
    """Catalogue details shown beside a search hit."""

    id: int
    customer: str | None
    customer_number: str | None
    secrecy: str
    location: str | None
    category: str
    year: int
    status: str
    thumb_page: int | None
    date: str | None
    category_code: str = ""
    #: The reader may open the content; otherwise only the catalogue entry is shown, with
    #: `remedy` (access.Decision: "loan" links to 申请借阅) and no thumbnail or snippet.
    openable: bool = True
    remedy: str | None = None
    #: Held for deletion until then (listed only for the archive's roles, marked).
    deletion_due: datetime | None = None


#: The columns of an item the access rules read (`may_look_up`, `open_decision` and what
#: they call: secrecy, scope, disposal, ID copies). `hit_rows` decides on an item made of
#: these alone (`_rule_item`); tests/service/test_hit_rows_rules.py fails if a rule reads
#: any other column.
_RULE_COLUMNS = ("id", "secrecy", "owner_id", "department", "deletion_due_at", "status",
                 "id_copies")
_NEW_ITEM = ArchiveItem.__mapper__.class_manager.new_instance
_ITEM = ArchiveItem.__table__.c
_PAGE = Page.__table__.c
_THUMBED = Page.__table__.alias("thumbed").c
#: An item's first page that has a thumbnail.
_FIRST_THUMB = select(func.min(_THUMBED.n)).where(
    _THUMBED.item_id == _ITEM.id, _THUMBED.thumb_key.is_not(None)).scalar_subquery()
#: The item's wanted page (its best hit: the (item, page) pairs bound as "wanted") when that
#: page has a thumbnail.
_WANTED_THUMB = select(_PAGE.n).where(
    _PAGE.item_id == _ITEM.id, _PAGE.thumb_key.is_not(None),
    tuple_(_PAGE.item_id, _PAGE.n).in_(bindparam("wanted", expanding=True))).scalar_subquery()

#: The hits' items: the columns the access rules read, then what their rows show (year, date,
#: category, customer, the box and its shelf's parts for the path, the thumbnail pages), as
#: plain columns in one statement: no chain of related objects loaded per hit (built once:
#: making the statement costs more than running it).
_HIT_ITEMS = (
    select(*(_ITEM[name] for name in _RULE_COLUMNS), _ITEM.year, _ITEM.doc_date,
           Category.name, Category.code, Customer.name, Customer.number, Box.barcode,
           Room.name, Rack.code, Section.code, Shelf.code, _WANTED_THUMB, _FIRST_THUMB)
    .select_from(ArchiveItem.__table__)
    .join(Category, _ITEM.category_id == Category.id)
    .outerjoin(Customer, _ITEM.customer_id == Customer.id)
    .outerjoin(Box, _ITEM.box_id == Box.id)
    .outerjoin(Shelf, Box.shelf_id == Shelf.id)
    .outerjoin(Section, Shelf.section_id == Section.id)
    .outerjoin(Rack, Section.rack_id == Rack.id)
    .outerjoin(Room, Rack.room_id == Room.id)
    .where(_ITEM.id.in_(bindparam("ids", expanding=True))))


def _rule_item(values: Sequence[Any]) -> ArchiveItem:
    """An unsaved item holding only `_RULE_COLUMNS` (these values, in that order): what the
    access rules need to decide on a hit. Made as the ORM's loader makes the items it loads
    (no __init__, the values put in place without change events), at a tenth of the cost of
    the constructor; never added to a session. The mappers must be configured (the
    constructor would do it): `hit_rows` sees to that."""
    item = _NEW_ITEM()
    item.__dict__.update(zip(_RULE_COLUMNS, values, strict=True))
    return item


def _hit_location(barcode: str | None, room: str | None, rack: str | None,
                  section: str | None, shelf: str | None) -> str | None:
    """`box_path` of a hit's box from the columns `_HIT_ITEMS` reads."""
    if barcode is None:
        return None
    if room is None or rack is None or section is None or shelf is None:
        return box_path_of(barcode, None)
    return box_path_of(barcode, shelf_path(room, rack, section, shelf))


def hit_rows(session: Session, user: Who, ids: list[int],
             pages: dict[int, int | None]) -> dict[int, HitRow]:
    """Details for the hits the user may see (a stale index entry is dropped, not shown);
    a thumbnail only of an item the reader may open: the wanted page (the best hit) when it
    has one, else its first page that has one.

    One query whatever the number of hits, read as plain rows (`_HIT_ITEMS`); the reader's
    grants are read once (`with_grants`), so no decision asks the catalogue."""
    if not ids:
        return {}
    reader = with_grants(session, user)
    configure_mappers()  # for _rule_item; at once when they are (as after the first query)
    if session.autoflush:  # a Core statement does not flush the session as the ORM's do
        session.flush()
    wanted = [(i, n) for i, n in pages.items() if n is not None]
    width = len(_RULE_COLUMNS)
    out: dict[int, HitRow] = {}
    for row in session.connection().execute(_HIT_ITEMS, {"ids": ids, "wanted": wanted}):
        item = _rule_item(row[:width])
        if not may_look_up(reader, item):
            continue
        (year, doc_date, category, category_code, customer, customer_number, barcode, room,
         rack, section, shelf, wanted_thumb, first_thumb) = row[width:]
        decision = open_decision(reader, item)
        out[item.id] = HitRow(
            id=item.id, customer=customer, customer_number=customer_number,
            secrecy=item.secrecy, location=_hit_location(barcode, room, rack, section, shelf),
            category=category, year=year, status=item.status,
            thumb_page=(wanted_thumb if wanted_thumb is not None else first_thumb)
            if decision.allowed else None,
            date=doc_date.isoformat() if doc_date else None,
            category_code=category_code, openable=decision.allowed,
            remedy=decision.remedy,
            deletion_due=clock.aware(item.deletion_due_at) if item.deletion_due_at else None)
    return out


def record_access(session: Session, who: Who, action: str, item: ArchiveItem,
                  detail: dict | None = None, *, named: bool = True) -> None:
    """Audit a view or download of an item (at a reading-room workstation: which);
    `named`: with its 档号."""
    user = user_of(who)
    where = {"workstation": who.workstation} if isinstance(who, Reader) and who.workstation \
        else {}
    code = {"archival_code": item.archival_code} if named else {}
    record(session, user.username if user else "cli", action, f"item:{item.id}",
           {**code, **where, **(detail or {})})


def recent_items(session: Session, user: Who, limit: int = 10) -> list[ArchiveItem]:
    """The newest items whose catalogue entry the user may see (the search page's start)."""
    out: list[ArchiveItem] = []
    stmt = select(ArchiveItem).order_by(ArchiveItem.id.desc()).limit(500)
    for item in session.scalars(stmt):
        if may_look_up(user, item):
            out.append(item)
            if len(out) >= limit:
                break
    return out


# ----------------------------------------------------------------- listing items by filters


def _box_paths(session: Session) -> dict[int, str]:
    """Every box's location path (as the search index holds it), by box id."""
    boxes = session.scalars(select(Box).options(
        joinedload(Box.shelf).joinedload(Shelf.section).joinedload(Section.rack)
        .joinedload(Rack.room)))
    return {b.id: box_path(b) or "" for b in boxes}


def _listing(session: Session, vis: Visibility,
             filters: dict) -> tuple[Callable[..., Select[Any]], dict[int, str] | None]:
    """The catalogue entries the filters and the visibility rule admit, as `scoped(*cols)`
    selecting those columns of them (and the box paths, when the location filter read them)."""
    filters = check_filters(filters)
    paths: dict[int, str] | None = None
    conds = [visible_clause(vis)]
    simple = {"fonds": Fonds.code, "category": Category.code, "retention": ArchiveItem.retention,
              "secrecy": ArchiveItem.secrecy, "status": ArchiveItem.status,
              "customer": Customer.number, "box": Box.barcode}
    for key, col in simple.items():
        if key in filters:
            conds.append(col.in_(as_list(filters[key])))
    if "location" in filters:
        paths = _box_paths(session)
        wanted = set(as_list(filters["location"]))
        conds.append(ArchiveItem.box_id.in_(sorted(i for i, p in paths.items() if p in wanted)))
    if "year_from" in filters:
        conds.append(ArchiveItem.year >= int(filters["year_from"]))
    if "year_to" in filters:
        conds.append(ArchiveItem.year <= int(filters["year_to"]))

    def scoped(*cols: Any) -> Select[Any]:
        return (select(*cols).select_from(ArchiveItem).join(Fonds).join(Category)
                .outerjoin(Customer, ArchiveItem.customer_id == Customer.id)
                .outerjoin(Box, ArchiveItem.box_id == Box.id).where(*conds))

    return scoped, paths


#: Where a keyset walk of the listing stands: the last entry's 档号, or its date and id.
ListingKey = tuple[Any, ...]


def catalogue_after(session: Session, vis: Visibility, filters: dict, sort: str,
                    after: ListingKey | None, limit: int) -> tuple[list[int], ListingKey | None]:
    """The next `limit` entries of the listing `browse_catalogue` pages, after the entry whose
    key is `after` (None: from the first), and the key to go on from (None: the end).

    Keyset paging: each call is a range of an index (档号, or date and id), never an OFFSET
    past the entries before it, so walking a whole listing (an export) costs time linear
    in its length."""
    scoped, _ = _listing(session, vis, filters)
    cols = (ArchiveItem.id, ArchiveItem.archival_code, ArchiveItem.doc_date)
    if sort in ("date_desc", "date_asc"):
        rows = _by_date_after(session, scoped(*cols), sort == "date_desc", after, limit)
        return [r[0] for r in rows], (rows[-1][2], rows[-1][0]) if len(rows) == limit else None
    q = scoped(*cols).order_by(ArchiveItem.archival_code)
    if after is not None:
        q = q.where(ArchiveItem.archival_code > after[0])
    rows = list(session.execute(q.limit(limit)))
    return [r[0] for r in rows], (rows[-1][1],) if len(rows) == limit else None


def _by_date_after(session: Session, q: Select[Any], desc: bool, after: ListingKey | None,
                   limit: int) -> list[Row[Any]]:
    """`catalogue_after` by date: the dated entries by (date, id), then the undated by id
    (browse_catalogue's order); a key (date, id) or (None, id) says which part it is in."""
    rows: list[Row[Any]] = []
    if after is None or after[0] is not None:
        dated = q.where(ArchiveItem.doc_date.is_not(None))
        if after is not None:
            key = tuple_(ArchiveItem.doc_date, ArchiveItem.id)
            dated = dated.where(key < after if desc else key > after)
        order = (ArchiveItem.doc_date, ArchiveItem.id)
        rows = list(session.execute(dated.order_by(*(c.desc() if desc else c.asc()
                                                     for c in order)).limit(limit)))
    if len(rows) < limit:
        undated = q.where(ArchiveItem.doc_date.is_(None))
        if after is not None and after[0] is None:
            undated = undated.where(ArchiveItem.id < after[1] if desc
                                    else ArchiveItem.id > after[1])
        rows += session.execute(undated.order_by(ArchiveItem.id.desc() if desc
                                                 else ArchiveItem.id).limit(limit - len(rows)))
    return rows


def browse_catalogue(session: Session, vis: Visibility, filters: dict, *, sort: str = "code",
                     page: int = 1, per_page: int = 20, facets: bool = False) -> SearchResult:
    """The catalogue listed by filters alone (no search words), as a SearchResult.

    It reads the catalogue, not the index, so items still being scanned are listed too;
    the visibility rule is the engines' (access.visible_clause), so totals and facet
    counts cover only what the user may see (never 绝密).
    """
    offset, limit = clamp_request(SearchRequest(q="", visibility=vis, page=page,
                                                per_page=per_page))
    scoped, paths = _listing(session, vis, filters)
    total = session.scalar(scoped(func.count(ArchiveItem.id))) or 0
    if sort in ("date_desc", "date_asc"):
        desc = sort == "date_desc"
        order: list[ColumnElement[Any] | InstrumentedAttribute[Any]] = [
            ArchiveItem.doc_date.is_(None),
            ArchiveItem.doc_date.desc() if desc else ArchiveItem.doc_date.asc(),
            ArchiveItem.id.desc() if desc else ArchiveItem.id.asc()]
    else:
        order = [ArchiveItem.archival_code, ArchiveItem.id]
    rows = session.execute(scoped(ArchiveItem.id, ArchiveItem.archival_code, ArchiveItem.title)
                           .order_by(*order).offset(offset).limit(limit)).all()
    hits = [ItemHit(id=r[0], archival_code=r[1], title=r[2], score=0.0, pages=[]) for r in rows]
    out: dict[str, dict[str, int]] = {}
    if facets:
        cols: dict[str, InstrumentedAttribute[Any]] = {"fonds": Fonds.code, "category": Category.code, "year": ArchiveItem.year,
                "retention": ArchiveItem.retention, "secrecy": ArchiveItem.secrecy,
                "status": ArchiveItem.status, "customer": Customer.number,
                "location": ArchiveItem.box_id}
        for name in FACET_FIELDS:
            col = cols[name]
            counts: dict[Any, int] = dict(
                session.execute(scoped(col, func.count(ArchiveItem.id)).group_by(col)).tuples().all())
            if name == "location":
                paths = paths if paths is not None else _box_paths(session)
                by_path: dict[str, int] = {}
                for box_id, n in counts.items():
                    if box_id is not None and paths.get(box_id):
                        by_path[paths[box_id]] = by_path.get(paths[box_id], 0) + n
                counts = by_path
            out[name] = sort_facet({str(k): n for k, n in counts.items() if k not in (None, "")})
    return SearchResult(total=total, hits=hits, facets=out)
