"""Making a deletion or destruction final: the item becomes a tombstone, then its objects go.

Two steps, in this order, so that an interruption leaves nothing dangling:

1. `tombstone` (in the caller's catalogue transaction): the catalogue row stays with its
   档号 (never reused), fields and change history, its status becomes deleted or destroyed,
   its pages (text, word boxes) leave the catalogue and the index, and the stored files no
   remaining item uses leave the catalogue. The object keys that may now be unused are
   written to a `PendingPurge` row in the same transaction.
2. `remove_objects` (after that commit): each pending key that no catalogue row still uses
   is removed from the object store; then the `PendingPurge` row goes. Re-running it (the
   scheduled job does, every time) finishes whatever a crash left half done.

Originals are shared: after a split the new items' pages point at the first item's stored
files, and the store is content-addressed (identical files are one object). A file row
stays while any page of another item uses it, and an object stays while any file or page
row names its key.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from . import clock
from .indexing import write_item
from .models import ArchiveItem, ItemChange, Page, PendingPurge, Rescan, StoredFile
from .vocab import TOMBSTONES

if TYPE_CHECKING:
    from .archive import Archive


def _file_still_used(session: Session, f: StoredFile, item_id: int) -> bool:
    """Another item's page or rescan still refers to this file row, or its owner is alive."""
    if session.scalar(select(Page.id).where(Page.file_id == f.id).limit(1)) is not None:
        return True
    if session.scalar(select(Rescan.id).where(Rescan.file_id == f.id, Rescan.item_id != item_id)
                      .limit(1)) is not None:
        return True
    owner = session.get(ArchiveItem, f.item_id)
    return f.item_id != item_id and owner is not None and owner.status not in TOMBSTONES


def tombstone(archive: Archive, session: Session, item: ArchiveItem, status: str,
              actor: str, reason: str) -> dict:
    """Step 1: make `item` a tombstone with `status`; returns its manifest (what it held)."""
    pages = list(item.pages)
    keys: set[str] = set()
    for p in pages:
        keys.update(k for k in (p.image_key, p.thumb_key, p.pdf_key) if k)
    candidates = {f.id: f for f in item.files}
    candidates.update({p.file.id: p.file for p in pages})
    manifest = {
        "pages": len(pages),
        "files": [{"key": f.key, "sha256": f.sha256, "size": f.size, "role": f.role,
                   "name": f.original_name} for f in item.files],
        "box": item.box.barcode if item.box is not None else None,
        "box_position": item.box_position,
        "status": item.status,
    }
    for p in pages:
        session.delete(p)
    session.flush()
    for f in candidates.values():
        if _file_still_used(session, f, item.id):
            continue
        session.execute(delete(Rescan).where(Rescan.file_id == f.id))
        keys.add(f.key)
        session.delete(f)
    session.flush()
    session.expire(item, ["pages", "files"])
    changes: dict[str, list[str | None]] = {}
    if item.box is not None:
        changes["box"] = [item.box.barcode, None]
    item.status, item.status_reason = status, None
    item.deletion_due_at = None
    item.box_id, item.box_position = None, None
    item.sets_changed_at = clock.now()
    session.add(ItemChange(item_id=item.id, kind=status, actor=actor, reason=reason,
                           changes=changes, at=clock.now()))
    if keys:
        session.add(PendingPurge(item_id=item.id, keys=sorted(keys), created_at=clock.now()))
    write_item(archive, session, item.id, [])
    session.flush()
    return manifest


def _used_keys(session: Session, keys: list[str]) -> set[str]:
    used = set(session.scalars(select(StoredFile.key).where(StoredFile.key.in_(keys))))
    for row in session.execute(select(Page.image_key, Page.thumb_key, Page.pdf_key).where(
            or_(Page.image_key.in_(keys), Page.thumb_key.in_(keys), Page.pdf_key.in_(keys)))):
        used.update(k for k in row if k)
    return used


def remove_objects(archive: Archive) -> int:
    """Step 2 for every pending purge: remove the objects no catalogue row uses; returns how
    many objects were removed. Safe to run again at any time (a missing object is no error)."""
    removed = 0
    with archive.session() as s:
        pending = list(s.scalars(select(PendingPurge.id).order_by(PendingPurge.id)))
    for purge_id in pending:
        with archive.session() as s:
            row = s.get(PendingPurge, purge_id)
            if row is None:
                continue
            keys = list(row.keys)
            unused = [k for k in keys if k not in _used_keys(s, keys)]
            for key in unused:
                archive.store.delete(key)
                removed += 1
            s.delete(row)
    return removed
