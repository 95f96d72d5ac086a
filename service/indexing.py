"""Keeping the search index in step with the catalogue, in the same unit of work.

Every search document carries catalogue fields (档号, title, customer, box, location path,
secrecy, …), so a change to any of them must reach the index when the change is committed,
whoever makes it (a box moved, an item put in a box, a shelf or customer renamed). Instead
of each use case remembering to reindex, a catalogue session opened by `Archive.session()`
notes the items such a change touches (at flush) and brings their index entries up to date:

* embedded SQLite FTS5 (index inside the catalogue database): in the same transaction,
  just before it commits, so the catalogue and the index commit or roll back together;
* Elasticsearch (not transactional): right after the commit. Should that fail, the entry
  is merely stale; `dangan check --index` reports it and `dangan reindex` mends it.

An item is reindexed only when its fingerprint (service.search_docs.item_fingerprint)
differs from the one in the index, so a use case that already indexed explicitly (the
page pipeline) costs one fingerprint comparison, not a second indexing.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session

from indexer.search.types import PageDoc

from .models import ArchiveItem, Box, Category, Customer, Fonds, Rack, Room, Section, Shelf
from .search_docs import item_fingerprint, page_docs, searchable

if TYPE_CHECKING:
    from .archive import Archive

log = logging.getLogger(__name__)

#: session.info keys: the archive whose index follows the session, and the pending item ids
ARCHIVE_KEY = "dangan_archive"
_PENDING = "dangan_reindex_items"

#: Columns of the rows copied into search documents, per model (changes elsewhere, such as
#: an item's remarks or updated_at, are not indexed and cost nothing).
_INDEXED: dict[type, frozenset[str]] = {
    Box: frozenset({"barcode", "shelf_id"}),
    Shelf: frozenset({"code", "section_id"}),
    Section: frozenset({"code", "rack_id"}),
    Rack: frozenset({"code", "room_id"}),
    Room: frozenset({"code", "name"}),
    Customer: frozenset({"number", "name"}),
    Fonds: frozenset({"code"}),
    Category: frozenset({"code"}),
}


def _changed(obj: Any, names: frozenset[str] | None) -> bool:
    state = inspect(obj)
    for attr in state.mapper.column_attrs:
        if names is not None and attr.key not in names:
            continue
        if state.attrs[attr.key].history.has_changes():
            return True
    return False


def _items_touched(session: Session, obj: Any) -> set[int]:
    """Ids of the items whose search documents show `obj`."""
    if isinstance(obj, ArchiveItem):
        return {obj.id} if obj.id is not None else set()
    q = select(ArchiveItem.id)
    if isinstance(obj, Box):
        q = q.where(ArchiveItem.box_id == obj.id)
    elif isinstance(obj, Customer):
        q = q.where(ArchiveItem.customer_id == obj.id)
    elif isinstance(obj, Fonds):
        q = q.where(ArchiveItem.fonds_id == obj.id)
    elif isinstance(obj, Category):
        q = q.where(ArchiveItem.category_id == obj.id)
    else:
        boxes = select(Box.id).join(Shelf, Box.shelf_id == Shelf.id)
        if isinstance(obj, Shelf):
            boxes = boxes.where(Shelf.id == obj.id)
        else:
            boxes = boxes.join(Section, Shelf.section_id == Section.id)
            if isinstance(obj, Section):
                boxes = boxes.where(Section.id == obj.id)
            else:
                boxes = boxes.join(Rack, Section.rack_id == Rack.id)
                boxes = boxes.where((Rack.id if isinstance(obj, Rack) else Rack.room_id) == obj.id)
        q = q.where(ArchiveItem.box_id.in_(boxes))
    with session.no_autoflush:
        return set(session.scalars(q))


@event.listens_for(Session, "after_flush")
def _note_changes(session: Session, _ctx: Any) -> None:
    """Collect the items whose indexed fields this flush changed (dirty and deleted rows)."""
    if ARCHIVE_KEY not in session.info:
        return
    pending: set[int] = session.info.setdefault(_PENDING, set())
    for obj in session.dirty:
        if isinstance(obj, ArchiveItem):
            if _changed(obj, None):
                pending.add(obj.id)
        elif type(obj) in _INDEXED and _changed(obj, _INDEXED[type(obj)]):
            pending |= _items_touched(session, obj)
    for obj in session.deleted:
        if isinstance(obj, ArchiveItem):
            pending.add(obj.id)


@event.listens_for(Session, "before_commit")
def _index_in_transaction(session: Session) -> None:
    archive = session.info.get(ARCHIVE_KEY)
    if archive is None:
        return
    session.flush()
    if archive.embedded_search and session.info.get(_PENDING):
        ids = session.info.pop(_PENDING)
        sync_items(archive, session, ids, conn=session.connection())


@event.listens_for(Session, "after_commit")
def _index_after_commit(session: Session) -> None:
    archive = session.info.get(ARCHIVE_KEY)
    ids = session.info.pop(_PENDING, None)
    if archive is None or not ids or archive.embedded_search:
        return
    try:
        with archive.session() as s:
            sync_items(archive, s, ids)
    except Exception:  # the commit stands; the entry is stale until `dangan reindex`
        log.exception("search index update failed for items %s; run `dangan reindex`",
                      sorted(ids))


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_PENDING, None)


def write_item(archive: Archive, session: Session, item_id: int, docs: list[PageDoc]) -> None:
    """Make `docs` the item's index entry (none: remove it) as part of this session's unit
    of work: in its transaction when the index lives in the catalogue database, else right
    after it commits. A failure propagates to the caller (a page task is then retried)."""
    def write(conn: Any = None) -> None:
        if docs:
            archive.search.index_pages(docs, conn=conn)
        else:
            archive.search.delete_item(item_id, conn=conn)

    if archive.embedded_search:
        write(session.connection())
    else:
        event.listen(session, "after_commit", lambda _session: write(), once=True)
    # This write is the item's index entry for this unit of work: the commit hooks need not
    # compare or write it again (in Elasticsearch mode that was a second bulk write).
    session.info.get(_PENDING, set()).discard(item_id)


def sync_items(archive: Archive, session: Session, item_ids: set[int],
               conn: Any = None) -> list[int]:
    """Bring these items' index entries up to date; returns the ids (re)indexed or removed.

    `conn` is the catalogue transaction's connection when the index lives in it.
    """
    indexed = archive.search.indexed_items(sorted(item_ids), conn=conn)
    changed: list[int] = []
    for item_id in sorted(item_ids):
        item = session.get(ArchiveItem, item_id)
        if item is None or not searchable(item):
            if item_id in indexed:
                archive.search.delete_item(item_id, conn=conn)
                changed.append(item_id)
            continue
        fp = item_fingerprint(item)
        if indexed.get(item_id) != fp:
            archive.search.index_pages(page_docs(session, item, fingerprint=fp), conn=conn)
            changed.append(item_id)
    return changed
