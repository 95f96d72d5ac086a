"""Integrity checks: stored files against their SHA-256, the index against the catalogue, and
the audit chain against itself."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from storage import ObjectStore

from . import batch_folders
from .archive import Archive
from .audit import audit_problems
from .audit_anchor import PREFIX as ANCHOR_PREFIX
from .audit_anchor import flush_anchors, latest_anchor
from .models import ArchiveItem, Page, StoredFile
from .purge import delete_unrecorded
from .search_docs import item_fingerprint, searchable
from .vocab import ItemStatus

MISSING, CHECKSUM_MISMATCH = "missing", "checksum mismatch"


def fixity_problem(store: ObjectStore, key: str, sha256: str) -> str | None:
    """What is wrong with one stored file against the SHA-256 recorded at ingest:
    `MISSING`, `CHECKSUM_MISMATCH`, or None when it is whole."""
    if not store.exists(key):
        return MISSING
    return None if store.verify(key, sha256) else CHECKSUM_MISMATCH


def check_fixity(archive: Archive) -> dict:
    """Re-hash every stored file; report missing or altered ones."""
    with archive.session() as s:
        rows = s.execute(select(StoredFile.key, StoredFile.sha256, StoredFile.item_id,
                                StoredFile.role)).all()
    bad = []
    for key, sha, item_id, role in rows:
        if problem := fixity_problem(archive.store, key, sha):
            bad.append({"key": key, "item_id": item_id, "role": role, "problem": problem})
    return {"checked": len(rows), "bad": bad}


def check_audit(archive: Archive) -> dict:
    """Every audit entry's hash and link, the chain head, and the chain against its anchor in
    the object store (see `audit.audit_problems`); ``problems`` counts what is wrong."""
    flush_anchors()  # this process's own commits anchored first
    try:
        anchor, unreadable = latest_anchor(archive.store), None
    except ValueError as exc:  # a damaged anchor object is itself a finding
        anchor, unreadable = None, str(exc)
    with archive.session() as s:
        report = audit_problems(s, anchor, anchored=True)
    if unreadable:
        report["anchor_problem"], report["anchor_error"] = "unreadable", unreadable
    report["problems"] = (len(report["bad"]) + (not report["head_ok"])
                          + (report["anchor_problem"] is not None))
    return report


def check_index(archive: Archive) -> dict:
    """Items whose pages are missing from the index, stale there, or indexed but gone."""
    indexed = archive.search.indexed_items()
    missing, stale, expected = [], [], set()
    with archive.session() as s:
        for item in s.scalars(select(ArchiveItem).where(ArchiveItem.status != ItemStatus.PROCESSING)):
            if not searchable(item):
                continue
            expected.add(item.id)
            fp = indexed.get(item.id)
            if fp is None:
                missing.append(item.id)
            elif fp != item_fingerprint(item):
                stale.append(item.id)
    orphaned = sorted(set(indexed) - expected)
    return {"checked": len(expected), "missing": missing, "stale": stale, "orphaned": orphaned}


#: Nothing younger than this is ever deleted as an orphan: an upload in progress stores its
#: original before the catalogue row that references it is committed.
ORPHAN_GRACE_SECONDS = 3600.0


def check_orphans(archive: Archive, *, delete: bool = False,
                  grace: float = ORPHAN_GRACE_SECONDS) -> dict:
    """Stored objects no catalogue row references, leftovers of interrupted uploads, and the
    temporaries in ``DATA/tmp`` gone stale (by the purge's rule, `batch_folders.stale`).

    With ``delete``, removes those older than ``grace`` seconds (younger ones are listed
    with ``"kept": "grace"``): the objects, the temporaries, the unfinished multipart uploads.
    An object written again or recorded since the listing is kept (``"kept": "recorded"``,
    `purge.delete_unrecorded`).
    """
    with archive.session() as s:
        referenced = set(s.scalars(select(StoredFile.key)))
        for keys in s.execute(select(Page.image_key, Page.thumb_key, Page.pdf_key)):
            referenced.update(k for k in keys if k)
    now = datetime.now(UTC)
    store = archive.store
    orphans, leftovers, removed = [], [], 0
    for info in store.list_keys():
        if info.key in referenced or info.key.startswith(ANCHOR_PREFIX):
            continue
        age = (now - info.modified).total_seconds()
        entry = {"key": info.key, "size": info.size, "age_seconds": round(age)}
        if delete and age >= grace:
            if delete_unrecorded(archive, info.key, now - timedelta(seconds=grace)):
                entry["deleted"], removed = True, removed + 1
            else:
                entry["kept"] = "recorded"
        elif delete:
            entry["kept"] = "grace"
        orphans.append(entry)
    for left in list(store.leftovers()):
        age = (now - left.modified).total_seconds()
        entry = {"kind": left.kind, "name": left.name, "size": left.size,
                 "age_seconds": round(age)}
        if delete and age >= grace:
            store.remove_leftover(left)
            entry["deleted"], removed = True, removed + 1
        elif delete:
            entry["kept"] = "grace"
        leftovers.append(entry)
    temporaries = []
    for temp in batch_folders.stale(archive):
        entry = {"path": str(temp.path.relative_to(archive.settings.data_dir)),
                 "size": temp.size, "age_seconds": round(temp.idle_seconds)}
        if delete and batch_folders.remove_stale(temp):
            entry["deleted"], removed = True, removed + 1
        temporaries.append(entry)
    return {"orphans": orphans, "leftovers": leftovers, "temporaries": temporaries,
            "removed": removed, "grace_seconds": grace}
