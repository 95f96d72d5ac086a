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

import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from . import clock
from .indexing import write_item
from .models import ArchiveItem, ItemChange, Page, PendingPurge, Rescan, StoredFile
from .vocab import TOMBSTONES

if TYPE_CHECKING:
    from .archive import Archive

log = logging.getLogger(__name__)


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
    schedule(session, item.id, keys)
    write_item(archive, session, item.id, [])
    session.flush()
    return manifest


def schedule(session: Session, item_id: int, keys: Iterable[str]) -> None:
    """Have the purge remove these objects once nothing in the catalogue uses them, after
    this transaction commits (nothing is deleted while it could still roll back).

    Dated by the real clock, not the archive's (service.clock, which tests move): the date is
    compared with the store's modification times (`delete_unrecorded`)."""
    if keys:
        session.add(PendingPurge(item_id=item_id, keys=sorted(set(keys)),
                                 created_at=datetime.now(UTC)))


def _used_keys(session: Session, keys: list[str]) -> set[str]:
    used = set(session.scalars(select(StoredFile.key).where(StoredFile.key.in_(keys))))
    for row in session.execute(select(Page.image_key, Page.thumb_key, Page.pdf_key).where(
            or_(Page.image_key.in_(keys), Page.thumb_key.in_(keys), Page.pdf_key.in_(keys)))):
        used.update(k for k in row if k)
    return used


def delete_unrecorded(archive: Archive, key: str, written_before: datetime) -> bool:
    """Delete an object found unused, if it still is: True when it was deleted.

    The one rule of every sweep (the purge, `dangan check --orphans --delete`). What a
    sweep read (its listing, its query) may be out of date by the time it deletes: an
    upload of the same bytes puts the content-addressed object again (renewing its
    modification time) and then records it. So, right before the delete, in this order:
    the store is asked when the object was last written, and one written at or after
    ``written_before`` is kept (its uploader may be about to record it; for the purge, one
    written since the purge was scheduled; for the orphan check, within its grace); then a fresh
    catalogue transaction is asked whether any row names it now. Only the instant between
    that check and the delete itself remains, where the old read-then-delete left the
    whole sweep."""
    modified = archive.store.last_modified(key)
    if modified is None or modified >= written_before:
        return False
    with archive.session() as s:
        if _used_keys(s, [key]):
            log.info("not deleting %s: recorded since the sweep read the catalogue", key)
            return False
    archive.store.delete(key)
    return True


def remove_objects(archive: Archive) -> int:
    """Step 2 for every pending purge: remove the objects no catalogue row uses; returns how
    many objects were removed. Safe to run again at any time (a missing object is no error).
    An object written again since its purge was scheduled is kept (`delete_unrecorded`)."""
    removed = 0
    with archive.session() as s:
        pending = list(s.scalars(select(PendingPurge.id).order_by(PendingPurge.id)))
    for purge_id in pending:
        with archive.session() as s:
            row = s.get(PendingPurge, purge_id)
            if row is None:
                continue
            keys, scheduled = list(row.keys), clock.aware(row.created_at)
            unused = [k for k in keys if k not in _used_keys(s, keys)]
        removed += sum(delete_unrecorded(archive, key, scheduled) for key in unused)
        with archive.session() as s:
            s.execute(delete(PendingPurge).where(PendingPurge.id == purge_id))
    return removed
