"""Changes to catalogue data wait for the archive manager's approval (DESIGN, "Changes").

The archivist's edit screen (`request_change`) and a catalogue sheet naming a registered
item (service.batch) do not write the record: they submit a `ChangeRequest` holding each
field's previous and proposed value, the reason, who asked and from where. The archive
manager approves it (`approve_change`: written through service.edits.apply_change, so the
search index follows and the item's history keeps who asked, who approved, when, why and
the previous values) or rejects it with a reason (`reject_change`); the requester may
withdraw it while it waits (`withdraw_change`). Who decides is service.access's
`can_approve_change`: nobody decides their own request, a manager's own edit included (it
waits for another archive manager).

Several requests may wait on one item; approving one whose previous values the record no
longer shows (another change landed first) is refused, so no change silently overwrites
another.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import clock
from .access import (
    can_view,
    can_withdraw_change,
    in_disposal,
    require_approve_change,
    require_manage,
)
from .audit import record
from .db import is_row_id
from .edits import FIELDS, apply_change, current_values, propose_change
from .errors import (
    N_,
    Conflict,
    InvalidInput,
    Listing,
    Message,
    NotFound,
    PermissionDenied,
    msg,
)
from .fields import check_text
from .items import get_item
from .models import ArchiveItem, ChangeRequest, ItemChange, User
from .vocab import ChangeStatus

#: The source of a request: the browser's edit screen, or a catalogue sheet's row.
EDIT, IMPORT = "edit", "import"


def request_change(session: Session, user: User, item_id: int, values: Mapping[str, str | None],
                   reason: str) -> ChangeRequest:
    """The edit screen's change of an item's fields, checked now and submitted for approval."""
    item = get_item(session, item_id)
    changes = propose_change(session, user, item, values, reason)
    return submit_change(session, user, item, changes, reason, source=EDIT)


def submit_change(session: Session, user: User | None, item: ArchiveItem,
                  changes: Mapping[str, list[Any]], reason: str, *, source: str = EDIT,
                  sheet: str | None = None, sheet_row: int | None = None) -> ChangeRequest:
    """Record a checked change (``{field: [previous, proposed]}``) as waiting for approval;
    `user` None is the operator at the command line (a catalogue sheet imported there)."""
    _require_changeable(item)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(N_("请填写修改原因。"))
    check_text(ChangeRequest.reason, reason, "修改原因")
    shown = {k: ["" if v is None else str(v) for v in pair] for k, pair in changes.items()}
    req = ChangeRequest(item_id=item.id, status=ChangeStatus.PENDING,
                        requested_by=user.username if user else "cli", requested_at=clock.now(),
                        reason=reason, changes=shown, source=source, sheet=sheet,
                        sheet_row=sheet_row, decision_note="")
    session.add(req)
    session.flush()
    _audit(session, req.requested_by, "change.request", req, item, {"changes": shown})
    return req


def waiting_like(session: Session, item_id: int, changes: Mapping[str, list[Any]]) -> \
        ChangeRequest | None:
    """A request already waiting on the item for exactly these changes (a catalogue sheet
    imported twice submits each change once)."""
    shown = {k: ["" if v is None else str(v) for v in pair] for k, pair in changes.items()}
    for req in pending_changes(session, item_id):
        if req.changes == shown:
            return req
    return None


def approve_change(session: Session, user: User, request_id: int, note: str = "") -> ItemChange:
    """The archive manager approves: the change is written and kept in the item's history."""
    req, item = _pending(session, request_id)
    require_approve_change(user, req.requested_by, item)
    _require_changeable(item)
    note = _note(note, required=False)
    now = current_values(item)
    stale = [k for k, (previous, _new) in req.changes.items() if now.get(k, "") != previous]
    if stale:
        raise Conflict(N_("档案已被其他修改更新，本申请的原值已过时（%(fields)s）：请驳回本申请，由申请人按现值重新提交。"),
                       fields=Listing(tuple(_stale_text(k, req.changes[k][0], now.get(k, ""))
                                            for k in stale)))
    change = apply_change(session, user, item, req.changes, req.reason,
                          requested_by=req.requested_by, request_id=req.id)
    _decide(req, user, ChangeStatus.APPROVED, note)
    _audit(session, user.username, "change.approve", req, item,
           {"changes": req.changes, "requested_by": req.requested_by, "note": note})
    return change


def reject_change(session: Session, user: User, request_id: int, note: str) -> ChangeRequest:
    """The archive manager rejects, saying why; the record is unchanged."""
    req, item = _pending(session, request_id)
    require_approve_change(user, req.requested_by, item)
    note = _note(note, required=True)
    _decide(req, user, ChangeStatus.REJECTED, note)
    _audit(session, user.username, "change.reject", req, item,
           {"requested_by": req.requested_by, "note": note})
    return req


def withdraw_change(session: Session, user: User, request_id: int) -> ChangeRequest:
    """The requester takes a waiting request back."""
    req, item = _pending(session, request_id)
    if not can_withdraw_change(user, req.requested_by):
        raise PermissionDenied(N_("只有申请人可以撤回修改申请。"))
    _decide(req, user, ChangeStatus.WITHDRAWN, "")
    _audit(session, user.username, "change.withdraw", req, item, {})
    return req


def pending_changes(session: Session, item_id: int) -> list[ChangeRequest]:
    """The requests waiting on an item, oldest first (the item page lists each)."""
    return list(session.scalars(
        select(ChangeRequest).where(ChangeRequest.item_id == item_id,
                                    ChangeRequest.status == ChangeStatus.PENDING)
        .order_by(ChangeRequest.id)))


def change_queue(session: Session, user: User, *, status: str = ChangeStatus.PENDING,
                 limit: int = 200) -> list[tuple[ChangeRequest, ArchiveItem, dict[str, str]]]:
    """The approvals queue: requests in `status` on items the user may open, each with the
    item and the values its record shows now (to compare with the request's), oldest
    waiting first, newest decided first. The archive's catalogue roles see it (they ask
    for changes); the archive manager decides."""
    require_manage(user)
    if status not in tuple(ChangeStatus):
        raise InvalidInput(N_("申请状态“%(value)s”无效，可选：%(choices)s。"), value=status,
                           choices=Listing(tuple(ChangeStatus)))
    order = ChangeRequest.id if status == ChangeStatus.PENDING else ChangeRequest.id.desc()
    rows = session.execute(select(ChangeRequest, ArchiveItem)
                           .join(ArchiveItem, ArchiveItem.id == ChangeRequest.item_id)
                           .where(ChangeRequest.status == status).order_by(order))
    out = []
    for req, item in rows:
        if can_view(user, item):
            out.append((req, item, current_values(item)))
            if len(out) >= limit:
                break
    return out


def _pending(session: Session, request_id: int) -> tuple[ChangeRequest, ArchiveItem]:
    """The waiting request and its item, both locked until the decision commits (on
    PostgreSQL), so two managers never decide one request, nor approve two changes of one
    item against the same previous values."""
    req = session.get(ChangeRequest, request_id, with_for_update=True) \
        if is_row_id(request_id) else None
    if req is None:
        raise NotFound(N_("修改申请 %(id)s 不存在。"), id=request_id)
    if req.status != ChangeStatus.PENDING:
        raise Conflict(N_("修改申请 %(id)s 已处理（%(status)s），不能再次处理。"), id=request_id,
                       status=Message(STATUS_LABELS.get(req.status, req.status)))
    item = session.get(ArchiveItem, req.item_id, with_for_update=True)
    assert item is not None  # items are never deleted
    return req, item


def _require_changeable(item: ArchiveItem) -> None:
    """An item held for deletion, or deleted or destroyed, keeps the record it had."""
    if in_disposal(item):
        raise Conflict(N_("档案 %(code)s 正在删除或已删除、销毁，著录不能再修改。"),
                       code=item.archival_code)


def _note(note: str | None, *, required: bool) -> str:
    note = (note or "").strip()
    if required and not note:
        raise InvalidInput(N_("驳回修改申请时请填写理由。"))
    check_text(ChangeRequest.decision_note, note, "审批意见")
    return note


def _decide(req: ChangeRequest, user: User, status: str, note: str) -> None:
    req.status, req.decided_by, req.decided_at = status, user.username, clock.now()
    req.decision_note = note


def _stale_text(key: str, previous: str, now: str) -> Message:
    label = FIELDS[key].label if key in FIELDS else "盒号"
    return msg(N_("%(field)s：申请时为“%(previous)s”，现为“%(now)s”"), field=Message(label),
               previous=previous or "—", now=now or "—")


def _audit(session: Session, actor: str, action: str, req: ChangeRequest, item: ArchiveItem,
           detail: dict[str, Any]) -> None:
    record(session, actor, action, f"item:{item.id}",
           {"request": req.id, "archival_code": item.archival_code, "reason": req.reason,
            "source": req.source, "sheet": req.sheet, "row": req.sheet_row, **detail})


#: The statuses in Chinese (message ids: the web translates them).
STATUS_LABELS: dict[str, str] = {ChangeStatus.PENDING: N_("待审批"), ChangeStatus.APPROVED: N_("已批准"),
                 ChangeStatus.REJECTED: N_("已驳回"), ChangeStatus.WITHDRAWN: N_("已撤回")}
