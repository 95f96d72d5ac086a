"""The register of all loans (借阅登记簿): filtered on screen, printed as a PDF (the Chinese
font embedded, service.pdfdoc) and downloaded as XLSX (service.sheets).

Every format writes the same rows (`rows`), so the printed register and the sheet agree with
the page. Statuses and kinds are message ids: the caller says how to write them (``show``).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

from fpdf.fonts import FontFace
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from . import clock
from .access import Who, require_loan_register
from .audit import actor_name, record
from .audit_actions import AuditAction
from .errors import N_, InvalidInput, Message
from .lending import (
    ELECTRONIC,
    KIND_NAMES,
    KINDS,
    LOCAL,
    OVERDUE,
    STATUS_NAMES,
    STATUSES,
    local,
    shown_status,
)
from .models import Loan, LoanItem, User
from .pdfdoc import FAMILY, CjkPdf
from .privacy import title_for
from .sheets import SheetWriter
from .vocab import Secrecy

Show = Callable[[Message | str], str]

#: Column headers, "中文 / English".
COLUMNS = ("借阅单号 / No.", "借阅人 / Borrower", "部门 / Department", "方式 / Kind",
           "档案 / Items", "借阅期限 / Period", "状态 / Status", "审批 / Decided by",
           "借出 / Issued by", "归还 / Returned to", "页数 出/回 / Pages out/back",
           "目的 / Purpose")
_TITLE = "借阅登记簿 / Loan register"
EXPORT_FORMATS = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                  "pdf": "application/pdf"}


@dataclass(frozen=True)
class RegisterFilters:
    status: str | None = None
    kind: str | None = None
    #: A 借阅单号, user name, name or department containing this.
    q: str | None = None
    #: Loans requested on or after / on or before these days (Beijing time).
    since: date | None = None
    until: date | None = None
    #: Only loans whose pages came back with a difference.
    mismatch: bool = False


def _day(raw: str | None, label: str) -> date | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(N_("%(field)s“%(value)s”不是有效的日期，应为 年-月-日。"),
                           field=Message(label), value=raw[:20]) from None


def parse_filters(args: dict) -> RegisterFilters:
    status = (args.get("status") or "").strip() or None
    if status is not None and status not in (*STATUSES, OVERDUE):
        raise InvalidInput(N_("未知的借阅状态“%(value)s”。"), value=status[:20])
    kind = (args.get("kind") or "").strip() or None
    if kind is not None and kind not in KINDS:
        raise InvalidInput(N_("未知的借阅方式“%(value)s”。"), value=kind[:20])
    return RegisterFilters(status=status, kind=kind, q=(args.get("q") or "").strip()[:100] or None,
                           since=_day(args.get("since"), N_("起始日期")),
                           until=_day(args.get("until"), N_("截止日期")),
                           mismatch=(args.get("mismatch") or "") in {"1", "on", "true"})


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=LOCAL)


def register(session: Session, user: User, filters: RegisterFilters) -> list[Loan]:
    """All loans matching the filters, newest first."""
    require_loan_register(user)
    stmt = select(Loan).join(User, User.id == Loan.borrower_id).options(
        selectinload(Loan.items).selectinload(LoanItem.item), selectinload(Loan.borrower))
    if filters.status == OVERDUE:
        stmt = stmt.where(Loan.status == "issued", Loan.kind == "paper",
                          Loan.ends_at <= clock.now())
    elif filters.status:
        stmt = stmt.where(Loan.status == filters.status)
    if filters.kind:
        stmt = stmt.where(Loan.kind == filters.kind)
    if filters.q:
        like = f"%{filters.q.replace('%', '').replace('_', '')}%"
        stmt = stmt.where(or_(Loan.number.ilike(like), User.username.ilike(like),
                              User.display_name.ilike(like), Loan.department.ilike(like)))
    if filters.since:
        stmt = stmt.where(Loan.requested_at >= _start_of(filters.since))
    if filters.until:
        stmt = stmt.where(Loan.requested_at < _start_of(filters.until + timedelta(days=1)))
    if filters.mismatch:
        stmt = stmt.where(Loan.mismatch.is_(True))
    return list(session.scalars(stmt.order_by(Loan.id.desc())))


def _pages(loan: Loan) -> str:
    if loan.kind == ELECTRONIC:
        return ""
    parts = []
    for li in loan.items:
        out = "—" if li.pages_out is None else str(li.pages_out)
        back = "—" if li.pages_back is None else str(li.pages_back)
        flag = " ≠" if li.pages_back is not None and li.pages_back != li.pages_out else ""
        parts.append(f"{out}/{back}{flag}" + (f"（{li.mismatch_note}）" if li.mismatch_note else ""))
    return "\n".join(parts)


def _items(loan: Loan, who: Who) -> str:
    """The loan's items by 档号 and title (as `who` may read it: privacy.title_for)."""
    return "\n".join(f"{li.item.archival_code} {title_for(who, li.item)}"
                     + (f" [{li.item.secrecy}]" if li.item.secrecy != Secrecy.PUBLIC else "")
                     for li in loan.items)


def rows(loans: list[Loan], show: Show = str, who: Who = None) -> list[list[str]]:
    """One row per loan, in the register's order, as `who` reads it (None: the operator)."""
    out = []
    for loan in loans:
        borrower = loan.borrower.display_name or loan.borrower.username
        status = show(Message(STATUS_NAMES[shown_status(loan)]))
        if loan.mismatch:
            status += " · " + show(Message(N_("页数不符")))
            if loan.settled_at is not None:
                status += f" · {show(Message(N_('已处理')))} {loan.settled_by}: {loan.settlement}"
        out.append([loan.number, f"{borrower} ({loan.borrower.username})", loan.department,
                    show(Message(KIND_NAMES[loan.kind])), _items(loan, who),
                    f"{local(loan.starts_at)} – {local(loan.ends_at)}", status,
                    " ".join(filter(None, [loan.decided_by, local(loan.decided_at),
                                           loan.decision_note if loan.status == "rejected"
                                           else None])),
                    " ".join(filter(None, [loan.issued_by, local(loan.issued_at)])),
                    " ".join(filter(None, [loan.returned_to, local(loan.returned_at)])),
                    _pages(loan), loan.purpose])
    return out


def _summary(loans: list[Loan], filters: RegisterFilters) -> str:
    when = local(clock.now())
    return f"{when}（北京时间 / Beijing time）· 共 {len(loans)} 笔 / {len(loans)} loans"


def to_xlsx(loans: list[Loan], filters: RegisterFilters, show: Show = str,
            who: Who = None) -> bytes:
    with tempfile.TemporaryDirectory(prefix="dangan-loans-") as tmp:
        path = Path(tmp) / "register.xlsx"
        writer = SheetWriter(path, COLUMNS, title="借阅登记簿")
        for row in rows(loans, show, who):
            writer.append(row)
        writer.close()
        return path.read_bytes()


def to_pdf(loans: list[Loan], filters: RegisterFilters, show: Show = str,
           who: Who = None) -> bytes:
    pdf = CjkPdf(orientation="L")
    pdf.add_page()
    pdf.set_font(FAMILY, "B", 14)
    pdf.cell(0, 9, _TITLE, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FAMILY, size=9)
    pdf.cell(0, 6, _summary(loans, filters), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    if not loans:
        pdf.set_font(FAMILY, size=11)
        pdf.cell(0, 10, "没有借阅记录。/ No loans.", new_x="LMARGIN", new_y="NEXT")
        return pdf.to_bytes()
    pdf.set_font(FAMILY, size=7)
    with pdf.table(col_widths=(20, 22, 20, 14, 42, 26, 16, 22, 20, 20, 20, 35), line_height=3.8,
                   text_align="LEFT", headings_style=FontFace(family=FAMILY, emphasis="BOLD"),
                   repeat_headings=1) as table:
        table.row(COLUMNS)
        for row in rows(loans, show, who):
            table.row(row)
    return pdf.to_bytes()


def export(session: Session, user: User, filters: RegisterFilters, fmt: str,
           show: Show = str) -> bytes:
    """The filtered register as `fmt` (xlsx or pdf)."""
    if fmt not in EXPORT_FORMATS:
        raise InvalidInput(N_("导出格式应为 xlsx 或 pdf，而不是“%(fmt)s”。"), fmt=fmt[:10])
    loans = register(session, user, filters)
    data = (to_xlsx if fmt == "xlsx" else to_pdf)(loans, filters, show, user)
    record(session, actor_name(user), AuditAction.REGISTER_PRINT, "register:loan",
           {"format": fmt, "loans": len(loans)})
    return data
