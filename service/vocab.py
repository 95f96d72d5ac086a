"""Controlled vocabularies of the catalogue (values stored as the archive writes them)."""

from __future__ import annotations

from .codes import RETENTIONS

SECRECY_LEVELS = ("公开", "内部", "秘密", "机密", "绝密")
SECRECY_EN = {"公开": "public", "内部": "internal", "秘密": "secret", "机密": "confidential",
              "绝密": "top secret"}
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
#: 'partial' (部分可用): usable and searchable, with a bad file or page to fix.
ITEM_STATUSES = ("processing", "ready", "partial", "failed")

__all__ = ["CUSTOMER_GRADES", "CUSTOMER_KINDS", "CUSTOMER_SECTIONS", "DEFAULT_CATEGORIES",
           "ITEM_STATUSES", "RETENTIONS", "SECRECY_LEVELS", "SECRECY_EN"]
