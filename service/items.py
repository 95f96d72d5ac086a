"""Reading items back: the JSON shape of `dangan show` and the item page."""

from __future__ import annotations

from sqlalchemy.orm import Session

from .errors import NotFound
from .locations import box_path
from .models import ArchiveItem
from .vocab import CUSTOMER_SECTIONS, SETTLED_PAGE_STATUSES, PageStatus


def get_item(session: Session, item_id: int) -> ArchiveItem:
    item = session.get(ArchiveItem, item_id)
    if item is None:
        raise NotFound(f"档案件 {item_id} 不存在。/ Item {item_id} does not exist.")
    return item


def progress(item: ArchiveItem) -> dict:
    pages = item.pages
    done = sum(1 for p in pages if p.status in SETTLED_PAGE_STATUSES)
    return {"pages_done": done, "pages_total": len(pages),
            "pages_failed": sum(1 for p in pages if p.status == PageStatus.FAILED)}


def item_summary(item: ArchiveItem) -> dict:
    return {"id": item.id, "archival_code": item.archival_code, "title": item.title,
            "status": item.status, "pages": len(item.pages), **progress(item)}


def item_to_json(item: ArchiveItem, *, with_text: bool = True,
                 mask_personal_data: bool = False) -> dict:
    """Everything about an item: catalogue fields, paper set location, electronic set.

    `mask_personal_data` masks resident ID and mobile numbers in the page texts. The page
    texts leave only when the item's secrecy lets its content be exported (not 机密 or 绝密,
    see `access.handling`); otherwise `text_withheld` says why.
    """
    from .access import handling
    from .privacy import mask_personal

    rule = handling(item)
    with_text = with_text and rule.export

    def page_text(text: str | None) -> str:
        return mask_personal(text or "") if mask_personal_data else text or ""

    box = item.box
    location = None
    if box is not None:
        shelf = box.shelf
        location = {
            "box": box.barcode, "path": box_path(box),
            "room": shelf.section.rack.room.name if shelf else None,
            "rack": shelf.section.rack.code if shelf else None,
            "section": shelf.section.code if shelf else None,
            "shelf": shelf.code if shelf else None,
        }
    return {
        "id": item.id,
        "archival_code": item.archival_code,
        "title": item.title,
        "fonds": item.fonds.code,
        "fonds_name": item.fonds.name,
        "category": item.category.code,
        "category_name": item.category.name,
        "year": item.year,
        "retention": item.retention,
        "org": item.org_code,
        "item_no": item.item_no,
        "doc_number": item.doc_number,
        "responsible": item.responsible,
        "date": item.doc_date.isoformat() if item.doc_date else None,
        "secrecy": item.secrecy,
        "paper_pages": item.paper_pages,
        "remarks": item.remarks,
        "customer": ({"number": item.customer.number, "name": item.customer.name,
                      "section": item.customer_section,
                      "section_name": CUSTOMER_SECTIONS.get(item.customer_section or "")}
                     if item.customer else None),
        "department": item.department,
        "status": item.status,
        "status_reason": item.status_reason,
        "progress": progress(item),
        "location": location,
        "created_at": item.created_at.isoformat(),
        "files": [{"key": f.key, "sha256": f.sha256, "size": f.size, "role": f.role,
                   "name": f.original_name, "format": f.format, "pages": f.page_count,
                   "status": f.status, "error": f.error_reason} for f in item.files],
        "pages": [{"n": p.n, "status": p.status, "source": p.source,
                   "confidence": round(p.confidence, 1) if p.confidence is not None else None,
                   "error": p.error if p.status == PageStatus.FAILED else None,
                   **({"text": page_text(p.text)} if with_text else {})} for p in item.pages],
        **({} if rule.export else {"text_withheld": rule.reason}),
    }
