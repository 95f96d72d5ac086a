"""四性检测 on demand and as reports: run the check for one item, a batch or the whole archive
(audited), list each item's latest result (filterable by the property that failed), and
export that list as XLSX or CSV (audited). The check itself is service.fourprops.

A batch is a batch registration (service.batch): its ``batch.import`` audit entry lists the
items it registered, and its number is that entry's id.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .access import can_check_four_properties, may_look_up, require_four_properties
from .audit import actor_name, record_event
from .audit_actions import AuditAction, stored_names
from .errors import N_, Message, NotFound
from .fourprops import (
    PROPERTY_LABELS,
    SCOPE_FULL,
    Property,
    check_item,
    describe,
    latest_check,
    provenance,
    still_open,
)
from .items import get_item
from .models import ArchiveItem, AuditEntry, FourPropertyCheck, User
from .privacy import title_for
from .sheets import SheetWriter
from .vocab import TOMBSTONES, ItemStatus

if TYPE_CHECKING:
    from .archive import Archive

#: Items with nothing electronic to check: catalogue entries without scans, merged away,
#: deleted or destroyed.
NOT_CHECKED = frozenset({ItemStatus.REGISTERED, ItemStatus.MERGED, *TOMBSTONES})
EXPORT_FORMATS = ("xlsx", "csv")


@dataclass
class Batch:
    id: int
    at: datetime
    actor: str
    sheet: str
    item_ids: list[int]


def _batch_of(entry: AuditEntry) -> Batch:
    detail = entry.detail or {}
    return Batch(entry.id, entry.at, entry.actor, entry.target.removeprefix("sheet:"),
                 [int(i) for i in detail.get("items", [])])


def get_batch(s: Session, batch_id: int) -> Batch:
    entry = s.get(AuditEntry, batch_id)
    if entry is None or entry.action not in stored_names(AuditAction.BATCH_IMPORT):
        raise NotFound(N_("批次 %(batch)s 不存在。"), batch=batch_id)
    return _batch_of(entry)


def recent_batches(s: Session, limit: int = 50) -> list[Batch]:
    """The newest batch registrations, newest first."""
    entries = s.scalars(select(AuditEntry).where(
        AuditEntry.action.in_(stored_names(AuditAction.BATCH_IMPORT)))
        .order_by(AuditEntry.id.desc()).limit(limit))
    return [_batch_of(e) for e in entries]


def _archive_items(s: Session) -> list[int]:
    return list(s.scalars(select(ArchiveItem.id).where(ArchiveItem.status.notin_(NOT_CHECKED))
                          .order_by(ArchiveItem.id)))


@dataclass
class RunResult:
    """What one run checked: ``target`` is ``item:ID``, ``batch:ID`` or ``archive``."""

    target: str
    checked: list[FourPropertyCheck] = field(default_factory=list)
    #: Items not checked: still being read, or with nothing electronic (NOT_CHECKED).
    skipped: list[int] = field(default_factory=list)

    @property
    def failed(self) -> dict[str, int]:
        counted = Counter(p for c in self.checked for p in Property if not getattr(c, p))
        return {str(p): counted[p] for p in Property}

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checked)

    def to_dict(self) -> dict[str, Any]:
        return {"target": self.target, "checked": len(self.checked), "skipped": self.skipped,
                "failed": self.failed, "passed": self.passed,
                "items": [result_dict(c) for c in self.checked]}


def result_dict(c: FourPropertyCheck) -> dict[str, Any]:
    return {"item_id": c.item_id, "checked_at": c.checked_at.isoformat(timespec="seconds"),
            "checked_by": c.checked_by, "scope": c.scope, "passed": c.passed,
            **{str(p): getattr(c, p) for p in Property},
            "findings": [{**f, "message": describe(f["code"], f["facts"])} for f in c.findings]}


def run_four_properties(archive: Archive, user: User | None, *, item_id: int | None = None,
                        batch_id: int | None = None) -> RunResult:
    """Check one item, a batch or (neither given) the whole archive, fully (backup included);
    each result is kept, and the run is audited."""
    require_four_properties(user)
    with archive.session() as s:
        if item_id is not None:
            get_item(s, item_id)
            target, ids = f"item:{item_id}", [item_id]
        elif batch_id is not None:
            target, ids = f"batch:{batch_id}", get_batch(s, batch_id).item_ids
        else:
            target, ids = "archive", _archive_items(s)
    result = RunResult(target)
    for i in ids:
        with archive.session() as s:
            item = s.get(ArchiveItem, i)
            skip = item is None or item.status in NOT_CHECKED or still_open(s, i)
        if skip:
            result.skipped.append(i)
            continue
        result.checked.append(check_item(archive, i, scope=SCOPE_FULL, actor=actor_name(user)))
    record_event(archive, user, AuditAction.PRESERVATION_CHECK, target,
                 {"scope": SCOPE_FULL, "checked": len(result.checked),
                  "skipped": len(result.skipped), "failed": result.failed})
    return result


# ----------------------------------------------------------------- the report


@dataclass
class ReportRow:
    item_id: int
    archival_code: str
    #: None where the reader may not look the item up (绝密): then the item is named by its
    #: 档号 only, its findings by their codes (the archive's managers keep every record, but
    #: read no more of a 绝密 one than the two-set report shows).
    title: str | None
    check: FourPropertyCheck | None


def report_rows(s: Session, user: User | None, *, batch_id: int | None = None,
                failed: Property | None = None) -> list[ReportRow]:
    """Each item's latest result, for a batch or the whole archive, in 档号 order; with
    ``failed``, only the items whose latest result failed that property."""
    require_four_properties(user)
    ids = get_batch(s, batch_id).item_ids if batch_id is not None else None
    newest = (select(FourPropertyCheck.item_id, func.max(FourPropertyCheck.id).label("cid"))
              .group_by(FourPropertyCheck.item_id).subquery())
    stmt = (select(ArchiveItem, FourPropertyCheck)
            .outerjoin(newest, newest.c.item_id == ArchiveItem.id)
            .outerjoin(FourPropertyCheck, FourPropertyCheck.id == newest.c.cid)
            .order_by(ArchiveItem.archival_code))
    stmt = stmt.where(ArchiveItem.id.in_(ids)) if ids is not None else \
        stmt.where(ArchiveItem.status.notin_(NOT_CHECKED))
    if failed is not None:
        stmt = stmt.where(getattr(FourPropertyCheck, failed).is_(False))
    return [ReportRow(item.id, item.archival_code,
                      title_for(user, item) if user is None or may_look_up(user, item)
                      else None, check)
            for item, check in s.execute(stmt)]


def parse_property(raw: str | None) -> Property | None:
    """The ``failed`` filter: a property's name, or blank for all."""
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        return Property(raw)
    except ValueError:
        from .errors import InvalidInput

        raise InvalidInput(N_("未知的检测项：%(value)s（可选 authenticity、integrity、usability、"
                              "security）。"), value=raw) from None


HEADERS = (Message(N_("档号")), Message(N_("题名")), PROPERTY_LABELS[Property.AUTHENTICITY],
           PROPERTY_LABELS[Property.INTEGRITY], PROPERTY_LABELS[Property.USABILITY],
           PROPERTY_LABELS[Property.SECURITY], Message(N_("检测时间")), Message(N_("检测人")),
           Message(N_("问题")))
PASS, FAIL, NEVER = Message(N_("通过")), Message(N_("未通过")), Message(N_("未检测"))


def export_rows(archive: Archive, user: User | None, rows: list[ReportRow], out: Path,
                show: Callable[[Message | str], str], *, target: str) -> int:
    """Write the rows as ``out`` (.xlsx or .csv) in the reader's language (``show``);
    audited as a report export. Returns the number of rows."""
    require_four_properties(user)
    writer = SheetWriter(out, [show(h) for h in HEADERS], title="四性检测")
    for r in rows:
        c = r.check
        marks = [show(NEVER if c is None else PASS if getattr(c, p) else FAIL) for p in Property]
        # an item the reader may not look up: its findings by code only (no file names)
        problems = "\n".join(show(describe(f["code"], f["facts"])) if r.title is not None
                             else f["code"] for f in c.findings) if c else ""
        writer.append([r.archival_code, r.title or "—", *marks,
                       c.checked_at.strftime("%Y-%m-%d %H:%M") if c else "",
                       c.checked_by if c else "", problems])
    writer.close(then=lambda: record_event(
        archive, user, AuditAction.REPORT_EXPORT, "report:four-properties",
        {"format": out.suffix.lstrip(".").lower(), "rows": len(rows), "of": target}))
    return len(rows)


@dataclass
class ItemPanel:
    """The item page's 四性检测 panel: the latest result with what shows it."""

    check: FourPropertyCheck | None
    #: Who registered the item, when, from where, in which batch (fourprops.provenance).
    provenance: dict[str, Any] = field(default_factory=dict)
    properties: list[Property] = field(default_factory=lambda: list(Property))
    labels: dict[Property, Message] = field(default_factory=lambda: dict(PROPERTY_LABELS))
    describe: Callable[[str, dict[str, Any]], Message | str] = describe


def item_panel(s: Session, user: User | None, item_id: int) -> ItemPanel | None:
    """The panel for users who may see the check (None for the others)."""
    if user is None or not can_check_four_properties(user):
        return None
    return ItemPanel(latest_check(s, item_id), provenance(s, get_item(s, item_id)))
