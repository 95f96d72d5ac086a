"""四性检测: the four-property check of each electronic record (after DA/T 70-2018).

Authenticity (真实性): every stored file still has the SHA-256 recorded at ingest; who, when
and from where it was registered is on record, with its ingest entry in the audit trail.
Integrity (完整性): the declared paper pages (页数) are all scanned, the catalogue's required
fields (service.sheet_columns.REQUIRED_HEADERS) are filled, every page has text or a recorded
reason it has none (a blank back), and its web image, thumbnail and page PDF exist, as does
the item's searchable PDF. Usability (可用性): every original opens and every page draws with
the readers the pages were made with (indexer.probe), and the searchable PDF opens with a
text layer that matches the OCR text. Security (安全性): the item carries what the access
policy (service.access) decides by, a valid 密级 and an owner or department, and the latest
backup holds it as it is now (service.backup_holdings).

It runs on every item when the pipeline finalises it (``scope`` "ingest": the pages were just
drawn, so the render probe is the cheap one, in process; the backup is not yet due), and on
demand for an item, a batch or the whole archive (``scope`` "full": pages drawn at a reduced
size in a child process bounded in time and memory, backup included). A check never raises
into its caller's work: whatever it finds is a finding, kept per item (FourPropertyCheck).
The reports and exports are in service.fourprops_report.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from indexer.messages import dumps, loads
from indexer.probe import Problem, pdf_page_texts, probe_bounded, probe_file
from indexer.textnorm import normalize_text

from . import clock
from .arrange import counted_pages
from .audit_actions import AuditAction, stored_names
from .backup_holdings import backup_state
from .checks import MISSING, fixity_problem
from .errors import N_, Listing, Message, msg
from .models import ArchiveItem, AuditEntry, FourPropertyCheck, Page, StoredFile
from .sheet_columns import COLUMNS, REQUIRED_HEADERS, item_values
from .vocab import OPEN_PAGE_STATUSES, SECRECY_LEVELS, PageStatus

if TYPE_CHECKING:
    from .archive import Archive


class Property(StrEnum):
    AUTHENTICITY = "authenticity"
    INTEGRITY = "integrity"
    USABILITY = "usability"
    SECURITY = "security"


PROPERTY_LABELS: dict[Property, Message] = {
    Property.AUTHENTICITY: Message(N_("真实性")),
    Property.INTEGRITY: Message(N_("完整性")),
    Property.USABILITY: Message(N_("可用性")),
    Property.SECURITY: Message(N_("安全性")),
}


class Code(StrEnum):
    """Each kind of finding; the part before the dot is its property."""

    CHECKSUM = "authenticity.checksum"
    OBJECT_MISSING = "authenticity.object_missing"
    PROVENANCE = "authenticity.provenance"
    INGEST_AUDIT = "authenticity.ingest_audit"
    PAGES_MISSING = "integrity.pages_missing"
    FIELD_EMPTY = "integrity.field_empty"
    PAGE_NO_TEXT = "integrity.page_no_text"
    PAGE_UNREAD = "integrity.page_unread"
    DERIVED_MISSING = "integrity.derived_missing"
    ORIGINAL_UNREADABLE = "usability.original_unreadable"
    PAGE_UNRENDERABLE = "usability.page_unrenderable"
    PDF_UNREADABLE = "usability.pdf_unreadable"
    PDF_PAGES = "usability.pdf_pages"
    TEXT_LAYER = "usability.text_layer"
    ACCESS_RULES = "security.access_rules"
    NO_BACKUP = "security.no_backup"
    NOT_IN_BACKUP = "security.not_in_backup"
    BACKUP_STALE = "security.backup_stale"

    @property
    def property(self) -> Property:
        return Property(self.value.split(".", 1)[0])


SCOPE_INGEST = "ingest"
SCOPE_FULL = "full"
#: The page images the on-demand probe draws (dpi; the pages were read at 300).
PROBE_DPI = 50.0
#: The on-demand probe's limits per original: seconds, and bytes of address space.
PROBE_TIMEOUT = 120.0
PROBE_MEMORY = 2 * 1024**3
#: How alike the searchable PDF's text layer and the OCR text of a page must be (0..1,
#: difflib's ratio over the text without whitespace).
TEXT_MATCH = 0.9

#: Names of the derived files of a page (the facts keep the key name).
DERIVED_NAMES = {"image_key": Message(N_("网页图像")), "thumb_key": Message(N_("缩略图")),
                 "pdf_key": Message(N_("单页 PDF")), "searchable_pdf": Message(N_("可检索 PDF"))}
_MISSING_NAMES = {"created_by": Message(N_("登记人")), "created_at": Message(N_("登记时间")),
                  "secrecy": Message(N_("密级")), "owner": Message(N_("归属（负责人或部门）"))}
_PROBE_REASONS = {"timeout": Message(N_("在限定时间内未能打开或显示")),
                  "page-missing": Message(N_("文件中没有这一页"))}


@dataclass(frozen=True)
class Finding:
    code: Code
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def property(self) -> Property:
        return self.code.property

    def to_dict(self) -> dict[str, Any]:
        return {"code": str(self.code), "property": str(self.property), "facts": self.facts}


def _reason(text: str | None) -> Message | Listing | str:
    """A stored reason (indexer.messages.dumps) back as a message."""
    return loads(text) or ""


def describe(code: str, facts: dict[str, Any]) -> Message | str:
    """A finding as the archive says it (a message, translated where it is shown)."""
    f = facts
    if code == Code.CHECKSUM:
        return msg(N_("存储文件“%(name)s”（%(role)s）与入库时记录的 SHA-256 不符"),
                   name=f.get("name") or f["key"], role=f["role"])
    if code == Code.OBJECT_MISSING:
        return msg(N_("存储文件“%(name)s”（%(role)s）在对象存储中缺失"),
                   name=f.get("name") or f["key"], role=f["role"])
    if code == Code.PROVENANCE:
        return msg(N_("入库来源记录不全：缺少%(missing)s"),
                   missing=Listing([_MISSING_NAMES[m] for m in f["missing"]]))
    if code == Code.INGEST_AUDIT:
        return Message(N_("审计日志中没有本件的入库记录"))
    if code == Code.PAGES_MISSING:
        return msg(N_("著录页数 %(declared)s 页，只扫描了 %(scanned)s 页"),
                   declared=f["declared"], scanned=f["scanned"])
    if code == Code.FIELD_EMPTY:
        return msg(N_("必填著录项“%(field)s”为空"), field=f["field"])
    if code == Code.PAGE_NO_TEXT:
        return msg(N_("第 %(n)s 页没有文字，也没有记录原因（如空白页）"), n=f["n"])
    if code == Code.PAGE_UNREAD:
        return msg(N_("第 %(n)s 页未能识别：%(reason)s"), n=f["n"], reason=_reason(f.get("reason")))
    if code == Code.DERIVED_MISSING:
        what = DERIVED_NAMES.get(f["kind"], Message(f["kind"]))
        if f.get("n") is None:
            return msg(N_("%(what)s缺失"), what=what)
        return msg(N_("第 %(n)s 页的%(what)s缺失"), n=f["n"], what=what)
    if code == Code.ORIGINAL_UNREADABLE:
        return msg(N_("原件“%(name)s”无法打开：%(reason)s"), name=f["name"],
                   reason=_PROBE_REASONS.get(f["problem"]) or _reason(f.get("reason")))
    if code == Code.PAGE_UNRENDERABLE:
        return msg(N_("第 %(n)s 页无法显示：%(reason)s"), n=f["n"],
                   reason=_PROBE_REASONS.get(f["problem"]) or _reason(f.get("reason")))
    if code == Code.PDF_UNREADABLE:
        return Message(N_("可检索 PDF 无法打开"))
    if code == Code.PDF_PAGES:
        return msg(N_("可检索 PDF 有 %(found)s 页，应为 %(expected)s 页"), found=f["found"],
                   expected=f["expected"])
    if code == Code.TEXT_LAYER:
        return msg(N_("可检索 PDF 第 %(n)s 页的文字层与识别文字不符（相似度 %(ratio)s）"),
                   n=f["n"], ratio=f"{f['ratio']:.2f}")
    if code == Code.ACCESS_RULES:
        return msg(N_("未设置访问规则：缺少%(missing)s"),
                   missing=Listing([_MISSING_NAMES[m] for m in f["missing"]]))
    if code == Code.NO_BACKUP:
        return Message(N_("尚无备份记录（请运行 dangan backup）"))
    if code == Code.NOT_IN_BACKUP:
        return msg(N_("不在最近一次备份中（%(at)s）"), at=f["at"])
    if code == Code.BACKUP_STALE:
        return msg(N_("最近一次备份（%(at)s）之后本件已变动，备份中的不是现状"), at=f["at"])
    return code


# ----------------------------------------------------------------- the four properties


def _authenticity(archive: Archive, s: Session, item: ArchiveItem) -> list[Finding]:
    out = []
    for f in item.files:
        facts = {"role": f.role, "key": f.key, "name": f.original_name}
        problem = fixity_problem(archive.store, f.key, f.sha256)
        if problem is not None:
            out.append(Finding(Code.OBJECT_MISSING if problem == MISSING else Code.CHECKSUM,
                               facts))
    missing = [m for m, v in (("created_by", item.created_by), ("created_at", item.created_at))
               if not v]
    if missing:
        out.append(Finding(Code.PROVENANCE, {"missing": missing}))
    if _provenance_entry(s, item.id) is None:
        out.append(Finding(Code.INGEST_AUDIT))
    return out


#: The audit entries that bring an item into the archive: its ingest, or the split that
#: made it out of another item's pages.
_ORIGIN_ACTIONS = (*stored_names(AuditAction.ITEM_INGEST), *stored_names(AuditAction.ITEM_SPLIT))


def _provenance_entry(s: Session, item_id: int) -> AuditEntry | None:
    return s.scalars(select(AuditEntry).where(
        AuditEntry.target == f"item:{item_id}", AuditEntry.action.in_(_ORIGIN_ACTIONS))
        .order_by(AuditEntry.id).limit(1)).first()


def provenance(s: Session, item: ArchiveItem) -> dict[str, Any]:
    """Who registered the item, when, from where, and in which batch (when one)."""
    entry = _provenance_entry(s, item.id)
    batch = s.scalars(select(AuditEntry.id).where(
        AuditEntry.action.in_(stored_names(AuditAction.BATCH_IMPORT)),
        AuditEntry.id > (entry.id if entry else 0)).order_by(AuditEntry.id).limit(50)).all()
    batch_id = next((b for b in batch if item.id in _batch_items(s, b)), None)
    return {"by": item.created_by, "at": item.created_at,
            "origin": entry.origin if entry else None, "batch": batch_id}


def _batch_items(s: Session, entry_id: int) -> list[int]:
    entry = s.get(AuditEntry, entry_id)
    detail = (entry.detail or {}) if entry else {}
    return [int(i) for i in detail.get("items", [])]


def _required_fields() -> list[tuple[str, str]]:
    """(column key, header) of the catalogue fields every item must have."""
    return [(c.key, c.header) for c in COLUMNS if c.header in REQUIRED_HEADERS]


def _integrity(archive: Archive, item: ArchiveItem) -> list[Finding]:
    out = []
    scanned = counted_pages(item)
    if item.paper_pages is not None and item.paper_pages > scanned:
        out.append(Finding(Code.PAGES_MISSING, {"declared": item.paper_pages, "scanned": scanned}))
    values = item_values(item)
    for key, header in _required_fields():
        if values[key] is None or str(values[key]).strip() == "":
            out.append(Finding(Code.FIELD_EMPTY, {"field": header}))
    for p in item.pages:
        if p.status == PageStatus.FAILED:
            reason = dumps(p.error) if isinstance(p.error, Message | Listing) else p.error
            out.append(Finding(Code.PAGE_UNREAD, {"n": p.n, "reason": reason}))
            continue
        if not (p.text or "").strip() and not p.blank:
            out.append(Finding(Code.PAGE_NO_TEXT, {"n": p.n}))
        for kind in ("image_key", "thumb_key", "pdf_key"):
            key = getattr(p, kind)
            if not key or not archive.store.exists(key):
                out.append(Finding(Code.DERIVED_MISSING, {"n": p.n, "kind": kind, "key": key}))
    if any(p.status == PageStatus.DONE and p.pdf_key for p in item.pages) and \
            not any(f.role == "searchable_pdf" for f in item.files):
        out.append(Finding(Code.DERIVED_MISSING, {"n": None, "kind": "searchable_pdf"}))
    return out


def _probe(archive: Archive, f: StoredFile, file_pages: list[int], scope: str) -> list[Problem]:
    from .jobs.pipeline import fetch_original  # the pipeline finalises through this module

    with tempfile.TemporaryDirectory(prefix="dangan-probe-") as tmp:
        path = fetch_original(archive, f.key, tmp)
        if scope == SCOPE_INGEST:
            return probe_file(path, file_pages)
        return probe_bounded(path, file_pages, PROBE_DPI, timeout=PROBE_TIMEOUT,
                             memory=PROBE_MEMORY)


def _comparable(text: str) -> str:
    return re.sub(r"\s+", "", normalize_text(text or ""))


def text_similarity(a: str, b: str) -> float:
    """How alike two page texts are (1.0: the same but for whitespace and width forms)."""
    a, b = _comparable(a), _comparable(b)
    if a == b:
        return 1.0
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    if matcher.real_quick_ratio() < TEXT_MATCH or matcher.quick_ratio() < TEXT_MATCH:
        return matcher.quick_ratio()
    return matcher.ratio()


def _usability(archive: Archive, item: ArchiveItem, scope: str) -> list[Finding]:
    out = []
    for f in item.files:
        if f.role != "original" or not archive.store.exists(f.key):
            continue  # retired files are kept, not used; a missing one is authenticity's
        pages = [p for p in item.pages if p.file_id == f.id]
        where = {p.file_page: p.n for p in pages}
        for problem in _probe(archive, f, sorted(where), scope):
            facts = {"name": f.original_name or f.key, "problem": problem["code"],
                     "reason": problem["reason"]}
            if problem["page"] is None:
                out.append(Finding(Code.ORIGINAL_UNREADABLE, facts))
            else:
                out.append(Finding(Code.PAGE_UNRENDERABLE, {**facts, "n": where[problem["page"]]}))
    out += _searchable_pdf(archive, item)
    return out


def _searchable_pdf(archive: Archive, item: ArchiveItem) -> list[Finding]:
    from .jobs.pipeline import pdf_pages

    spdf = next((f for f in item.files if f.role == "searchable_pdf"), None)
    if spdf is None or not archive.store.exists(spdf.key):
        return []  # integrity and authenticity say so
    try:
        texts = pdf_page_texts(archive.store.read_bytes(spdf.key))
    except Exception:  # noqa: BLE001 - a PDF that does not open is the finding
        return [Finding(Code.PDF_UNREADABLE, {"key": spdf.key})]
    pages = [p for p, _ in pdf_pages(list(item.pages))]
    if len(texts) != len(pages):
        return [Finding(Code.PDF_PAGES, {"found": len(texts), "expected": len(pages)})]
    out = []
    for page, layer in zip(pages, texts, strict=True):
        ratio = text_similarity(page.text or "", layer)
        if ratio < TEXT_MATCH:
            out.append(Finding(Code.TEXT_LAYER, {"n": page.n, "ratio": round(ratio, 3)}))
    return out


def _security(s: Session, item: ArchiveItem, scope: str) -> list[Finding]:
    out = []
    missing = []
    if item.secrecy not in SECRECY_LEVELS:
        missing.append("secrecy")
    if item.owner_id is None and not item.department:
        missing.append("owner")
    if missing:
        out.append(Finding(Code.ACCESS_RULES, {"missing": missing}))
    if scope == SCOPE_FULL:
        state = backup_state(s, item.id)
        at = state.backup_at.isoformat(timespec="seconds") if state.backup_at else None
        if state.state == "none":
            out.append(Finding(Code.NO_BACKUP))
        elif state.state == "absent":
            out.append(Finding(Code.NOT_IN_BACKUP, {"at": at, "path": state.backup_path}))
        elif state.state == "changed":
            out.append(Finding(Code.BACKUP_STALE, {"at": at, "path": state.backup_path}))
    return out


# ----------------------------------------------------------------- one item


def check_item(archive: Archive, item_id: int, *, scope: str, actor: str) -> FourPropertyCheck:
    """Check one item's four properties and keep the result (a new FourPropertyCheck row,
    committed, returned detached)."""
    with archive.session() as s:
        item = s.get_one(ArchiveItem, item_id)
        findings = _authenticity(archive, s, item)
        findings += _integrity(archive, item)
        findings += _usability(archive, item, scope)
        findings += _security(s, item, scope)
        failed = {f.property for f in findings}
        row = FourPropertyCheck(
            item_id=item_id, checked_at=clock.now(), checked_by=actor, scope=scope,
            authenticity=Property.AUTHENTICITY not in failed,
            integrity=Property.INTEGRITY not in failed,
            usability=Property.USABILITY not in failed,
            security=Property.SECURITY not in failed, passed=not failed,
            findings=[f.to_dict() for f in findings])
        s.add(row)
        s.flush()
        s.expunge(row)
    return row


def check_at_ingest(archive: Archive, item_id: int) -> FourPropertyCheck | None:
    """The check the pipeline runs when it finalises an item: it records what it finds and
    never fails the ingest (an error of the check itself is logged)."""
    import logging

    try:
        return check_item(archive, item_id, scope=SCOPE_INGEST, actor="system")
    except Exception:  # noqa: BLE001 - the ingest is done; the check must not undo it
        logging.getLogger(__name__).exception("four-property check of item %s failed", item_id)
        return None


def latest_check(s: Session, item_id: int) -> FourPropertyCheck | None:
    """The item's newest result (its state), or None when never checked."""
    return s.scalars(select(FourPropertyCheck).where(FourPropertyCheck.item_id == item_id)
                     .order_by(FourPropertyCheck.id.desc()).limit(1)).first()


def still_open(s: Session, item_id: int) -> bool:
    """Pages of the item are still waiting for a worker: nothing to check yet."""
    return s.scalar(select(Page.id).where(
        Page.item_id == item_id, Page.status.in_(OPEN_PAGE_STATUSES)).limit(1)) is not None

