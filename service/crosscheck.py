"""Cross-checking the two sets: the records officer's signed results, each item's check
history, the officer's queue and the archivist's rescan tasks.

An item's newest check is its state. It is in the officer's queue when it was never
checked, when either set changed after its last check (files or pages replaced, removed or
added, paper page count, condition, remarks or box changed: `ArchiveItem.sets_changed_at`),
or when its last check found a discrepancy (open until a later check agrees). A discrepancy
not yet answered by a change is the archivist's task; a rescan answers it and sends the item
back to the officer, whose next check closes it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from .access import (
    Who,
    can_handle_rescans,
    require_cross_check,
    user_of,
    visibility_for,
    visible_clause,
)
from .audit import record
from .audit_actions import AuditAction
from .errors import N_, InvalidInput, PermissionDenied
from .fields import check_text
from .items import openable_item, visible_item
from .locations import get_box
from .models import ArchiveItem, Box, Category, CheckFinding, CrossCheck, Fonds, User
from .privacy import title_for
from .twoset import MAX_PAPER_PAGES, now
from .vocab import TOMBSTONES, CheckResult, DiscrepancyKind

#: Why an item is in the officer's queue.
NEVER, CHANGED, OPEN = "never", "changed", "open"
_RANGE = re.compile(r"^(\d{1,6})(?:\s*[-–~至]\s*(\d{1,6}))?$")


def parse_pages(text: str | None) -> list[int]:
    """Page numbers typed as `3, 5-7` (also `、`, `，`, spaces, `5–7`, `5至7`), sorted."""
    out: set[int] = set()
    for part in re.split(r"[,，、;；\s]+", (text or "").strip()):
        if not part:
            continue
        m = _RANGE.match(part)
        if m is None:
            raise InvalidInput(N_("页码“%(part)s”无效：请写成 3, 5-7 的形式。"), part=part)
        lo, hi = int(m.group(1)), int(m.group(2) or m.group(1))
        if lo < 1 or hi < lo or hi - lo > MAX_PAPER_PAGES:
            raise InvalidInput(N_("页码范围“%(part)s”无效。"), part=part)
        out.update(range(lo, hi + 1))
    return sorted(out)


@dataclass(frozen=True)
class Finding:
    """One discrepancy to record: its kind, the pages concerned, a note."""

    kind: str
    pages: list[int] = field(default_factory=list)
    note: str | None = None


def record_check(session: Session, who: Who, item_id: int, result: str,
                 findings: list[Finding] | None = None, note: str | None = None) -> CrossCheck:
    """Sign a cross-check of an item by the records officer `who`, now.

    The officer compares the paper with the scans, so the item must be open to them
    (access.may_open: 机密 at a reading-room workstation only).
    'agrees' has no findings; 'discrepancy' needs one at least, each of a known kind with
    page numbers within the larger of the paper and scanned page counts."""
    user = user_of(who)
    require_cross_check(user)
    assert user is not None
    item = openable_item(session, who, item_id)
    findings = list(findings or [])
    if result not in tuple(CheckResult):
        raise InvalidInput(N_("核对结果“%(value)s”无效，可选：%(choices)s。"), value=result,
                           choices="、".join(CheckResult))
    if result == CheckResult.AGREES and findings:
        raise InvalidInput(N_("“一致”的核对不能带有差异。"))
    if result == CheckResult.DISCREPANCY and not findings:
        raise InvalidInput(N_("记录差异时请选择差异类型。"))
    note = (note or "").strip() or None
    check_text(CrossCheck.note, note, N_("核对说明"))
    scanned = len(item.pages)
    top = max(scanned, item.paper_pages or 0)
    for f in findings:
        if f.kind not in tuple(DiscrepancyKind):
            raise InvalidInput(N_("差异类型“%(value)s”无效，可选：%(choices)s。"), value=f.kind,
                               choices="、".join(DiscrepancyKind))
        bad = [n for n in f.pages if not 1 <= n <= top]
        if bad:
            raise InvalidInput(N_("页码 %(page)s 超出本件页数（纸质 %(paper)s 页，扫描 %(scanned)s 页）。"),
                               page=bad[0], paper=item.paper_pages or "—", scanned=scanned)
        check_text(CheckFinding.note, f.note, N_("差异说明"))
    check = CrossCheck(item_id=item.id, result=result, officer_id=user.id,
                       officer=user.username, officer_name=user.display_name or user.username,
                       checked_at=now(), paper_pages=item.paper_pages, scanned_pages=scanned,
                       note=note,
                       findings=[CheckFinding(kind=f.kind, pages=sorted(set(f.pages)) or None,
                                              note=(f.note or "").strip() or None)
                                 for f in findings])
    session.add(check)
    session.flush()
    record(session, user.username, AuditAction.ITEM_CROSSCHECK, f"item:{item.id}",
           {"archival_code": item.archival_code, "result": result, "check": check.id,
            "findings": [{"kind": f.kind, "pages": f.pages} for f in findings]})
    return check


def check_history(session: Session, item_id: int) -> list[CrossCheck]:
    """The item's signed checks, newest first."""
    return list(session.scalars(select(CrossCheck).where(CrossCheck.item_id == item_id)
                                .order_by(CrossCheck.id.desc())))


def last_check(session: Session, item_id: int) -> CrossCheck | None:
    return session.scalar(select(CrossCheck).where(CrossCheck.item_id == item_id)
                          .order_by(CrossCheck.id.desc()).limit(1))


def check_state(item: ArchiveItem, last: CrossCheck | None) -> str | None:
    """Why the item needs a check (NEVER, CHANGED, OPEN), or None when it is up to date."""
    if last is None:
        return NEVER
    if item.sets_changed_at is not None and _aware(item.sets_changed_at) > _aware(last.checked_at):
        return CHANGED
    if last.result == CheckResult.DISCREPANCY:
        return OPEN
    return None


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo else t.replace(tzinfo=UTC)


# ----------------------------------------------------------------- the officer's queue


@dataclass(frozen=True)
class QueueFilters:
    box: str | None = None
    fonds: str | None = None
    year: int | None = None
    category: str | None = None


@dataclass(frozen=True)
class QueueRow:
    item: ArchiveItem
    reason: str
    last: CrossCheck | None


def _latest() -> Select:
    """Each item's newest check id."""
    return (select(CrossCheck.item_id, func.max(CrossCheck.id).label("check_id"))
            .group_by(CrossCheck.item_id))


def _needs_check(last: type[CrossCheck]) -> ColumnElement[bool]:
    return or_(last.id.is_(None),
               and_(ArchiveItem.sets_changed_at.is_not(None),
                    ArchiveItem.sets_changed_at > last.checked_at),
               last.result == CheckResult.DISCREPANCY)


def check_queue(session: Session, user: User | None, filters: QueueFilters | None = None,
                *, limit: int = 500) -> list[QueueRow]:
    """The items waiting for the officer, by box and position (the order on the shelf)."""
    require_cross_check(user)
    f = filters or QueueFilters()
    latest = _latest().subquery()
    last = aliased(CrossCheck)
    stmt = (select(ArchiveItem, last).join(Fonds).join(Category)
            .outerjoin(Box, ArchiveItem.box_id == Box.id)
            .outerjoin(latest, latest.c.item_id == ArchiveItem.id)
            .outerjoin(last, last.id == latest.c.check_id)
            .where(visible_clause(visibility_for(user)), _needs_check(last),
                   ArchiveItem.status.notin_(sorted(TOMBSTONES))))
    if f.box:
        stmt = stmt.where(Box.barcode == f.box)
    if f.fonds:
        stmt = stmt.where(Fonds.code == f.fonds)
    if f.year is not None:
        stmt = stmt.where(ArchiveItem.year == f.year)
    if f.category:
        stmt = stmt.where(Category.code == f.category)
    stmt = stmt.order_by(Box.barcode.is_(None), Box.barcode, ArchiveItem.box_position,
                         ArchiveItem.archival_code).limit(limit)
    out = []
    for item, chk in session.execute(stmt).all():
        out.append(QueueRow(item, check_state(item, chk) or OPEN, chk))
    return out


DeskRow = tuple[ArchiveItem, str | None, CrossCheck | None]


def open_box(session: Session, user: User | None, barcode: str) -> tuple[Box, list[DeskRow]]:
    """The box with every item in it the officer may open: (item, why it needs a check or
    None, its last check), by position in the box."""
    require_cross_check(user)
    box = get_box(session, (barcode or "").strip())
    latest = _latest().subquery()
    last = aliased(CrossCheck)
    rows = session.execute(
        select(ArchiveItem, last).outerjoin(latest, latest.c.item_id == ArchiveItem.id)
        .outerjoin(last, last.id == latest.c.check_id)
        .where(ArchiveItem.box_id == box.id, visible_clause(visibility_for(user)))
        .order_by(ArchiveItem.box_position, ArchiveItem.archival_code)).all()
    return box, [(item, check_state(item, chk), chk) for item, chk in rows]


def desk_row(session: Session, user: User | None, item_id: int) -> DeskRow:
    """One item for the desk (outside a box): (item, why it needs a check, last check)."""
    require_cross_check(user)
    item = visible_item(session, user, item_id)
    last = last_check(session, item.id)
    return item, check_state(item, last), last


# ----------------------------------------------------------------- the archivist's tasks


@dataclass(frozen=True)
class RescanTask:
    item: ArchiveItem
    check: CrossCheck


def rescan_tasks(session: Session, user: User | None) -> list[RescanTask]:
    """Discrepancies found by the officers and not yet answered (no change to the item
    since the check): the archivist's list."""
    if not can_handle_rescans(user):
        raise PermissionDenied(N_("只有档案管理员可以处理重扫任务。"))
    latest = _latest().subquery()
    last = aliased(CrossCheck)
    rows = session.execute(
        select(ArchiveItem, last).join(latest, latest.c.item_id == ArchiveItem.id)
        .join(last, last.id == latest.c.check_id)
        .where(last.result == CheckResult.DISCREPANCY,
               or_(ArchiveItem.sets_changed_at.is_(None),
                   ArchiveItem.sets_changed_at <= last.checked_at),
               visible_clause(visibility_for(user)))
        .order_by(last.checked_at, last.id)).all()
    return [RescanTask(item, chk) for item, chk in rows]


def open_discrepancy(session: Session, item_id: int) -> CrossCheck | None:
    """The item's last check when it found a discrepancy (still open), else None."""
    chk = last_check(session, item_id)
    return chk if chk is not None and chk.result == CheckResult.DISCREPANCY else None


def check_to_json(check: CrossCheck) -> dict:
    """A signed check as the API shows it."""
    return {"id": check.id, "item_id": check.item_id, "result": check.result,
            "officer": check.officer, "officer_name": check.officer_name,
            "checked_at": _aware(check.checked_at).isoformat(),
            "paper_pages": check.paper_pages, "scanned_pages": check.scanned_pages,
            "note": check.note,
            "findings": [{"kind": f.kind, "pages": f.pages or [], "note": f.note}
                         for f in check.findings]}


def queue_to_json(rows: list[QueueRow], who: Who = None) -> list[dict]:
    """The queue as the API shows it to `who` (titles by privacy.title_for)."""
    return [{"id": r.item.id, "archival_code": r.item.archival_code,
             "title": title_for(who, r.item),
             "box": r.item.box.barcode if r.item.box else None,
             "position": r.item.box_position, "reason": r.reason,
             "paper_pages": r.item.paper_pages, "scanned_pages": len(r.item.pages),
             "last_check": check_to_json(r.last) if r.last else None} for r in rows]
