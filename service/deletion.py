"""Deleting an item (删除): a request with a reason, the archive manager's approval, 30 days
held (hidden from everyone but the archive's roles, who may undo it), then final.

The hold and the time it ends are read on the archive's clock (service.clock). Making a
deletion final is one service function (`finalise_due`) run by the queue's periodic task
and by `dangan purge`; it tombstones the item and then removes the objects nothing else
uses (service.purge), and is safe to run again or to interrupt.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from . import batch_folders, clock
from .access import (
    require_approve_deletion,
    require_request_deletion,
    require_see_disposal,
    require_undo_deletion,
)
from .archive import Archive
from .audit import record
from .errors import N_, Conflict, InvalidInput, NotFound
from .fields import check_text
from .holds import DESTRUCTION_HOLD, paper_loan_out, refuse_out_on_loan
from .items import get_item, visible_item
from .models import ArchiveItem, DeletionRequest, DestructionCase, User
from .privacy import title_for
from .purge import remove_objects, tombstone
from .vocab import OPEN_PAGE_STATUSES, TOMBSTONES, ItemStatus

#: How long an approved deletion is held before it is final (DESIGN: "held for 30 days").
HOLD = timedelta(days=30)
#: States in which a deletion is under way (an item has at most one).
OPEN_STATES = ("requested", "approved")
#: States of a destruction case still under way.
OPEN_DESTRUCTION = DESTRUCTION_HOLD


MISSING_REASON = N_("请填写删除原因。")
MISSING_NOTE = N_("请填写驳回理由。")


def reason_text(text: str, missing: str = MISSING_REASON, label: str = "删除原因") -> str:
    """A required reason, within the column's limits (`missing`: the message when blank)."""
    text = (text or "").strip()
    if not text:
        raise InvalidInput(missing)
    check_text(DeletionRequest.reason, text, label)
    return text


def open_request(session: Session, item_id: int) -> DeletionRequest | None:
    """The deletion under way for an item (asked or held), if any."""
    return session.scalar(select(DeletionRequest).where(
        DeletionRequest.item_id == item_id, DeletionRequest.state.in_(OPEN_STATES)))


def _check_deletable(session: Session, item: ArchiveItem) -> None:
    if item.status in TOMBSTONES or item.status == ItemStatus.MERGED:
        raise Conflict(N_("%(code)s 已不在馆藏中（已删除、销毁或并入他件）。"), code=item.archival_code)
    if any(p.status in OPEN_PAGE_STATUSES for p in item.pages):
        raise Conflict(N_("%(code)s 仍在识别中，请等识别完成后再申请删除。"), code=item.archival_code)
    if open_request(session, item.id) is not None:
        raise Conflict(N_("%(code)s 已有删除申请在办理中。"), code=item.archival_code)
    if session.scalar(select(DestructionCase.id).where(
            DestructionCase.item_id == item.id,
            DestructionCase.state.in_(OPEN_DESTRUCTION))) is not None:
        raise Conflict(N_("%(code)s 正在销毁流程中，不能另行删除。"), code=item.archival_code)
    refuse_out_on_loan(session, item)


def request_deletion(archive: Archive, user: User, item_id: int, reason: str) -> int:
    """Ask for an item's deletion; returns the request's id."""
    reason = reason_text(reason)
    with archive.session() as s:
        item = visible_item(s, user, item_id)
        require_request_deletion(user, item)
        _check_deletable(s, item)
        req = DeletionRequest(item_id=item.id, state="requested", reason=reason,
                              requested_by=user.username, requested_at=clock.now())
        s.add(req)
        s.flush()
        record(s, user.username, "deletion.request", f"item:{item.id}",
               {"archival_code": item.archival_code, "reason": reason, "request": req.id})
        return req.id


def _get(session: Session, request_id: int) -> DeletionRequest:
    req = session.get(DeletionRequest, request_id)
    if req is None:
        raise NotFound(N_("删除申请 %(id)s 不存在。"), id=request_id)
    return req


def approve_deletion(archive: Archive, user: User, request_id: int, note: str = "") -> datetime:
    """The archive manager approves: the item is held until the returned time."""
    with archive.session() as s:
        req = _get(s, request_id)
        require_approve_deletion(user, req.requested_by)
        if req.state != "requested":
            raise Conflict(N_("该删除申请已处理，不能再审批。"))
        now = clock.now()
        item = get_item(s, req.item_id)
        refuse_out_on_loan(s, item)
        req.state, req.decided_by, req.decided_at = "approved", user.username, now
        req.decision_note = (note or "").strip() or None
        req.due_at = item.deletion_due_at = now + HOLD
        record(s, user.username, "deletion.approve", f"item:{item.id}",
               {"archival_code": item.archival_code, "request": req.id,
                "final_on": req.due_at.isoformat()})
        return req.due_at


def reject_deletion(archive: Archive, user: User, request_id: int, note: str) -> None:
    note = reason_text(note, MISSING_NOTE, "驳回理由")
    with archive.session() as s:
        req = _get(s, request_id)
        require_approve_deletion(user, req.requested_by)
        if req.state != "requested":
            raise Conflict(N_("该删除申请已处理，不能再审批。"))
        req.state, req.decided_by, req.decided_at = "rejected", user.username, clock.now()
        req.decision_note = note
        record(s, user.username, "deletion.reject", f"item:{req.item_id}",
               {"request": req.id, "note": note})


def undo_deletion(archive: Archive, user: User, request_id: int) -> None:
    """Within the hold the archive manager undoes an approved deletion: the item is back as
    it was (listings, counts and the search index)."""
    with archive.session() as s:
        req = _get(s, request_id)
        require_undo_deletion(user)
        if req.state != "approved":
            raise Conflict(N_("只有已批准、尚未生效的删除可以撤销。"))
        item = get_item(s, req.item_id)
        req.state, req.undone_by, req.undone_at = "undone", user.username, clock.now()
        item.deletion_due_at = None
        record(s, user.username, "deletion.undo", f"item:{item.id}",
               {"archival_code": item.archival_code, "request": req.id})


@dataclass(frozen=True)
class DeletionRow:
    """A deletion as the lists show it."""

    id: int
    item_id: int
    archival_code: str
    title: str
    state: str
    reason: str
    requested_by: str
    requested_at: datetime
    decided_by: str | None
    due_at: datetime | None
    final_at: datetime | None


def deletions(archive: Archive, user: User, states: tuple[str, ...]) -> list[DeletionRow]:
    """The deletions in these states, oldest first (for the archive's roles)."""
    require_see_disposal(user)
    with archive.session() as s:
        rows = s.execute(select(DeletionRequest, ArchiveItem.archival_code, ArchiveItem.title)
                         .join(ArchiveItem, ArchiveItem.id == DeletionRequest.item_id)
                         .where(DeletionRequest.state.in_(states))
                         .order_by(DeletionRequest.id)).all()
        return [DeletionRow(id=r.id, item_id=r.item_id, archival_code=code,
                            title=title_for(user, title),
                            state=r.state, reason=r.reason, requested_by=r.requested_by,
                            requested_at=clock.aware(r.requested_at), decided_by=r.decided_by,
                            due_at=clock.aware(r.due_at) if r.due_at else None,
                            final_at=clock.aware(r.final_at) if r.final_at else None)
                for r, code, title in rows]


def item_deletion(archive: Archive, item_id: int) -> DeletionRow | None:
    """The deletion under way for an item, for its page (None when there is none)."""
    with archive.session() as s:
        req = open_request(s, item_id)
        if req is None:
            return None
        item = get_item(s, item_id)
        return DeletionRow(id=req.id, item_id=item_id, archival_code=item.archival_code,
                           title=item.title, state=req.state, reason=req.reason,
                           requested_by=req.requested_by,
                           requested_at=clock.aware(req.requested_at),
                           decided_by=req.decided_by,
                           due_at=clock.aware(req.due_at) if req.due_at else None,
                           final_at=None)


def _finalise_one(archive: Archive, request_id: int, now: datetime) -> bool:
    with archive.session() as s:
        if paper_loan_out(s, _get(s, request_id).item_id) is not None:
            return False  # a reader has the original: final once it is back
        # claim it: of two runs at once (the periodic task and `dangan purge`) one wins
        claimed = s.execute(update(DeletionRequest)
                            .where(DeletionRequest.id == request_id,
                                   DeletionRequest.state == "approved",
                                   DeletionRequest.due_at <= now)
                            .values(state="final", final_at=now)
                            .execution_options(synchronize_session=False))
        if not getattr(claimed, "rowcount", 0):
            return False
        req = _get(s, request_id)
        s.refresh(req)
        item = get_item(s, req.item_id)
        req.manifest = tombstone(archive, s, item, ItemStatus.DELETED, "system", req.reason)
        record(s, "system", "deletion.final", f"item:{item.id}",
               {"archival_code": item.archival_code, "request": req.id,
                "approved_by": req.decided_by, "pages": req.manifest["pages"]})
        return True


def finalise_due(archive: Archive) -> dict:
    """Make final every deletion whose hold has ended (one whose paper original a reader
    has out waits for its return), then remove the objects nothing uses (also those an
    interrupted earlier run left), and sweep the temporaries in ``DATA/tmp`` (batch-import
    folders, crashed uploads' and exports' files) abandoned for a week (service.batch_folders).
    Idempotent."""
    now = clock.now()
    with archive.session() as s:
        due = list(s.scalars(select(DeletionRequest.id).where(
            DeletionRequest.state == "approved", DeletionRequest.due_at <= now)
            .order_by(DeletionRequest.id)))
    final = [rid for rid in due if _finalise_one(archive, rid, now)]
    removed = remove_objects(archive)
    return {"final": len(final), "objects_removed": removed,
            "temporaries_removed": batch_folders.sweep(archive)}
