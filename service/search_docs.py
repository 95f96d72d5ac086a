"""Turning catalogue rows into search documents (one per page, item fields copied on)."""

from __future__ import annotations

import hashlib
import json

from sqlalchemy.orm import Session

from indexer.search.types import PageDoc, catalogue_text

from .locations import box_path
from .models import ArchiveItem
from .privacy import mask_personal
from .vocab import TOMBSTONES, PageStatus


def item_meta_text(item: ArchiveItem) -> str:
    """Catalogue text that should find the item too: 档号, title, 文号, 责任者, customer."""
    parts = [item.archival_code, item.title, item.doc_number or "", item.responsible or ""]
    if item.customer is not None:
        parts += [item.customer.number, item.customer.name]
    if item.box is not None:
        parts.append(item.box.barcode)
    return " ".join(p for p in parts if p)


def _item_fields(item: ArchiveItem) -> dict:
    return {
        "archival_code": item.archival_code, "title": item.title, "fonds": item.fonds.code,
        "category": item.category.code, "year": item.year, "retention": item.retention,
        "secrecy": item.secrecy, "customer": item.customer.number if item.customer else None,
        "box": item.box.barcode if item.box else None, "location": box_path(item.box),
        "status": item.status, "date": item.doc_date.isoformat() if item.doc_date else None,
        "owner_id": item.owner_id, "department": item.department,
        "personal_only": bool(item.id_copies),
    }


def searchable(item: ArchiveItem) -> bool:
    """An item is in the index when it has finished pages and is neither held for deletion
    nor a tombstone (a held item leaves the index and comes back if the deletion is undone)."""
    return (item.deletion_due_at is None and item.status not in TOMBSTONES
            and any(p.status == PageStatus.DONE for p in item.pages))


def page_docs(session: Session, item: ArchiveItem,
              fingerprint: str | None = None) -> list[PageDoc]:
    """The item's finished pages as PageDocs; a fingerprint lets `check --index` spot stale ones.

    Pass `fingerprint` when the caller has already computed `item_fingerprint(item)`.
    """
    if not searchable(item):
        return []
    meta, fields = item_meta_text(item), _item_fields(item)
    fingerprint = fingerprint or item_fingerprint(item)
    full_meta = catalogue_text(meta, item.archival_code, item.title)
    masked_meta = mask_personal(full_meta)
    return [PageDoc(item_id=item.id, page_no=p.n, text=p.text or "", words=p.words or [],
                    meta_text=meta, fingerprint=fingerprint,
                    masked=_masked(p.text or "", full_meta, masked_meta), **fields)
            for p in item.pages if p.status == PageStatus.DONE]


def _masked(text: str, meta: str, masked_meta: str) -> tuple[str, str] | None:
    """The page as users without the right to personal data may match it (PageDoc.masked),
    or None when service.privacy.mask_personal hides nothing on it."""
    masked_text = mask_personal(text)
    if masked_text == text and masked_meta == meta:
        return None
    return masked_text, masked_meta


def item_fingerprint(item: ArchiveItem) -> str:
    """Hash of everything the index holds for the item, to detect a stale index entry."""
    h = hashlib.sha256()
    h.update(json.dumps([item_meta_text(item), _item_fields(item)], ensure_ascii=False,
                        sort_keys=True, default=str).encode())
    # masked forms too: broader masking rules make the masked index rows stale
    h.update(mask_personal(catalogue_text(item_meta_text(item), item.archival_code,
                                          item.title)).encode())
    for p in item.pages:
        if p.status == PageStatus.DONE:
            h.update(f"{p.n}:{len(p.text or '')}:".encode())
            h.update((p.text or "").encode())
            h.update(mask_personal(p.text or "").encode())
    return h.hexdigest()[:32]
