"""Reading the audit trail: filtered by who, what, target, from where and dates, a page at a
time for the audit page, or all of it as XLSX/CSV. Only the administrator and the archive
manager read it (service.access), and reading it is audited itself (`audit.view`,
`audit.export`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from .access import require_read_audit
from .archive import Archive
from .audit import actor_name, record, record_event
from .audit_actions import AuditAction, current_name, stored_names
from .errors import N_, InvalidInput
from .models import AuditEntry, User
from .sheets import SheetWriter

PER_PAGE = 50
MAX_PAGE = 100_000
_MAX_TEXT = 100
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
#: Columns of the exported trail, "中文 / English" (as the other exported reports).
HEADERS = ("序号 / No.", "时间 (UTC) / Time (UTC)", "用户 / User", "操作 / Action",
           "对象 / Target", "来源 / From", "详情 / Detail", "哈希 / Hash")
EXPORT_FORMATS = ("xlsx", "csv")


@dataclass(frozen=True)
class AuditQuery:
    """What to list: each given field narrows (user exactly, action by its name and its
    legacy names, target and origin by their start, dates as UTC days, both inclusive)."""

    actor: str = ""
    action: str = ""
    target: str = ""
    origin: str = ""
    date_from: date | None = None
    date_to: date | None = None

    def to_dict(self) -> dict[str, str]:
        return {k: v.isoformat() if isinstance(v, date) else v
                for k, v in asdict(self).items() if v}


def _text(args: Mapping[str, Any], name: str) -> str:
    raw = str(args.get(name) or "").strip()
    if len(raw) > _MAX_TEXT:
        raise InvalidInput(N_("参数 %(name)s 太长（最多 %(n)s 个字符）。"), name=name, n=_MAX_TEXT)
    return raw


def _day(args: Mapping[str, Any], name: str) -> date | None:
    raw = str(args.get(name) or "").strip()
    if not raw:
        return None
    try:
        if not _DATE.match(raw):
            raise ValueError(raw)
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(N_("日期 %(name)s 应为 YYYY-MM-DD，如 2026-05-12，收到“%(raw)s”。"),
                           name=name, raw=raw[:20]) from None


def parse_query(args: Mapping[str, Any]) -> AuditQuery:
    """Check the audit page's filters (query string); a bad one is refused with a message,
    never ignored (that would widen the list unnoticed)."""
    action = _text(args, "action")
    if action and action not in set(AuditAction) and current_name(action) == action:
        raise InvalidInput(N_("没有名为“%(action)s”的审计操作。"), action=action[:40])
    q = AuditQuery(actor=_text(args, "actor"), action=current_name(action) if action else "",
                   target=_text(args, "target"), origin=_text(args, "origin"),
                   date_from=_day(args, "from"), date_to=_day(args, "to"))
    if q.date_from and q.date_to and q.date_from > q.date_to:
        raise InvalidInput(N_("日期范围无效：起始日期 %(start)s 晚于截止日期 %(end)s。"),
                           start=q.date_from.isoformat(), end=q.date_to.isoformat())
    return q


def _starts(column: Any, prefix: str) -> ColumnElement[bool]:
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.like(escaped + "%", escape="\\")


def _where(q: AuditQuery) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if q.actor:
        where.append(AuditEntry.actor == q.actor)
    if q.action:
        where.append(AuditEntry.action.in_(stored_names(q.action)))
    if q.target:
        where.append(_starts(AuditEntry.target, q.target))
    if q.origin:
        where.append(_starts(AuditEntry.origin, q.origin))
    if q.date_from:
        where.append(AuditEntry.at >= datetime.combine(q.date_from, time(), UTC))
    if q.date_to:
        where.append(AuditEntry.at < datetime.combine(q.date_to + timedelta(days=1), time(), UTC))
    return where


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: datetime
    actor: str
    action: str
    target: str
    origin: str | None
    detail: dict | None
    hash: str

    @property
    def detail_text(self) -> str:
        return json.dumps(self.detail, ensure_ascii=False, sort_keys=True) if self.detail else ""


def _row(e: AuditEntry) -> AuditRow:
    at = e.at if e.at.tzinfo else e.at.replace(tzinfo=UTC)
    return AuditRow(e.id, at, e.actor, current_name(e.action), e.target, e.origin, e.detail,
                    e.hash)


@dataclass(frozen=True)
class AuditPage:
    rows: list[AuditRow]
    total: int
    page: int
    pages: int


def list_entries(session: Session, user: User | None, q: AuditQuery, page: int = 1,
                 per_page: int = PER_PAGE) -> AuditPage:
    """One page of the entries `q` selects, newest first; the reading is audited."""
    require_read_audit(user)
    where = _where(q)
    total = session.scalar(select(func.count()).select_from(AuditEntry).where(*where)) or 0
    pages = max(1, -(-total // per_page))
    page = max(1, min(page, pages, MAX_PAGE))
    rows = [_row(e) for e in session.scalars(
        select(AuditEntry).where(*where).order_by(AuditEntry.id.desc())
        .offset((page - 1) * per_page).limit(per_page))]
    record(session, actor_name(user), AuditAction.AUDIT_VIEW, "audit",
           {"filters": q.to_dict(), "page": page})
    return AuditPage(rows, total, page, pages)


def export_entries(archive: Archive, user: User | None, q: AuditQuery, out: Path) -> int:
    """Write every entry `q` selects, oldest first, as `out` (.xlsx or .csv); returns how
    many. The export is audited (with its filters and row count)."""
    require_read_audit(user)
    writer = SheetWriter(out, HEADERS, title="审计日志")
    n = 0
    with archive.session() as s:
        stmt = (select(AuditEntry).where(*_where(q)).order_by(AuditEntry.id)
                .execution_options(yield_per=1000))
        for e in s.scalars(stmt):
            r = _row(e)
            writer.append([r.id, r.at.strftime("%Y-%m-%d %H:%M:%S"), r.actor, r.action,
                           r.target, r.origin or "", r.detail_text, r.hash])
            n += 1
            s.expunge(e)
    writer.close()
    record_event(archive, user, AuditAction.AUDIT_EXPORT, "audit",
                 {"filters": q.to_dict(), "rows": n, "format": out.suffix.lstrip(".").lower()})
    return n
