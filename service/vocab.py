"""Controlled vocabularies of the catalogue, in one place.

The enums are `StrEnum`s: a member *is* the string the archive stores and the JSON shows
("公开", "ready", "admin"), so rows, URLs and API answers read exactly as before.
"""

from __future__ import annotations

from enum import StrEnum


class Secrecy(StrEnum):
    """密级, in increasing order of restriction."""

    PUBLIC = "公开"
    INTERNAL = "内部"
    SECRET = "秘密"
    CONFIDENTIAL = "机密"
    TOP_SECRET = "绝密"


class Role(StrEnum):
    """A user's role; what each may do is decided in service.access."""

    ADMIN = "admin"
    MANAGER = "manager"
    EXECUTIVE = "executive"
    ARCHIVIST = "archivist"
    OFFICER = "officer"
    DEPT_MANAGER = "dept_manager"
    STAFF = "staff"


class ChangeStatus(StrEnum):
    """A catalogue change request (service.changes): it takes effect only when approved."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    #: Taken back by its requester before a decision.
    WITHDRAWN = "withdrawn"


class ItemStatus(StrEnum):
    #: Catalogued before any scan (the paper set only).
    REGISTERED = "registered"
    PROCESSING = "processing"
    READY = "ready"
    #: 部分可用: usable and searchable, with a bad file or page to fix.
    PARTIAL = "partial"
    FAILED = "failed"
    #: Its pages were merged into another item (the 档号 stays recorded, never reused).
    MERGED = "merged"
    #: Deleted (service.deletion): a tombstone keeping the 档号, fields and history; no scans.
    DELETED = "deleted"
    #: Destroyed at the end of retention (service.destruction): a tombstone, as DELETED.
    DESTROYED = "destroyed"


class PageStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class FileStatus(StrEnum):
    STORED = "stored"
    FAILED = "failed"


class PaperCondition(StrEnum):
    """The paper original's condition (纸质原件状况), recorded on its paper side."""

    INTACT = "intact"
    DAMAGED = "damaged"
    MISSING_PAGES = "missing_pages"


class CheckResult(StrEnum):
    """A records officer's cross-check of paper against scans."""

    AGREES = "agrees"
    DISCREPANCY = "discrepancy"


class DiscrepancyKind(StrEnum):
    """What a cross-check found wrong between the paper original and its scans."""

    MISSING_SCAN = "missing_scan"  # a paper page has no scan
    EXTRA_SCAN = "extra_scan"  # a scan has no paper page
    PAGE_ORDER = "page_order"
    ILLEGIBLE = "illegible"  # the scan cannot be read
    CONTENT_DIFFERS = "content_differs"
    SEAL_NOT_VISIBLE = "seal_not_visible"  # seal or signature not visible on the scan
    PAPER_DAMAGED = "paper_damaged"


#: How the printed paperwork (备考表) names a paper condition and a discrepancy kind.
PAPER_CONDITION_NAMES: dict[str, str] = {
    PaperCondition.INTACT: "完好", PaperCondition.DAMAGED: "破损",
    PaperCondition.MISSING_PAGES: "缺页"}
DISCREPANCY_NAMES: dict[str, str] = {
    DiscrepancyKind.MISSING_SCAN: "纸质页缺扫描", DiscrepancyKind.EXTRA_SCAN: "多余扫描页",
    DiscrepancyKind.PAGE_ORDER: "页序错误", DiscrepancyKind.ILLEGIBLE: "扫描件不清晰",
    DiscrepancyKind.CONTENT_DIFFERS: "内容不符", DiscrepancyKind.SEAL_NOT_VISIBLE: "印章或签名不可见",
    DiscrepancyKind.PAPER_DAMAGED: "纸质原件破损"}

#: Discrepancy kinds the archivist answers with a rescan (the others concern the paper).
RESCAN_KINDS = frozenset({DiscrepancyKind.MISSING_SCAN, DiscrepancyKind.EXTRA_SCAN,
                          DiscrepancyKind.PAGE_ORDER, DiscrepancyKind.ILLEGIBLE,
                          DiscrepancyKind.CONTENT_DIFFERS, DiscrepancyKind.SEAL_NOT_VISIBLE})


#: Items whose scans are gone for good (their catalogue row is kept as a tombstone).
TOMBSTONES = frozenset({ItemStatus.DELETED, ItemStatus.DESTROYED})

#: The page states still waiting for (or in) a worker.
OPEN_PAGE_STATUSES = (PageStatus.PENDING, PageStatus.RUNNING)
#: The page states a worker has finished with.
SETTLED_PAGE_STATUSES = (PageStatus.DONE, PageStatus.FAILED)

SECRECY_LEVELS: tuple[Secrecy, ...] = tuple(Secrecy)
ROLES: tuple[Role, ...] = tuple(Role)
ITEM_STATUSES: tuple[ItemStatus, ...] = tuple(ItemStatus)
RETENTIONS = {"Y": "永久", "D30": "定期30年", "D10": "定期10年"}
CUSTOMER_KINDS = ("企业", "个人")
CUSTOMER_GRADES = ("战略", "重点", "普通", "潜在")
CUSTOMER_SECTIONS = {
    "basic": "基础资料",
    "contract": "合同协议",
    "payment": "收付款与债务",
    "complaint": "投诉与优惠",
    "correspondence": "往来函件",
}
DEFAULT_CATEGORIES = (
    ("WS", "文书", "Documents"),
    ("HT", "合同协议", "Contracts and agreements"),
    ("ZJ", "证件", "ID and licence copies"),
    ("BD", "签署表单", "Signed forms"),
    ("CW", "财务凭证", "Financial vouchers"),
    ("KH", "客户资料", "Customer records"),
)

__all__ = ["CUSTOMER_GRADES", "CUSTOMER_KINDS", "CUSTOMER_SECTIONS", "DEFAULT_CATEGORIES",
           "ITEM_STATUSES", "OPEN_PAGE_STATUSES", "RESCAN_KINDS", "RETENTIONS", "ROLES",
           "SECRECY_LEVELS", "SETTLED_PAGE_STATUSES", "TOMBSTONES", "ChangeStatus", "CheckResult", "DiscrepancyKind",
           "FileStatus", "ItemStatus", "PageStatus", "PaperCondition", "Role", "Secrecy"]
