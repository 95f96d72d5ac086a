"""What keeps an item from lending or from disposal, in one place for both sides.

An item held for disposal (a destruction appraised or approved and in its six months apart;
a deletion approved and in its 30-day hold) is not lent: the archivist would not hand out
what is about to go. Conversely a paper original out on loan (issued, not returned) is not
deleted or destroyed while a reader has it. The loan statuses are spelled here (not
imported from service.lending) because lending, deletion and destruction all consult this
module.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from . import clock
from .errors import N_, Conflict
from .models import ArchiveItem, DestructionCase, Loan, LoanItem

#: States of a destruction case that hold its item for destruction.
DESTRUCTION_HOLD = ("appraised", "approved")
#: Loan status and kind of a paper original in a reader's hands.
ISSUED, PAPER = "issued", "paper"


def disposal_hold(session: Session, item: ArchiveItem) -> Conflict | None:
    """Why `item` may not be lent now (None: it is not held for disposal)."""
    case = session.scalar(select(DestructionCase).where(
        DestructionCase.item_id == item.id, DestructionCase.state.in_(DESTRUCTION_HOLD)))
    if case is not None and case.state == "approved" and case.due_at is not None:
        return Conflict(N_("%(code)s 已批准销毁，隔离保存至 %(date)s，不能借阅。"),
                        code=item.archival_code,
                        date=clock.aware(case.due_at).strftime("%Y-%m-%d"))
    if case is not None:
        return Conflict(N_("%(code)s 已鉴定为销毁，正在等待审批，不能借阅。"),
                        code=item.archival_code)
    if item.deletion_due_at is not None:
        return Conflict(N_("%(code)s 已批准删除，保留期至 %(date)s，不能借阅。"),
                        code=item.archival_code,
                        date=clock.aware(item.deletion_due_at).strftime("%Y-%m-%d"))
    return None


def refuse_held(session: Session, items: Iterable[ArchiveItem]) -> None:
    """Raise the reason the first of `items` held for disposal may not be lent."""
    for item in items:
        refusal = disposal_hold(session, item)
        if refusal is not None:
            raise refusal


def held_clause() -> ColumnElement[bool]:
    """A WHERE clause true for the items not held for disposal (the 档号 picker)."""
    held = select(DestructionCase.item_id).where(DestructionCase.state.in_(DESTRUCTION_HOLD))
    return ArchiveItem.deletion_due_at.is_(None) & ArchiveItem.id.notin_(held)


def paper_loan_out(session: Session, item_id: int) -> str | None:
    """The number of the paper loan that has the item's original out now, if any."""
    return session.scalar(select(Loan.number).join(LoanItem, LoanItem.loan_id == Loan.id)
                          .where(LoanItem.item_id == item_id, Loan.status == ISSUED,
                                 Loan.kind == PAPER).limit(1))


def refuse_out_on_loan(session: Session, item: ArchiveItem) -> None:
    """Refuse disposing of an original a reader has out on a paper loan."""
    number = paper_loan_out(session, item.id)
    if number is not None:
        raise Conflict(N_("%(code)s 的纸质原件正在借阅单 %(number)s 中借出，归还后才能删除或销毁。"),
                       code=item.archival_code, number=number)
