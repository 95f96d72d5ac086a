"""The catalogue sheet's columns, in one place: the import reads them, the export and the
template write them, so a sheet exported can be edited and imported again.

How an import row names an item: by its 档号 (the 档号 column, or the code parts with a
件号). A row naming a registered item edits that item's catalogue fields; a row naming no
item (件号 blank) registers a new one with its scans.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from .models import ArchiveItem
from .vocab import RETENTIONS


@dataclass(frozen=True)
class Column:
    header: str
    key: str
    #: What to write, for the template's notes row.
    note: str


COLUMNS: tuple[Column, ...] = (
    Column("档号", "code", "已登记档案的档号（导出时填写）；新档案留空"),
    Column("全宗号", "fonds", "4位大写字母或数字，如 J001"),
    Column("门类", "category", "门类代码，如 HT"),
    Column("年度", "year", "4位年份，如 2024"),
    Column("保管期限", "retention", "Y（永久）、D30、D10"),
    Column("机构", "org", "机构（问题）代码，3个大写字母，可空"),
    Column("件号", "item_no", "留空由系统分配"),
    Column("题名", "title", "必填"),
    Column("文号", "doc_number", ""),
    Column("责任者", "responsible", ""),
    Column("日期", "doc_date", "YYYY-MM-DD，须在年度内"),
    Column("页数", "paper_pages", "纸质页数；填写时须与扫描页数一致"),
    Column("密级", "secrecy", "公开、内部、秘密、机密"),
    Column("备注", "remarks", ""),
    Column("客户编号", "customer", "KH-年月序号，如 KH-202405001"),
    Column("盒号", "box", "档案盒条码"),
    Column("文件名", "file_name", "扫描目录中的文件或文件夹名；留空时按档号查找"),
    Column("起止页", "page_range", "整卷扫描时本件的页码范围，如 1-12"),
    Column("身份证复印件", "id_copies", "含身份证复印件填“是”，否则留空；只有有个人信息查看权限的用户可以打开"),
)
HEADERS: tuple[str, ...] = tuple(c.header for c in COLUMNS)
BY_KEY: dict[str, Column] = {c.key: c for c in COLUMNS}
#: Headers an import sheet must have.
REQUIRED_HEADERS: tuple[str, ...] = ("全宗号", "门类", "年度", "保管期限", "题名", "密级")
#: The fields a row naming a registered item may change (the 档号 parts never change).
EDITABLE = ("title", "doc_number", "responsible", "doc_date", "paper_pages", "secrecy",
            "remarks", "customer", "box", "id_copies")
#: Retention written either way: the code or its Chinese name.
RETENTION_NAMES = {name: code for code, name in RETENTIONS.items()}


def header(key: str) -> str:
    return BY_KEY[key].header


def item_values(item: ArchiveItem) -> dict[str, Any]:
    """An item's catalogue fields by column key, as the import reads them back."""
    return {
        "code": item.archival_code, "fonds": item.fonds.code, "category": item.category.code,
        "year": item.year, "retention": item.retention, "org": item.org_code,
        "item_no": item.item_no, "title": item.title, "doc_number": item.doc_number,
        "responsible": item.responsible, "doc_date": item.doc_date,
        "paper_pages": item.paper_pages, "secrecy": item.secrecy, "remarks": item.remarks,
        "customer": item.customer.number if item.customer else None,
        "box": item.box.barcode if item.box else None, "file_name": None, "page_range": None,
        "id_copies": bool(item.id_copies),
    }


def sheet_row(item: ArchiveItem) -> list[Any]:
    """The item as one export row, in the columns' order (dates as YYYY-MM-DD text, so
    the sheet reads the same in Excel, WPS and a CSV)."""
    values = item_values(item)
    values["id_copies"] = "是" if values["id_copies"] else None
    return [v.isoformat() if isinstance(v, date) else v for v in
            (values[c.key] for c in COLUMNS)]
