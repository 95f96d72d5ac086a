"""What the latest backup held, item by item, so the four-property check (security: "present
in the latest backup") can tell without the bag at hand: a backup may be written to a disk
the web and the workers never see.

When `dangan backup` has written its bag, it records the backup (BackupRecord) and, for every
item of its catalogue snapshot, a digest of the item's stored files (role, key, SHA-256) and
pages (derived keys and text) read in that same snapshot. The check computes the same digest
from the catalogue now: absent means the item came after the backup, a different digest that
it changed since (a page read again, a file replaced). Only the latest backup's holdings are
kept (one row per item). These records describe backups, so they are not themselves backed
up; a restore records the bag it came from as the restored archive's latest backup.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, func, insert, select
from sqlalchemy.orm import Session

from . import clock
from .models import ArchiveItem, BackupHolding, BackupRecord, Page, StoredFile

#: The tables that describe backups: left out of the backups themselves.
RECORD_TABLES = (BackupRecord.__tablename__, BackupHolding.__tablename__)


def _line(*values: object) -> bytes:
    return ("\x1f".join("" if v is None else str(v) for v in values) + "\n").encode()


def item_digests(conn: Connection, item_ids: Sequence[int] | None = None) -> dict[int, str]:
    """item id -> digest of its stored files and pages as `conn` reads them (in the caller's
    transaction: the backup's snapshot, or the check's session)."""
    files: dict[int, hashlib._Hash] = defaultdict(hashlib.sha256)
    pages: dict[int, hashlib._Hash] = defaultdict(hashlib.sha256)
    items = select(ArchiveItem.id)
    fq = select(StoredFile.item_id, StoredFile.id, StoredFile.role, StoredFile.key,
                StoredFile.sha256).order_by(StoredFile.item_id, StoredFile.id)
    pq = select(Page.item_id, Page.id, Page.n, Page.image_key, Page.thumb_key, Page.pdf_key,
                Page.text).order_by(Page.item_id, Page.id)
    if item_ids is not None:
        ids = list(item_ids)
        items, fq, pq = (items.where(ArchiveItem.id.in_(ids)), fq.where(StoredFile.item_id.in_(ids)),
                         pq.where(Page.item_id.in_(ids)))
    for item_id, *values in conn.execute(fq):
        files[item_id].update(_line(*values))
    for item_id, pid, n, image, thumb, pdf, text in conn.execute(pq):
        text_sha = hashlib.sha256((text or "").encode()).hexdigest()
        pages[item_id].update(_line(pid, n, image, thumb, pdf, text_sha))
    return {item_id: hashlib.sha256(
        (files[item_id].hexdigest() + pages[item_id].hexdigest()).encode()).hexdigest()
        for (item_id,) in conn.execute(items)}


def record_backup(session: Session, *, path: str, base: str | None, revision: str | None,
                  objects: int, digests: dict[int, str]) -> BackupRecord:
    """Record a backup just written and what it held; older backups' holdings are dropped."""
    rec = BackupRecord(created_at=clock.now(), path=path, base=base, revision=revision,
                       objects=objects, items=len(digests))
    session.add(rec)
    session.flush()
    session.execute(delete(BackupHolding).where(BackupHolding.backup_id != rec.id))
    rows = [{"backup_id": rec.id, "item_id": i, "digest": d} for i, d in digests.items()]
    for start in range(0, len(rows), 1000):
        session.execute(insert(BackupHolding), rows[start:start + 1000])
    return rec


@dataclass(frozen=True)
class BackupState:
    """Where an item stands against the latest backup: ``held``, ``changed`` (held, but the
    item changed since), ``absent`` (not in it) or ``none`` (no backup recorded)."""

    state: str
    backup_path: str | None = None
    backup_at: datetime | None = None


def latest_backup(session: Session) -> BackupRecord | None:
    newest = session.scalar(select(func.max(BackupRecord.id)))
    return session.get(BackupRecord, newest) if newest is not None else None


def backup_state(session: Session, item_id: int) -> BackupState:
    """The item against the latest backup (see BackupState)."""
    rec = latest_backup(session)
    if rec is None:
        return BackupState("none")
    held = session.get(BackupHolding, (rec.id, item_id))
    if held is None:
        return BackupState("absent", rec.path, rec.created_at)
    now = item_digests(session.connection(), [item_id]).get(item_id)
    return BackupState("held" if now == held.digest else "changed", rec.path, rec.created_at)
