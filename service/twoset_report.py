"""The two-set consistency report (两套制): every place where the paper set and the
electronic set of the archive no longer agree, as typed findings.

It answers the records officer's question "what is wrong between paper and scans?" in one
pass over the catalogue: paper without scans and scans without paper, page counts that
differ, stored files that no longer match their SHA-256 (through `checks.check_fixity`),
boxes that break the one-year/one-retention/one-organisation rule or have no shelf, and
gaps or duplicates among the 件号 of a 档号 group, two items at one position in a box,
and the items the records officer has still to cross-check. The web page, `dangan check --two-set`
and the CSV/XLSX/PDF exports (service.report_export) all show this one result.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from .access import (
    may_open,
    operator_visibility,
    require_two_set_report,
    visibility_for,
    visible_under,
)
from .archive import Archive
from .checks import check_fixity
from .codes import group_key
from .crosscheck import CHANGED, NEVER, OPEN, check_state
from .errors import CLAUSES, N_, Listing, Message, msg
from .models import ArchivalCodeCounter, ArchiveItem, Box, CrossCheck, Page, User
from .privacy import title_for
from .vocab import DISCREPANCY_NAMES, TOMBSTONES


class FindingKind(StrEnum):
    """What a finding is about; the order is the report's order."""

    PAPER_WITHOUT_SCANS = "paper_without_scans"
    SCANS_WITHOUT_PAPER = "scans_without_paper"
    PAGE_COUNT_MISMATCH = "page_count_mismatch"
    CHECKSUM_MISMATCH = "checksum_mismatch"
    FILE_MISSING = "file_missing"
    BOX_MIXED_YEAR = "box_mixed_year"
    BOX_MIXED_RETENTION = "box_mixed_retention"
    BOX_MIXED_ORG = "box_mixed_org"
    BOX_WITHOUT_LOCATION = "box_without_location"
    POSITION_TAKEN = "position_taken"
    ITEM_NUMBER_GAP = "item_number_gap"
    ITEM_NUMBER_DUPLICATE = "item_number_duplicate"
    NEVER_CHECKED = "never_checked"
    CHANGED_SINCE_CHECK = "changed_since_check"
    OPEN_DISCREPANCY = "open_discrepancy"


#: Each kind as the archive says it (message ids: translated where the report is shown).
KIND_LABELS: dict[FindingKind, Message] = {
    FindingKind.PAPER_WITHOUT_SCANS: Message(N_("有纸质无扫描件")),
    FindingKind.SCANS_WITHOUT_PAPER: Message(N_("有扫描件无纸质记录（未入盒）")),
    FindingKind.PAGE_COUNT_MISMATCH: Message(N_("纸质页数与扫描页数不符")),
    FindingKind.CHECKSUM_MISMATCH: Message(N_("存储文件校验值不符")),
    FindingKind.FILE_MISSING: Message(N_("存储文件缺失")),
    FindingKind.BOX_MIXED_YEAR: Message(N_("同盒年度不一")),
    FindingKind.BOX_MIXED_RETENTION: Message(N_("同盒保管期限不一")),
    FindingKind.BOX_MIXED_ORG: Message(N_("同盒机构不一")),
    FindingKind.BOX_WITHOUT_LOCATION: Message(N_("档案盒无当前位置")),
    FindingKind.ITEM_NUMBER_GAP: Message(N_("件号断号")),
    FindingKind.ITEM_NUMBER_DUPLICATE: Message(N_("件号重号")),
    FindingKind.POSITION_TAKEN: Message(N_("同盒同一位置有两件")),
    FindingKind.NEVER_CHECKED: Message(N_("从未核对")),
    FindingKind.CHANGED_SINCE_CHECK: Message(N_("上次核对后有变动")),
    FindingKind.OPEN_DISCREPANCY: Message(N_("核对差异未解决")),
}
#: Why an item is in the records officer's queue (service.crosscheck) as a finding.
_CHECK_KINDS = {NEVER: FindingKind.NEVER_CHECKED, CHANGED: FindingKind.CHANGED_SINCE_CHECK,
                OPEN: FindingKind.OPEN_DISCREPANCY}


@dataclass(frozen=True)
class Finding:
    """One fault. `subject` is what it is about: a 档号, a box barcode or a 档号 group;
    `facts` holds the values behind it (counts, keys, numbers), language-neutral."""

    kind: FindingKind
    subject: str
    item_id: int | None = None
    box: str | None = None
    #: The item's title, only when the reader may open the item (never for 绝密).
    title: str | None = None
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> Message:
        return KIND_LABELS[self.kind]

    @property
    def detail(self) -> Message | str:
        """The facts in one line (a message), for the page, text, CSV and PDF."""
        return describe(self.kind, self.facts)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["kind"] = str(self.kind)
        data["detail"] = self.detail
        return data


def describe(kind: FindingKind, facts: dict[str, Any]) -> Message | str:
    """The finding's facts as a message (a stored object's role and key as they are)."""
    f = facts
    if kind == FindingKind.PAGE_COUNT_MISMATCH:
        return msg(N_("纸质 %(declared)s 页，扫描 %(scanned)s 页"), declared=f["declared"],
                   scanned=f["scanned"])
    if kind in (FindingKind.CHECKSUM_MISMATCH, FindingKind.FILE_MISSING):
        return f"{f['role']} {f['key']}"
    if kind in (FindingKind.BOX_MIXED_YEAR, FindingKind.BOX_MIXED_RETENTION,
                FindingKind.BOX_MIXED_ORG):
        values = ["—" if v is None else v for v in f["values"]]
        return msg(N_("盒内有 %(values)s"), values=Listing(values))
    if kind == FindingKind.BOX_WITHOUT_LOCATION:
        return msg(N_("盒内 %(items)s 件"), items=f["items"])
    if kind == FindingKind.ITEM_NUMBER_GAP:
        return msg(N_("缺件号 %(missing)s"), missing=Listing(f["missing"]))
    if kind == FindingKind.ITEM_NUMBER_DUPLICATE:
        return msg(N_("件号 %(item_no)s 重复：%(codes)s"), item_no=f["item_no"],
                   codes=Listing(f["codes"]))
    if kind == FindingKind.PAPER_WITHOUT_SCANS:
        return (msg(N_("纸质 %(declared)s 页，无扫描件"), declared=f["declared"])
                if f.get("declared") is not None else Message(N_("无扫描件")))
    if kind == FindingKind.SCANS_WITHOUT_PAPER:
        return msg(N_("扫描 %(scanned)s 页，未入盒"), scanned=f["scanned"])
    if kind == FindingKind.POSITION_TAKEN:
        return msg(N_("第 %(position)s 件：%(codes)s"), position=f["position"],
                   codes=Listing(f["codes"]))
    if kind == FindingKind.NEVER_CHECKED:
        return Message(N_("尚无核对记录"))
    if kind == FindingKind.CHANGED_SINCE_CHECK:
        return msg(N_("上次核对 %(checked_at)s（%(officer)s），其后于 %(changed_at)s 变动"),
                   checked_at=f["checked_at"], officer=f["officer"], changed_at=f["changed_at"])
    if kind == FindingKind.OPEN_DISCREPANCY:
        found = [msg(N_("%(kind)s（第 %(pages)s 页）"), kind=kind, pages=Listing(d["pages"]))
                 if d["pages"] else kind
                 for d in f["discrepancies"]
                 for kind in [Message(DISCREPANCY_NAMES.get(d["kind"], d["kind"]))]]
        return msg(N_("%(checked_at)s（%(officer)s）：%(found)s"), checked_at=f["checked_at"],
                   officer=f["officer"], found=Listing(found, CLAUSES))
    return ""


@dataclass(frozen=True)
class TwoSetReport:
    findings: list[Finding]
    items: int
    boxes: int
    files: int
    generated_at: datetime

    @property
    def clean(self) -> bool:
        return not self.findings

    def counts(self) -> dict[FindingKind, int]:
        counted = Counter(f.kind for f in self.findings)
        return {k: counted[k] for k in FindingKind if counted[k]}

    def to_dict(self) -> dict[str, Any]:
        return {"generated_at": self.generated_at.isoformat(timespec="seconds"),
                "checked": {"items": self.items, "boxes": self.boxes, "files": self.files},
                "counts": {str(k): n for k, n in self.counts().items()},
                "findings": [f.to_dict() for f in self.findings]}


#: In place of a stored object's key the reader may not see (an item they may not open).
WITHHELD_KEY = "—"


def two_set_report(archive: Archive, user: User | None) -> TwoSetReport:
    """The whole report for `user` (None: the operator at the command line)."""
    require_two_set_report(user)
    vis = visibility_for(user) if user is not None else operator_visibility()
    fixity = check_fixity(archive)
    with archive.session() as s:
        items = list(s.scalars(select(ArchiveItem).options(
            joinedload(ArchiveItem.fonds), joinedload(ArchiveItem.category),
            joinedload(ArchiveItem.box))))
        titles = {i.id: (title_for(user, i) if visible_under(vis, i) else None) for i in items}
        # deleted and destroyed items (tombstones) are no longer held: only their 档号
        # still counts, in the numbering of their group
        held = [i for i in items if i.status not in TOMBSTONES]
        findings = _item_findings(s, held, titles)
        # a stored object's key only where the reader may open the item (access.may_open)
        opens = {i.id for i in items if user is None or may_open(user, i)}
        findings += _fixity_findings(fixity["bad"], {i.id: i for i in items}, titles, opens)
        boxes = list(s.scalars(select(Box).order_by(Box.barcode)))
        findings += _box_findings(boxes, held)
        findings += _position_findings(boxes, held)
        findings += _numbering_findings(s, items)
        findings += _check_findings(s, held, titles)
        order = {k: n for n, k in enumerate(FindingKind)}
        findings.sort(key=lambda f: (order[f.kind], f.subject, f.facts.get("key", "")))
        return TwoSetReport(findings=findings, items=len(held), boxes=len(boxes),
                            files=fixity["checked"], generated_at=datetime.now(UTC))


def _item_findings(s: Session, items: list[ArchiveItem],
                   titles: dict[int, str | None]) -> list[Finding]:
    """Each item's paper side against its electronic side."""
    scanned: dict[int, int] = {item_id: n for item_id, n in s.execute(
        select(Page.item_id, func.count(Page.id)).group_by(Page.item_id))}
    out = []
    for item in items:
        pages = scanned.get(item.id, 0)
        if pages == 0:
            out.append(_about(FindingKind.PAPER_WITHOUT_SCANS, item, titles,
                              {"declared": item.paper_pages}))
            continue
        if item.box_id is None:
            out.append(_about(FindingKind.SCANS_WITHOUT_PAPER, item, titles, {"scanned": pages}))
        if item.paper_pages is not None and item.paper_pages != pages:
            out.append(_about(FindingKind.PAGE_COUNT_MISMATCH, item, titles,
                              {"declared": item.paper_pages, "scanned": pages}))
    return out


def _about(kind: FindingKind, item: ArchiveItem, titles: dict[int, str | None],
           facts: dict[str, Any]) -> Finding:
    """A finding about one item."""
    return Finding(kind, subject=item.archival_code, item_id=item.id,
                   box=item.box.barcode if item.box else None, title=titles.get(item.id),
                   facts=facts)


def _fixity_findings(bad: list[dict], items: dict[int, ArchiveItem],
                     titles: dict[int, str | None], opens: set[int]) -> list[Finding]:
    out = []
    for b in bad:
        kind = FindingKind.FILE_MISSING if b["problem"] == "missing" else \
            FindingKind.CHECKSUM_MISMATCH
        key = b["key"] if b["item_id"] in opens else WITHHELD_KEY
        out.append(_about(kind, items[b["item_id"]], titles, {"key": key, "role": b["role"]}))
    return out


def _box_findings(boxes: list[Box], items: list[ArchiveItem]) -> list[Finding]:
    """A box holds one year, one retention and one organisation (the box's own, when
    registered, counts too), and stands on a shelf."""
    held: dict[int, list[ArchiveItem]] = defaultdict(list)
    for item in items:
        if item.box_id is not None:
            held[item.box_id].append(item)
    out = []
    for box in boxes:
        inside = held.get(box.id, [])
        for kind, own, attr in ((FindingKind.BOX_MIXED_YEAR, box.year, "year"),
                                (FindingKind.BOX_MIXED_RETENTION, box.retention, "retention"),
                                (FindingKind.BOX_MIXED_ORG, box.org_code, "org_code")):
            values = {getattr(i, attr) for i in inside}
            if own is not None:
                values.add(own)
            if len(values) > 1:
                ordered = sorted(values, key=lambda v: (v is None, str(v)))
                out.append(Finding(kind, subject=box.barcode, box=box.barcode,
                                   facts={"values": ordered}))
        if box.shelf_id is None:
            out.append(Finding(FindingKind.BOX_WITHOUT_LOCATION, subject=box.barcode,
                               box=box.barcode, facts={"items": len(inside)}))
    return out


def _position_findings(boxes: list[Box], items: list[ArchiveItem]) -> list[Finding]:
    """Each position (盒内序号) in a box holds one item."""
    at: dict[tuple[int, int], list[str]] = defaultdict(list)
    for item in items:
        if item.box_id is not None and item.box_position is not None:
            at[(item.box_id, item.box_position)].append(item.archival_code)
    barcodes = {b.id: b.barcode for b in boxes}
    return [Finding(FindingKind.POSITION_TAKEN, subject=barcodes[box_id], box=barcodes[box_id],
                    facts={"position": position, "codes": sorted(codes)})
            for (box_id, position), codes in sorted(at.items()) if len(codes) > 1]


def _when(t: datetime | None) -> str:
    return t.strftime("%Y-%m-%d %H:%M") if t else ""


def _check_findings(s: Session, items: list[ArchiveItem],
                    titles: dict[int, str | None]) -> list[Finding]:
    """Items the records officer has still to check, by the cross-check desk's own rule
    (`crosscheck.check_state`): never checked, changed since, or a discrepancy still open."""
    newest = select(func.max(CrossCheck.id)).group_by(CrossCheck.item_id)
    last = {c.item_id: c for c in s.scalars(select(CrossCheck).where(CrossCheck.id.in_(newest)))}
    out = []
    for item in items:
        chk = last.get(item.id)
        state = check_state(item, chk)
        if state is None:
            continue
        facts: dict[str, Any] = {}
        if chk is not None:
            facts = {"checked_at": _when(chk.checked_at), "officer": chk.officer_name or chk.officer}
            if state == CHANGED:
                facts["changed_at"] = _when(item.sets_changed_at)
            elif state == OPEN:
                facts["discrepancies"] = [{"kind": f.kind, "pages": f.pages or []}
                                          for f in chk.findings]
        out.append(_about(_CHECK_KINDS[state], item, titles, facts))
    return out


def _group_label(item: ArchiveItem) -> str:
    org = f"-{item.org_code}" if item.org_code else ""
    return f"{item.fonds.code}-{item.category.code}·{item.year:04d}-{item.retention}{org}"


def _numbering_findings(s: Session, items: list[ArchiveItem]) -> list[Finding]:
    """Within a 档号 group the 件号 run 1, 2, 3 … up to the last one allocated, once each."""
    allocated: dict[str, int] = {key: last for key, last in s.execute(
        select(ArchivalCodeCounter.group_key, ArchivalCodeCounter.last_no))}
    groups: dict[str, list[ArchiveItem]] = defaultdict(list)
    labels: dict[str, str] = {}
    for item in items:
        key = group_key(item.fonds.code, item.category.code, item.year, item.retention,
                        item.org_code)
        groups[key].append(item)
        labels[key] = _group_label(item)
    out = []
    for key, members in groups.items():
        by_no: dict[int, list[str]] = defaultdict(list)
        for item in members:
            by_no[item.item_no].append(item.archival_code)
        last = max(max(by_no), allocated.get(key, 0))
        missing = [n for n in range(1, last + 1) if n not in by_no]
        if missing:
            out.append(Finding(FindingKind.ITEM_NUMBER_GAP, subject=labels[key],
                               facts={"missing": missing}))
        for no, codes in sorted(by_no.items()):
            if len(codes) > 1:
                out.append(Finding(FindingKind.ITEM_NUMBER_DUPLICATE, subject=labels[key],
                                   facts={"item_no": no, "codes": sorted(codes)}))
    return out
