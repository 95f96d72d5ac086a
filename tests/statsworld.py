"""A built archive for the statistics tests: items at every 密级 in two fonds and several
years, registered in known months, with files, pages, cross-checks and audit entries, so
every figure can be worked out by hand (tests/service/test_statistics.py does)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from service.archive import Archive
from service.audit import record
from service.codes import allocate, format_code
from service.models import (
    ArchiveItem,
    AuditEntry,
    Category,
    CrossCheck,
    Fonds,
    Loan,
    LoanItem,
    Page,
    StoredFile,
)
from service.users import create_user, get_user


def at(month: int, day: int = 10) -> datetime:
    return datetime(2026, month, day, 9, 30)


@dataclass(frozen=True)
class Spec:
    fonds: str
    category: str
    year: int
    retention: str
    secrecy: str
    paper: int
    scanned: int
    created: datetime
    original_bytes: int
    condition: str = "intact"
    blank: int = 0
    status: str = "ready"


#: The built world. Item 4 is paper only (no scan); item 6 was merged into another and item 7
#: deleted (a tombstone): neither is held.
SPECS = {
    1: Spec("J001", "HT", 2023, "D30", "公开", 2, 2, at(1, 10), 1000),
    2: Spec("J001", "HT", 2024, "D30", "内部", 3, 3, at(1, 20), 2000),
    3: Spec("J001", "WS", 2024, "Y", "秘密", 1, 1, at(3, 5), 500, "damaged", blank=1),
    4: Spec("J001", "ZJ", 2024, "D10", "机密", 4, 0, at(3, 6), 0, status="registered"),
    5: Spec("J002", "HT", 2025, "Y", "绝密", 5, 5, at(3, 7), 7000, "missing_pages"),
    6: Spec("J001", "HT", 2024, "D30", "内部", 1, 1, at(3, 8), 100, status="merged"),
    7: Spec("J001", "HT", 2024, "D30", "内部", 2, 0, at(3, 9), 0, status="deleted"),
}


def add_item(s, n: int, spec: Spec) -> ArchiveItem:
    fonds = s.scalar(select(Fonds).where(Fonds.code == spec.fonds))
    cat = s.scalar(select(Category).where(Category.code == spec.category))
    code = allocate(s, spec.fonds, spec.category, spec.year, spec.retention, None)
    item = ArchiveItem(archival_code=format_code(code), fonds_id=fonds.id, category_id=cat.id,
                       year=spec.year, retention=spec.retention, item_no=code.item_no,
                       title=f"统计用档案 {n}", secrecy=spec.secrecy, paper_pages=spec.paper,
                       paper_condition=spec.condition, status=spec.status,
                       created_at=spec.created)
    s.add(item)
    s.flush()
    if spec.original_bytes:
        f = StoredFile(item_id=item.id, role="original", seq=1, key=f"originals/{n}",
                       sha256=f"{n:064x}", size=spec.original_bytes, created_at=spec.created)
        s.add(f)
        s.flush()
        for p in range(1, spec.scanned + spec.blank + 1):
            s.add(Page(item_id=item.id, file_id=f.id, n=p, file_page=p, status="done",
                       blank=p > spec.scanned,
                       image_key=f"pages/{n}/{p}" if n == 1 else None,
                       thumb_key=f"thumbs/{n}/{p}" if n == 1 else None))
    return item


#: Loans: kind, requested at, hours lent, status, items. The issued electronic loan ends on
#: 2 March 13:30 (expired after), the issued paper loan on 4 March 09:30 (overdue after).
LOANS = [
    ("paper", at(1, 15), 8, "returned", (1, 2)),
    ("electronic", at(3, 2), 4, "issued", (3,)),
    ("paper", at(3, 3), 24, "issued", (1,)),
    ("paper", at(3, 20), 8, "requested", (5,)),
    ("electronic", at(3, 21), 4, "rejected", (2,)),
]


class World:
    def __init__(self, archive: Archive) -> None:
        self.archive = archive
        with archive.session() as s:
            s.add(Fonds(code="J002", name="第二全宗"))
            for name, role in (("keeper", "archivist"), ("mgr", "manager"), ("exe", "executive"),
                               ("off", "officer"), ("alice", "staff"), ("dm", "dept_manager")):
                create_user(s, name, "password-123", role=role, department="销售部")
            s.flush()
            self.ids = {n: add_item(s, n, spec).id for n, spec in SPECS.items()}
            for n in (1, 2):  # their searchable PDFs, stored with them
                s.add(StoredFile(item_id=self.ids[n], role="searchable_pdf", seq=1,
                                 key=f"derived/{n}", sha256=f"{n + 100:064x}", size=300,
                                 created_at=SPECS[n].created))
            officer = get_user(s, "off")
            checks = [(1, "agrees", at(2)), (2, "discrepancy", at(2)), (3, "agrees", at(3, 10)),
                      (5, "discrepancy", at(3, 9)), (5, "agrees", at(3, 11))]
            for n, result, when in checks:
                s.add(CrossCheck(item_id=self.ids[n], result=result, officer_id=officer.id,
                                 officer="off", checked_at=when))
            # item 3 changed after its check: back in the officer's queue
            s.get(ArchiveItem, self.ids[3]).sets_changed_at = at(3, 12)
            alice = get_user(s, "alice")
            for number, (kind, requested, hours, status, items) in enumerate(LOANS, start=1):
                loan = Loan(number=f"JY-2026-{number:04d}", borrower_id=alice.id,
                            department="销售部", purpose="统计", kind=kind, starts_at=requested,
                            ends_at=requested + timedelta(hours=hours), status=status,
                            approver_role="dept_manager", requested_by="alice",
                            requested_at=requested)
                s.add(loan)
                s.flush()
                s.add_all(LoanItem(loan_id=loan.id, item_id=self.ids[n]) for n in items)
        item = {n: f"item:{i}" for n, i in self.ids.items()}
        uses = [("view", item[1], at(1)), ("item.view", item[1], at(1, 11)),
                ("catalogue.search", "search", at(1)), ("box.print", "box:BOX-1", at(2)),
                ("view", item[5], at(3)), ("item.view", item[2], at(3)),
                ("file.download", item[2], at(3)), ("page.view", item[2], at(3)),
                ("ingest", item[2], at(1))]
        for action, target, when in uses:
            with archive.session() as s:
                entry = record(s, "keeper", action, target, None)
                s.execute(update(AuditEntry).where(AuditEntry.id == entry.id).values(at=when))
