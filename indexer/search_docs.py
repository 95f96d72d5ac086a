"""Turning catalogue rows into search documents (one per page, item fields copied on)."""

from __future__ import annotations

import hashlib
import json

from sqlalchemy.orm import Session

from service.locations import box_path
from service.models import ArchiveItem

from .search.types import PageDoc


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
    }


def page_docs(session: Session, item: ArchiveItem,
              fingerprint: str | None = None) -> list[PageDoc]:
    """The item's finished pages as PageDocs; a fingerprint lets `check --index` spot stale ones.

    Pass `fingerprint` when the caller has already computed `item_fingerprint(item)`.
    """
    meta, fields = item_meta_text(item), _item_fields(item)
    fingerprint = fingerprint or item_fingerprint(item)
    return [PageDoc(item_id=item.id, page_no=p.n, text=p.text or "", words=p.words or [],
                    meta_text=meta, fingerprint=fingerprint, **fields)
            for p in item.pages if p.status == "done"]


def item_fingerprint(item: ArchiveItem) -> str:
    """Hash of everything the index holds for the item, to detect a stale index entry."""
    h = hashlib.sha256()
    h.update(json.dumps([item_meta_text(item), _item_fields(item)], ensure_ascii=False,
                        sort_keys=True, default=str).encode())
    for p in item.pages:
        if p.status == "done":
            h.update(f"{p.n}:{len(p.text or '')}:".encode())
            h.update((p.text or "").encode())
    return h.hexdigest()[:32]
