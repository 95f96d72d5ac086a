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
    FILE_REPAIR_ROLES,
    require_cross_check,
    visibility_for,
    visible_clause,
)
from .audit import record
from .errors import InvalidInput, PermissionDenied
from .fields import check_text
from .items import visible_item
from .locations import get_box
from .models import ArchiveItem, Box, Category, CheckFinding, CrossCheck, Fonds, User
from .twoset import MAX_PAPER_PAGES, now
from .vocab import CheckResult, DiscrepancyKind

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
            raise InvalidInput(f"页码“{part}”无效：请写成 3, 5-7 的形式。/ Invalid page number "
                               f"{part!r}: write pages as 3, 5-7.")
        lo, hi = int(m.group(1)), int(m.group(2) or m.group(1))
        if lo < 1 or hi < lo or hi - lo > MAX_PAPER_PAGES:
            raise InvalidInput(f"页码范围“{part}”无效。/ Invalid page range {part!r}.")
        out.update(range(lo, hi + 1))
    return sorted(out)


@dataclass(frozen=True)
class Finding:
    """One discrepancy to record: its kind, the pages concerned, a note."""

    kind: str
    pages: list[int] = field(default_factory=list)
    note: str | None = None


def record_check(session: Session, user: User | None, item_id: int, result: str,
                 findings: list[Finding] | None = None, note: str | None = None) -> CrossCheck:
    """Sign a cross-check of an item by the records officer `user`, now.

    'agrees' has no findings; 'discrepancy' needs one at least, each of a known kind with
    page numbers within the larger of the paper and scanned page counts."""
    require_cross_check(user)
    assert user is not None
    item = visible_item(session, user, item_id)
    findings = list(findings or [])
    if result not in tuple(CheckResult):
        raise InvalidInput(f"核对结果“{result}”无效，可选：{'、'.join(CheckResult)}。/ "
                           f"Unknown check result {result!r}.")
    if result == CheckResult.AGREES and findings:
        raise InvalidInput("“一致”的核对不能带有差异。/ An 'agrees' check has no discrepancies.")
    if result == CheckResult.DISCREPANCY and not findings:
        raise InvalidInput("记录差异时请选择差异类型。/ Choose the kind of discrepancy.")
    note = (note or "").strip() or None
    check_text(CrossCheck.note, note, "核对说明")
    scanned = len(item.pages)
    top = max(scanned, item.paper_pages or 0)
    for f in findings:
        if f.kind not in tuple(DiscrepancyKind):
            raise InvalidInput(f"差异类型“{f.kind}”无效，可选：{'、'.join(DiscrepancyKind)}。/ "
                               f"Unknown discrepancy kind {f.kind!r}.")
        bad = [n for n in f.pages if not 1 <= n <= top]
        if bad:
            raise InvalidInput(f"页码 {bad[0]} 超出本件页数（纸质 {item.paper_pages or '未填'} 页，"
                               f"扫描 {scanned} 页）。/ Page {bad[0]} is beyond the item's pages "
                               f"(paper {item.paper_pages or 'not given'}, scanned {scanned}).")
        check_text(CheckFinding.note, f.note, "差异说明")
    check = CrossCheck(item_id=item.id, result=result, officer_id=user.id,
                       officer=user.username, officer_name=user.display_name or user.username,
                       checked_at=now(), paper_pages=item.paper_pages, scanned_pages=scanned,
                       note=note,
                       findings=[CheckFinding(kind=f.kind, pages=sorted(set(f.pages)) or None,
                                              note=(f.note or "").strip() or None)
                                 for f in findings])
    session.add(check)
    session.flush()
    record(session, user.username, "crosscheck", f"item:{item.id}",
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
            .where(visible_clause(visibility_for(user)), _needs_check(last)))
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


# ----------------------------------------------------------------- the archivist's tasks


@dataclass(frozen=True)
class RescanTask:
    item: ArchiveItem
    check: CrossCheck


def rescan_tasks(session: Session, user: User | None) -> list[RescanTask]:
    """Discrepancies found by the officers and not yet answered (no change to the item
    since the check): the archivist's list."""
    if user is None or user.role not in FILE_REPAIR_ROLES:
        raise PermissionDenied("只有档案管理员可以处理重扫任务。/ Only archivists handle rescan "
                               "tasks.")
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
