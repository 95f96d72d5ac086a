"""Destruction at the end of retention (销毁): the items due, appraisal by an archivist (keep
longer, or destroy, with a reason), approval (the executive for 秘密 and above, the archive
manager for the others; not one's own), six months held apart, then destruction confirmed
by an archivist under a named supervisor: the item is purged as a final deletion is
(service.purge) and entered in the destruction register, which is never purged.

Retention D10 and D30 run from the end of the item's year (an item of 2010 kept ten years is
due on 2021-01-01); Y (permanent) is never due. Times are read on the archive's clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from . import clock
from .access import (
    listed_level_title,
    listed_title,
    require_appraise,
    require_approve_destruction,
    require_confirm_destruction,
    require_see_disposal,
    visibility_for,
)
from .archive import Archive
from .audit import record
from .deletion import MISSING_NOTE, OPEN_DESTRUCTION, OPEN_STATES, reason_text
from .errors import N_, Conflict, InvalidInput, NotFound
from .holds import refuse_out_on_loan
from .items import get_item
from .lending import OPEN_STATUSES
from .models import (
    ArchiveItem,
    DeletionRequest,
    DestructionCase,
    DestructionRecord,
    Loan,
    LoanItem,
    User,
    ViewingGrant,
)
from .privacy import title_for
from .purge import remove_objects, tombstone
from .users import get_user
from .vocab import OPEN_PAGE_STATUSES, TOMBSTONES, ItemStatus

#: Years kept, by retention code; Y (permanent) is never due.
RETENTION_YEARS = {"D10": 10, "D30": 30}
#: How long an approved destruction is held apart before it may be carried out.
HOLD_MONTHS = 6
MAX_EXTEND_YEARS = 100
MISSING_APPRAISAL = N_("请填写鉴定意见。")


def add_months(at: datetime, months: int) -> datetime:
    """The same day `months` later (the month's last day when it has no such day)."""
    month = at.month - 1 + months
    year, month = at.year + month // 12, month % 12 + 1
    for day in (at.day, 30, 29, 28):
        try:
            return at.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    raise AssertionError("every month has a 28th")


def retention_ends(item: ArchiveItem) -> date | None:
    """The day an item's retention has run out (None: kept permanently)."""
    years = RETENTION_YEARS.get(item.retention)
    return None if years is None else date(item.year + years + 1, 1, 1)


@dataclass(frozen=True)
class DueItem:
    id: int
    archival_code: str
    title: str
    year: int
    retention: str
    secrecy: str
    pages: int | None
    due_on: date


def _busy_ids(session: Session, now: datetime) -> set[int]:
    """Items on loan, held for deletion or already in a deletion or destruction."""
    busy = set(session.scalars(select(DeletionRequest.item_id).where(
        DeletionRequest.state.in_(OPEN_STATES))))
    busy |= set(session.scalars(select(DestructionCase.item_id).where(
        DestructionCase.state.in_(OPEN_DESTRUCTION))))
    busy |= set(session.scalars(select(LoanItem.item_id).join(Loan, Loan.id == LoanItem.loan_id)
                                .where(Loan.status.in_(OPEN_STATUSES))))
    busy |= set(session.scalars(select(ViewingGrant.item_id).where(
        ViewingGrant.expires_at > now, ViewingGrant.revoked_at.is_(None))))
    kept = select(DestructionCase.item_id, func.max(DestructionCase.keep_until).label("until")) \
        .where(DestructionCase.state == "kept").group_by(DestructionCase.item_id).subquery()
    busy |= set(session.scalars(select(kept.c.item_id).where(kept.c.until > now.date())))
    return busy


def _due(session: Session, today: date) -> list[ArchiveItem]:
    now = clock.now()
    conds = [ArchiveItem.retention == code for code in RETENTION_YEARS]
    items = session.scalars(select(ArchiveItem).where(
        or_(*conds), ArchiveItem.status.notin_([*TOMBSTONES, ItemStatus.MERGED]),
        ArchiveItem.deletion_due_at.is_(None)).order_by(ArchiveItem.archival_code))
    busy = _busy_ids(session, now)
    out = []
    for item in items:
        ends = retention_ends(item)
        if ends is not None and ends <= today and item.id not in busy:
            out.append(item)
    return out


def due_items(archive: Archive, user: User) -> list[DueItem]:
    """The items whose retention has run out and that no loan, hold or process holds."""
    require_see_disposal(user)
    vis = visibility_for(user)
    with archive.session() as s:
        return [DueItem(id=i.id, archival_code=i.archival_code, title=title_for(user, listed_title(vis, i)),
                        year=i.year,
                        retention=i.retention, secrecy=i.secrecy, pages=i.paper_pages,
                        due_on=retention_ends(i) or date.max)
                for i in _due(s, clock.now().date())]


def appraise(archive: Archive, user: User, item_id: int, decision: str, reason: str,
             extend_years: int | None = None) -> int:
    """An archivist's appraisal of a due item: keep (extend by `extend_years`) or destroy."""
    require_appraise(user)
    if decision not in ("keep", "destroy"):
        raise InvalidInput(N_("鉴定结论应为“继续保存”或“销毁”。"))
    reason = reason_text(reason, MISSING_APPRAISAL, "鉴定意见")
    if decision == "keep" and (extend_years is None or not 1 <= extend_years <= MAX_EXTEND_YEARS):
        raise InvalidInput(N_("继续保存须填写延长年限（1–%(max)s 年）。"), max=MAX_EXTEND_YEARS)
    with archive.session() as s:
        item = get_item(s, item_id)
        now = clock.now()
        if item not in _due(s, now.date()):
            raise Conflict(N_("%(code)s 不在到期待鉴定的档案中（未到期、永久保存、借出中或已在办理）。"),
                           code=item.archival_code)
        case = DestructionCase(item_id=item.id, decision=decision, reason=reason,
                               appraised_by=user.username, appraised_at=now)
        if decision == "keep":
            assert extend_years is not None
            case.state, case.extend_years = "kept", extend_years
            case.keep_until = add_months(now, 12 * extend_years).date()
        else:
            case.state = "appraised"
        s.add(case)
        s.flush()
        record(s, user.username, "destruction.appraise", f"item:{item.id}",
               {"archival_code": item.archival_code, "decision": decision, "reason": reason,
                "extend_years": extend_years, "case": case.id})
        return case.id


def _case(session: Session, case_id: int) -> DestructionCase:
    case = session.get(DestructionCase, case_id)
    if case is None:
        raise NotFound(N_("销毁事项 %(id)s 不存在。"), id=case_id)
    return case


def approve(archive: Archive, user: User, case_id: int) -> datetime:
    """Approve destroying: held apart until the returned time (six months)."""
    with archive.session() as s:
        case = _case(s, case_id)
        item = get_item(s, case.item_id)
        require_approve_destruction(user, item.secrecy, case.appraised_by)
        if case.state != "appraised":
            raise Conflict(N_("该销毁事项已处理，不能再审批。"))
        refuse_out_on_loan(s, item)
        now = clock.now()
        case.state, case.approved_by, case.approved_at = "approved", user.username, now
        case.due_at = add_months(now, HOLD_MONTHS)
        record(s, user.username, "destruction.approve", f"item:{item.id}",
               {"archival_code": item.archival_code, "case": case.id,
                "held_until": case.due_at.isoformat()})
        return case.due_at


def reject(archive: Archive, user: User, case_id: int, note: str) -> None:
    note = reason_text(note, MISSING_NOTE, "驳回理由")
    with archive.session() as s:
        case = _case(s, case_id)
        item = get_item(s, case.item_id)
        require_approve_destruction(user, item.secrecy, case.appraised_by)
        if case.state != "appraised":
            raise Conflict(N_("该销毁事项已处理，不能再审批。"))
        case.state, case.approved_by, case.approved_at = "rejected", user.username, clock.now()
        case.decision_note = note
        record(s, user.username, "destruction.reject", f"item:{item.id}",
               {"archival_code": item.archival_code, "case": case.id, "note": note})


def confirm(archive: Archive, user: User, case_id: int, supervisor_name: str) -> int:
    """After six months held apart, an archivist confirms the destruction under a named
    supervisor: the register gains a line, the item becomes a tombstone and its objects go.
    Returns the register number."""
    with archive.session() as s:
        case = _case(s, case_id)
        name = (supervisor_name or "").strip()
        if not name:
            raise InvalidInput(N_("请填写监销人。"))
        supervisor = get_user(s, name)
        require_confirm_destruction(user, supervisor)
        if case.state != "approved":
            raise Conflict(N_("只有已批准的销毁可以确认。"))
        now = clock.now()
        assert case.due_at is not None
        if clock.aware(case.due_at) > now:
            raise Conflict(N_("销毁须隔离保存满六个月，%(date)s 之后才能确认。"),
                           date=clock.aware(case.due_at).strftime("%Y-%m-%d"))
        item = get_item(s, case.item_id)
        if any(p.status in OPEN_PAGE_STATUSES for p in item.pages):
            raise Conflict(N_("%(code)s 仍在识别中，请稍后再确认销毁。"), code=item.archival_code)
        refuse_out_on_loan(s, item)
        number = (s.scalar(select(func.max(DestructionRecord.number))) or 0) + 1
        s.add(DestructionRecord(
            number=number, item_id=item.id, archival_code=item.archival_code, title=item.title,
            year=item.year, retention=item.retention, secrecy=item.secrecy,
            pages=item.paper_pages if item.paper_pages is not None else len(item.pages),
            box=item.box.barcode if item.box is not None else None, reason=case.reason,
            appraised_by=case.appraised_by, approved_by=case.approved_by or "",
            supervisor=supervisor.username, confirmed_by=user.username, destroyed_at=now))
        case.state, case.confirmed_by, case.confirmed_at = "destroyed", user.username, now
        case.supervisor = supervisor.username
        case.manifest = tombstone(archive, s, item, ItemStatus.DESTROYED, user.username,
                                  case.reason)
        record(s, user.username, "destruction.confirm", f"item:{item.id}",
               {"archival_code": item.archival_code, "case": case.id, "register": number,
                "supervisor": supervisor.username})
    remove_objects(archive)
    return number


@dataclass(frozen=True)
class CaseRow:
    id: int
    item_id: int
    archival_code: str
    title: str
    secrecy: str
    decision: str
    reason: str
    appraised_by: str
    approved_by: str | None
    due_at: datetime | None
    approver_role: str


def cases(archive: Archive, user: User, states: tuple[str, ...]) -> list[CaseRow]:
    from .access import destruction_approver

    require_see_disposal(user)
    vis = visibility_for(user)
    with archive.session() as s:
        rows = s.execute(select(DestructionCase, ArchiveItem)
                         .join(ArchiveItem, ArchiveItem.id == DestructionCase.item_id)
                         .where(DestructionCase.state.in_(states))
                         .order_by(DestructionCase.id)).all()
        return [CaseRow(id=c.id, item_id=i.id, archival_code=i.archival_code,
                        title=title_for(user, listed_title(vis, i)), secrecy=i.secrecy,
                        decision=c.decision, reason=c.reason,
                        appraised_by=c.appraised_by, approved_by=c.approved_by,
                        due_at=clock.aware(c.due_at) if c.due_at else None,
                        approver_role=destruction_approver(i.secrecy))
                for c, i in rows]


def item_destruction(archive: Archive, item_id: int) -> CaseRow | None:
    """The destruction under way for an item (appraised or held apart), for its page."""
    with archive.session() as s:
        found = cases_in(s, item_id)
        return found[0] if found else None


def cases_in(session: Session, item_id: int) -> list[CaseRow]:
    from .access import destruction_approver

    out = []
    for c in session.scalars(select(DestructionCase).where(
            DestructionCase.item_id == item_id, DestructionCase.state.in_(OPEN_DESTRUCTION))):
        i = get_item(session, item_id)
        out.append(CaseRow(id=c.id, item_id=i.id, archival_code=i.archival_code, title=i.title,
                           secrecy=i.secrecy, decision=c.decision, reason=c.reason,
                           appraised_by=c.appraised_by, approved_by=c.approved_by,
                           due_at=clock.aware(c.due_at) if c.due_at else None,
                           approver_role=destruction_approver(i.secrecy)))
    return out


def register(archive: Archive, user: User | None) -> list[DestructionRecord]:
    """The destruction register, in its numbers' order (None: the operator). A user reads
    the title of a record only of a 密级 they look up (never 绝密): the copies handed out
    are detached from the catalogue, so the withheld title is never written back."""
    if user is not None:
        require_see_disposal(user)
    with archive.session() as s:
        rows = list(s.scalars(select(DestructionRecord).order_by(DestructionRecord.number)))
        for r in rows:
            s.expunge(r)
    if user is not None:
        vis = visibility_for(user)
        for r in rows:
            r.title = title_for(user, listed_level_title(vis, r.secrecy, r.title))
    return rows

