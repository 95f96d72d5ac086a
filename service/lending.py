"""Lending (借阅): request, approval, issue, return and the overdue list, each step audited.

- A request names the borrower, department, purpose, items (catalogue entries in the
  borrower's scope), paper or electronic, and the period. 绝密 and 机密 are never lent
  electronically; an electronic loan of 秘密 lasts at most 4 hours. Paper originals are never
  taken away: a paper loan is reading on the premises, the pages counted out and back.
- Approval by the level the items need (service.access.loan_approver_role); nobody decides
  their own loan; a rejection says why.
- Issue (an archivist): paper, the pages counted out per item; electronic, a viewing grant
  per item (service.grants) from issue until the end of the period, which ends by itself.
- Return: paper, the pages counted back; a difference is recorded on the loan and reported.
  Electronic: an early return ends the grants.
All times read the archive's clock (service.clock), so tests move time instead of waiting.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from itertools import islice

from sqlalchemy import BindParameter, ColumnElement, Select, and_, bindparam, func, or_, select
from sqlalchemy.orm import Session, selectinload

from . import clock, grants
from .access import (
    can_lend,
    can_see_loan,
    loan_approval_refusal,
    loan_approver_role,
    lookup_visibility,
    may_look_up,
    own_request,
    require_approve_loan,
    require_lend,
    require_return_loan,
    visible_clause,
)
from .audit import record
from .codes import take_next
from .db import is_row_id
from .errors import N_, Conflict, InvalidInput, Message, NotFound, PermissionDenied
from .fields import check_text
from .holds import held_clause, refuse_held
from .models import ArchiveItem, Loan, LoanItem, User
from .privacy import sees_personal, title_for
from .vocab import ItemStatus, Role, Secrecy

PAPER = "paper"
ELECTRONIC = "electronic"
KINDS = (PAPER, ELECTRONIC)

REQUESTED, APPROVED, REJECTED = "requested", "approved", "rejected"
ISSUED, RETURNED, WITHDRAWN = "issued", "returned", "withdrawn"
#: Shown, never stored: an issued paper loan past its end; an issued electronic loan past its
#: end (its grants ended by themselves).
OVERDUE, EXPIRED = "overdue", "expired"
STATUSES = (REQUESTED, APPROVED, REJECTED, ISSUED, RETURNED, WITHDRAWN)
OPEN_STATUSES = (REQUESTED, APPROVED, ISSUED)

#: 秘密 is lent electronically for at most this long (DESIGN: at most 4 hours).
SECRET_ELECTRONIC_MAX = timedelta(hours=4)
#: Other electronic loans (公开, 内部 items outside the borrower's own files).
ELECTRONIC_MAX = timedelta(days=7)
#: Reading paper originals on the premises.
PAPER_MAX = timedelta(days=1)
#: A request starts at most this far ahead, and no earlier than this before now.
LEAD_MAX = timedelta(days=90)
START_GRACE = timedelta(minutes=10)
MAX_ITEMS = 50
MAX_PAGES = 100_000

#: Periods are typed and shown in the archive's local time, Beijing time (UTC+8, no DST).
LOCAL = timezone(timedelta(hours=8), "北京时间")


# ----------------------------------------------------------------- times


def parse_local(text: str | None, label: str) -> datetime:
    """A period time typed as "YYYY-MM-DD HH:MM" (or the browser's "YYYY-MM-DDTHH:MM") in
    Beijing time, as an aware UTC time."""
    raw = (text or "").strip().replace("T", " ")
    if not raw:
        raise InvalidInput(N_("请填写%(field)s。"), field=Message(label))
    try:
        at = datetime.strptime(raw[:16], "%Y-%m-%d %H:%M")
    except ValueError:
        raise InvalidInput(N_("%(field)s“%(value)s”不是有效的时间，应为 年-月-日 时:分。"),
                           field=Message(label), value=raw[:40]) from None
    return at.replace(tzinfo=LOCAL).astimezone(UTC)


def local(at: datetime | None) -> str:
    """A stored time as Beijing time, "YYYY-MM-DD HH:MM"."""
    return clock.aware(at).astimezone(LOCAL).strftime("%Y-%m-%d %H:%M") if at else ""


def local_input(at: datetime) -> str:
    """A time for a datetime-local field."""
    return clock.aware(at).astimezone(LOCAL).strftime("%Y-%m-%dT%H:%M")


def _hours(span: timedelta) -> str:
    hours = span.total_seconds() / 3600
    return f"{hours:g}"


# ----------------------------------------------------------------- finding


def get_loan(session: Session, loan_id: int, *, for_update: bool = False) -> Loan:
    """The loan; `for_update` locks its row (PostgreSQL) so two steps on one loan at once
    (two archivists issuing it) happen one after the other and the second sees the first."""
    loan = session.get(Loan, loan_id, with_for_update=for_update) if is_row_id(loan_id) \
        else None
    if loan is None:
        raise NotFound(N_("借阅单 %(loan_id)s 不存在。"), loan_id=loan_id)
    return loan


def visible_loan(session: Session, user: User | None, loan_id: int) -> Loan:
    loan = get_loan(session, loan_id)
    if not can_see_loan(user, loan):
        raise PermissionDenied(N_("您无权查看该借阅单。"))
    return loan


def shown_status(loan: Loan, at: datetime | None = None) -> str:
    """The status to show: an issued loan past its end is overdue (paper) or expired
    (electronic: its grants have ended by themselves)."""
    at = at or clock.now()
    if loan.status == ISSUED and clock.aware(loan.ends_at) <= at:
        return OVERDUE if loan.kind == PAPER else EXPIRED
    return loan.status


def _with_items(stmt: Select[tuple[Loan]]) -> Select[tuple[Loan]]:
    return stmt.options(selectinload(Loan.items).selectinload(LoanItem.item),
                        selectinload(Loan.borrower))


def my_loans(session: Session, user: User) -> list[Loan]:
    """Loans the user borrows or registered, newest first."""
    return list(session.scalars(_with_items(select(Loan).where(
        or_(Loan.borrower_id == user.id, Loan.requested_by == user.username))
        .order_by(Loan.id.desc()))))


def approval_queue(session: Session, user: User) -> list[Loan]:
    """Requests waiting for a decision that `user` may take (not their own)."""
    rows = session.scalars(_with_items(select(Loan).where(Loan.status == REQUESTED)
                                       .order_by(Loan.id)))
    return [loan for loan in rows if loan_approval_refusal(user, loan) is None]


def desk_queue(session: Session, user: User) -> tuple[list[Loan], list[Loan]]:
    """The lending desk: approved loans to issue, issued loans to take back."""
    require_lend(user)
    to_issue = list(session.scalars(_with_items(select(Loan).where(Loan.status == APPROVED)
                                                .order_by(Loan.starts_at))))
    out = list(session.scalars(_with_items(select(Loan).where(Loan.status == ISSUED)
                                           .order_by(Loan.ends_at))))
    return to_issue, out


def _overdue(at: datetime | BindParameter[datetime]) -> ColumnElement[bool]:
    """Paper loans issued and not returned by `at`, the end of their period."""
    return and_(Loan.status == ISSUED, Loan.kind == PAPER, Loan.ends_at <= at)


def _mismatched() -> ColumnElement[bool]:
    """Returns whose pages counted back differed from those counted out, not yet settled."""
    return and_(Loan.mismatch.is_(True), Loan.settled_at.is_(None))


def overdue_loans(session: Session, at: datetime | None = None,
                  borrower_id: int | None = None) -> list[Loan]:
    """Paper loans issued and not returned by the end of their period, longest overdue first."""
    stmt = select(Loan).where(_overdue(at or clock.now()))
    if borrower_id is not None:
        stmt = stmt.where(Loan.borrower_id == borrower_id)
    return list(session.scalars(_with_items(stmt.order_by(Loan.ends_at))))


def mismatched_loans(session: Session) -> list[Loan]:
    """Returned loans whose pages counted back differed from those counted out, not yet
    settled (the desk's attention list)."""
    return list(session.scalars(_with_items(select(Loan).where(_mismatched())
                                            .order_by(Loan.returned_at.desc()))))


@dataclass(frozen=True)
class Reminders:
    """What the banner tells a signed-in user about loans."""

    #: The user's own overdue loans (numbers).
    mine_overdue: tuple[str, ...] = ()
    #: For the lending desk: overdue loans and returns with a page mismatch.
    desk_overdue: int = 0
    desk_mismatches: int = 0
    #: For approvers: requests waiting for them.
    to_approve: int = 0

    def __bool__(self) -> bool:
        """Anything to tell (a page shows the banner only then)."""
        return bool(self.mine_overdue or self.desk_overdue or self.desk_mismatches
                    or self.to_approve)


# The banner's two statements, built once (it is on every page).
_MINE_OVERDUE = select(Loan.number).where(_overdue(bindparam("at")),
                                          Loan.borrower_id == bindparam("user_id")) \
    .order_by(Loan.ends_at)
_DESK_COUNTS = select(
    select(func.count(Loan.id)).where(_overdue(bindparam("at"))).scalar_subquery(),
    select(func.count(Loan.id)).where(_mismatched()).scalar_subquery())


def reminders(session: Session, user: User | None) -> Reminders:
    """The banner's figures, on every page: numbers and counts read by the database (one
    statement, two for the desk), never the loans themselves with their items (#15.3)."""
    if user is None:
        return Reminders()
    at = clock.now()
    mine = tuple(session.scalars(_MINE_OVERDUE, {"at": at, "user_id": user.id}))
    overdue = mismatches = 0
    if can_lend(user):
        overdue, mismatches = session.execute(_DESK_COUNTS, {"at": at}).one()
    return Reminders(
        mine_overdue=mine, desk_overdue=int(overdue), desk_mismatches=int(mismatches),
        to_approve=len(approval_queue(session, user))
        if user.role in {Role.DEPT_MANAGER, Role.EXECUTIVE} else 0)


# ----------------------------------------------------------------- the item picker


def pick_items(session: Session, borrower: User, q: str, limit: int = 20) -> list[ArchiveItem]:
    """Catalogue entries `borrower` may look up whose 档号 or title contains `q`."""
    q = (q or "").strip()[:100]
    if not q:
        return []
    plain = q.replace("\\", "").replace("%", "").replace("_", "")
    pattern = f"%{plain}%"
    found = session.scalars(
        select(ArchiveItem).where(visible_clause(lookup_visibility(session, borrower)),
                                  ArchiveItem.status != ItemStatus.MERGED, held_clause(),
                                  or_(ArchiveItem.archival_code.ilike(pattern),
                                      ArchiveItem.title.ilike(pattern)))
        .order_by(ArchiveItem.archival_code))
    if sees_personal(borrower):
        return list(islice(found, limit))
    # the title as the borrower reads it (privacy.title_for): the picker never confirms an
    # ID or mobile number they are shown masked
    wanted = plain.casefold()
    return list(islice((i for i in found if wanted in i.archival_code.casefold()
                        or wanted in title_for(borrower, i).casefold()), limit))


def chosen_items(session: Session, user: User, item_ids: Sequence[int]) -> list[ArchiveItem]:
    """The items a request form names (``?item=ID`` from a link), those the user may look
    up only: an id never names back the title or 档号 of an item beyond their scope."""
    items = (session.get(ArchiveItem, i) for i in dict.fromkeys(item_ids) if is_row_id(i))
    return [item for item in items if item is not None and may_look_up(user, item)]


def items_by_codes(session: Session, borrower: User, codes: Sequence[str]) -> list[int]:
    """The ids of items named by 档号 (one per line in the form), in the borrower's scope."""
    ids: list[int] = []
    for code in codes:
        code = code.strip()
        if not code:
            continue
        item = session.scalar(select(ArchiveItem).where(ArchiveItem.archival_code == code))
        if item is None or not may_look_up(borrower, item):
            raise NotFound(N_("档号 %(code)s 不存在或不在借阅人可查阅的范围内。"), code=code)
        ids.append(item.id)
    return ids


# ----------------------------------------------------------------- request


@dataclass
class LoanRequest:
    """What a borrower asks for (parsed from the form or the command line)."""

    kind: str
    starts_at: datetime
    ends_at: datetime
    purpose: str
    item_ids: list[int] = field(default_factory=list)
    #: The borrower's user name; empty: the requester borrows for themself.
    borrower: str = ""
    #: Empty: the borrower's own department.
    department: str = ""


def _borrower(session: Session, user: User, name: str) -> User:
    name = name.strip()
    if not name or name == user.username:
        return user
    if not can_lend(user):
        raise PermissionDenied(N_("只能以本人名义申请借阅；代他人登记请找档案管理员。"))
    borrower = session.scalar(select(User).where(User.username == name))
    if borrower is None or not borrower.active:
        raise NotFound(N_("借阅人“%(name)s”不存在或已停用。"), name=name)
    return borrower


def _department(borrower: User, given: str) -> str:
    given = given.strip()
    if borrower.department:
        if given and given != borrower.department:
            raise InvalidInput(N_("借阅部门应为借阅人所在部门“%(department)s”。"),
                               department=borrower.department)
        return borrower.department
    if not given:
        raise InvalidInput(N_("请填写借阅部门。"))
    check_text(Loan.department, given, N_("借阅部门"))
    return given


def _may_request(user: User, borrower: User, kind: str, item: ArchiveItem) -> bool:
    """The borrower may look the entry up; or the lending desk registers reading of paper it
    may look up (a 机密 original read in the archive) on the borrower's behalf."""
    return may_look_up(borrower, item) or (kind == PAPER and can_lend(user)
                                           and may_look_up(user, item))


def _items(session: Session, user: User, borrower: User, kind: str,
           item_ids: Sequence[int]) -> list[ArchiveItem]:
    ids = list(dict.fromkeys(item_ids))
    if not ids:
        raise InvalidInput(N_("请至少选择一件要借阅的档案。"))
    if len(ids) > MAX_ITEMS:
        raise InvalidInput(N_("一次最多借阅 %(limit)s 件档案。"), limit=MAX_ITEMS)
    items = []
    for item_id in ids:
        item = session.get(ArchiveItem, item_id) if is_row_id(item_id) else None
        if item is None or not _may_request(user, borrower, kind, item):
            raise NotFound(N_("档案件 %(item_id)s 不存在或不在借阅人可查阅的范围内。"),
                           item_id=item_id)
        if item.status == ItemStatus.MERGED:
            raise InvalidInput(N_("%(code)s 已并入其他档案件，请借阅合并后的档案。"),
                               code=item.archival_code)
        items.append(item)
    refuse_held(session, items)
    return items


def check_loan_rules(kind: str, items: Sequence[ArchiveItem], starts_at: datetime,
                     ends_at: datetime, at: datetime) -> None:
    """The regulations' rules for what may be lent how, and for how long."""
    if kind not in KINDS:
        raise InvalidInput(N_("请选择借阅方式：纸质阅览或电子借阅。"))
    if ends_at <= starts_at:
        raise InvalidInput(N_("借阅结束时间应晚于开始时间。"))
    if starts_at < at - START_GRACE:
        raise InvalidInput(N_("借阅开始时间不能早于现在。"))
    if starts_at > at + LEAD_MAX:
        raise InvalidInput(N_("借阅开始时间最多可提前 %(days)s 天预约。"), days=LEAD_MAX.days)
    span = ends_at - starts_at
    if kind == ELECTRONIC:
        for item in items:
            if item.secrecy == Secrecy.TOP_SECRET:
                raise InvalidInput(N_("%(code)s 为绝密档案，绝密档案不以电子方式借阅。"),
                                   code=item.archival_code)
            if item.secrecy == Secrecy.CONFIDENTIAL:
                raise InvalidInput(N_("%(code)s 为机密档案，不能电子借阅，只能在阅览室查阅纸质原件或屏幕阅览；请改为纸质阅览。"),
                                   code=item.archival_code)
            if not item.pages:
                raise InvalidInput(N_("%(code)s 没有电子扫描件，请改为纸质阅览。"),
                                   code=item.archival_code)
        if any(item.secrecy == Secrecy.SECRET for item in items) and span > SECRET_ELECTRONIC_MAX:
            raise InvalidInput(N_("秘密档案电子借阅最长 %(hours)s 小时，请缩短借阅期限。"),
                               hours=_hours(SECRET_ELECTRONIC_MAX))
        if span > ELECTRONIC_MAX:
            raise InvalidInput(N_("电子借阅最长 %(days)s 天，请缩短借阅期限。"),
                               days=ELECTRONIC_MAX.days)
    elif span > PAPER_MAX:
        raise InvalidInput(N_("纸质原件只在档案室阅览、不能带走，每次阅览最长 %(hours)s 小时，请缩短借阅期限。"),
                           hours=_hours(PAPER_MAX))


def _next_number(session: Session, at: datetime) -> str:
    year = at.astimezone(LOCAL).year
    return f"JY-{year}-{take_next(session, f'loan:JY-{year}'):04d}"


def _codes(loan: Loan) -> list[str]:
    return [li.item.archival_code for li in loan.items]


def request_loan(session: Session, user: User, req: LoanRequest) -> Loan:
    """Register a request; it waits for the approver its items need."""
    at = clock.now()
    borrower = _borrower(session, user, req.borrower)
    department = _department(borrower, req.department)
    purpose = req.purpose.strip()
    if not purpose:
        raise InvalidInput(N_("请填写借阅目的。"))
    check_text(Loan.purpose, purpose, N_("借阅目的"))
    if len(purpose) > 500:
        raise InvalidInput(N_("%(field)s过长（最多 %(limit)s 个字符）。"), field=Message(N_("借阅目的")),
                           limit=500)
    items = _items(session, user, borrower, req.kind, req.item_ids)
    starts_at, ends_at = clock.aware(req.starts_at), clock.aware(req.ends_at)
    check_loan_rules(req.kind, items, starts_at, ends_at, at)
    loan = Loan(number=_next_number(session, at), borrower_id=borrower.id, department=department,
                purpose=purpose, kind=req.kind, starts_at=starts_at, ends_at=ends_at,
                status=REQUESTED, requested_by=user.username, requested_at=at,
                approver_role=loan_approver_role(req.kind, [i.secrecy for i in items]),
                items=[LoanItem(item_id=item.id, item=item) for item in items])
    session.add(loan)
    session.flush()
    record(session, user.username, "loan.request", f"loan:{loan.id}",
           {"number": loan.number, "borrower": borrower.username, "department": department,
            "kind": loan.kind, "items": [i.archival_code for i in items],
            "starts_at": starts_at.isoformat(), "ends_at": ends_at.isoformat(),
            "approver_role": loan.approver_role})
    return loan


# ----------------------------------------------------------------- decisions


def _expect(loan: Loan, *statuses: str) -> None:
    if loan.status not in statuses:
        raise Conflict(N_("借阅单 %(number)s 当前状态为“%(status)s”，不能进行此操作。"),
                       number=loan.number, status=Message(STATUS_NAMES.get(loan.status, loan.status)))


def _not_ended(loan: Loan, at: datetime) -> None:
    if clock.aware(loan.ends_at) <= at:
        raise Conflict(N_("借阅单 %(number)s 的借阅期限已过，请重新申请。"), number=loan.number)


def approve(session: Session, user: User, loan_id: int, note: str = "") -> Loan:
    loan = get_loan(session, loan_id, for_update=True)
    require_approve_loan(user, loan)
    _expect(loan, REQUESTED)
    at = clock.now()
    _not_ended(loan, at)
    refuse_held(session, [li.item for li in loan.items])
    note = note.strip()
    check_text(Loan.decision_note, note, N_("审批意见"))
    loan.status, loan.decided_by, loan.decided_at = APPROVED, user.username, at
    loan.decision_note = note or None
    record(session, user.username, "loan.approve", f"loan:{loan.id}",
           {"number": loan.number, "role": user.role, "note": note or None})
    return loan


def reject(session: Session, user: User, loan_id: int, reason: str) -> Loan:
    loan = get_loan(session, loan_id, for_update=True)
    require_approve_loan(user, loan)
    _expect(loan, REQUESTED)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(N_("驳回借阅申请须填写理由。"))
    if len(reason) > 500:
        raise InvalidInput(N_("%(field)s过长（最多 %(limit)s 个字符）。"), field=Message(N_("驳回理由")),
                           limit=500)
    check_text(Loan.decision_note, reason, N_("驳回理由"))
    loan.status, loan.decided_by, loan.decided_at = REJECTED, user.username, clock.now()
    loan.decision_note = reason
    record(session, user.username, "loan.reject", f"loan:{loan.id}",
           {"number": loan.number, "role": user.role, "reason": reason})
    return loan


def withdraw(session: Session, user: User, loan_id: int) -> Loan:
    """The borrower (or whoever registered it) withdraws a loan not yet issued."""
    loan = get_loan(session, loan_id, for_update=True)
    if not own_request(user, loan.requested_by, loan.borrower_id):
        raise PermissionDenied(N_("只有借阅人本人可以撤回借阅申请。"))
    _expect(loan, REQUESTED, APPROVED)
    loan.status, loan.withdrawn_at = WITHDRAWN, clock.now()
    record(session, user.username, "loan.withdraw", f"loan:{loan.id}", {"number": loan.number})
    return loan


# ----------------------------------------------------------------- issue and return


def _count(value: int | None, code: str, what: str) -> int:
    if value is None or not 0 <= value <= MAX_PAGES:
        if what == "out":
            raise InvalidInput(N_("请填写 %(code)s 借出的页数（0 至 %(limit)s）。"), code=code,
                               limit=MAX_PAGES)
        raise InvalidInput(N_("请填写 %(code)s 归还时清点的页数（0 至 %(limit)s）。"), code=code,
                           limit=MAX_PAGES)
    return value


def _paper_out_elsewhere(session: Session, loan: Loan) -> None:
    """A paper original is with one reader at a time."""
    ids = [li.item_id for li in loan.items]
    other = session.execute(select(Loan.number, ArchiveItem.archival_code)
                            .join(LoanItem, LoanItem.loan_id == Loan.id)
                            .join(ArchiveItem, ArchiveItem.id == LoanItem.item_id)
                            .where(Loan.status == ISSUED, Loan.kind == PAPER, Loan.id != loan.id,
                                   LoanItem.item_id.in_(ids))).first()
    if other is not None:
        raise Conflict(N_("%(code)s 的纸质原件正在借阅单 %(number)s 中阅览，归还后才能借出。"),
                       code=other.archival_code, number=other.number)


def issue(session: Session, user: User, loan_id: int,
          pages_out: Mapping[int, int | None] | None = None) -> Loan:
    """Hand out an approved loan. Paper: the pages of each item counted out (the item's
    paper page count unless given). Electronic: a viewing grant per item until the end."""
    require_lend(user)
    loan = get_loan(session, loan_id, for_update=True)
    _expect(loan, APPROVED)
    at = clock.now()
    _not_ended(loan, at)
    refuse_held(session, [li.item for li in loan.items])
    detail: dict = {"number": loan.number, "kind": loan.kind}
    if loan.kind == PAPER:
        _paper_out_elsewhere(session, loan)
        given = pages_out or {}
        for li in loan.items:
            li.pages_out = _count(given.get(li.item_id, li.item.paper_pages),
                                  li.item.archival_code, "out")
        detail["pages_out"] = {li.item.archival_code: li.pages_out for li in loan.items}
    else:
        start = max(at, clock.aware(loan.starts_at))
        made = grants.give(session, user_id=loan.borrower_id,
                           item_ids=[li.item_id for li in loan.items],
                           expires_at=clock.aware(loan.ends_at), granted_by=user.username,
                           loan_id=loan.id, starts_at=start)
        detail["grants"] = len(made)
        detail["until"] = clock.aware(loan.ends_at).isoformat()
    loan.status, loan.issued_by, loan.issued_at = ISSUED, user.username, at
    record(session, user.username, "loan.issue", f"loan:{loan.id}", detail)
    return loan


def take_back(session: Session, user: User, loan_id: int,
              pages_back: Mapping[int, int | None] | None = None,
              notes: Mapping[int, str] | None = None) -> Loan:
    """Receive a loan back. Paper: the pages of each item counted back; a difference from
    the pages counted out is recorded on the item and the loan (and reported). Electronic:
    ends the grants now (an early return, by the desk or the borrower)."""
    loan = get_loan(session, loan_id, for_update=True)
    require_return_loan(user, loan)
    _expect(loan, ISSUED)
    at = clock.now()
    detail: dict = {"number": loan.number, "kind": loan.kind}
    if loan.kind == PAPER:
        counted = pages_back or {}
        notes = notes or {}
        mismatches = {}
        for li in loan.items:
            code = li.item.archival_code
            back = _count(counted.get(li.item_id), code, "back")
            note = (notes.get(li.item_id) or "").strip()
            check_text(LoanItem.mismatch_note, note, N_("差异说明"))
            if len(note) > 500:
                raise InvalidInput(N_("%(field)s过长（最多 %(limit)s 个字符）。"),
                                   field=Message(N_("差异说明")), limit=500)
            li.pages_back = back
            if back != li.pages_out:
                li.mismatch_note = note or None
                mismatches[code] = {"out": li.pages_out, "back": back, "note": note or None}
        loan.mismatch = bool(mismatches)
        detail["pages_back"] = {li.item.archival_code: li.pages_back for li in loan.items}
        if mismatches:
            detail["mismatch"] = mismatches
    else:
        detail["grants_ended"] = grants.revoke_loan(session, loan.id, at)
        detail["early"] = clock.aware(loan.ends_at) > at
    loan.status, loan.returned_to, loan.returned_at = RETURNED, user.username, at
    record(session, user.username, "loan.return", f"loan:{loan.id}", detail)
    return loan


def settle_mismatch(session: Session, user: User, loan_id: int, settlement: str) -> Loan:
    """Record how a page mismatch was settled; the loan leaves the attention list (the
    mismatch itself stays on the loan and in the register)."""
    require_lend(user)
    loan = get_loan(session, loan_id, for_update=True)
    if not loan.mismatch or loan.settled_at is not None:
        raise Conflict(N_("借阅单 %(number)s 没有待处理的页数差异。"), number=loan.number)
    settlement = (settlement or "").strip()
    if not settlement:
        raise InvalidInput(N_("请填写页数差异的处理结果。"))
    if len(settlement) > 500:
        raise InvalidInput(N_("%(field)s过长（最多 %(limit)s 个字符）。"),
                           field=Message(N_("处理结果")), limit=500)
    check_text(Loan.settlement, settlement, N_("处理结果"))
    loan.settled_by, loan.settled_at, loan.settlement = user.username, clock.now(), settlement
    record(session, user.username, "loan.settle", f"loan:{loan.id}",
           {"number": loan.number, "settlement": settlement})
    return loan


#: How the pages and the register name a status and a kind.
STATUS_NAMES = {REQUESTED: N_("待审批"), APPROVED: N_("已批准"), REJECTED: N_("已驳回"),
                ISSUED: N_("已借出"), RETURNED: N_("已归还"), WITHDRAWN: N_("已撤回"),
                OVERDUE: N_("逾期未还"), EXPIRED: N_("已到期")}
KIND_NAMES = {PAPER: N_("纸质阅览"), ELECTRONIC: N_("电子借阅")}
