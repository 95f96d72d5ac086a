"""Batch registration from a catalogue sheet (挂接, DA/T 31-2017): the scanner's folder is
mounted onto the sheet's rows.

Two steps, both from the same sheet and folder:

- ``plan_batch`` (the dry run) checks every row against the catalogue's own rules (the ones
  a single upload meets: service.codes, service.catalogue, service.fields, service.ingest)
  and the folder (missing, unreadable, shared or unused files, page counts), and writes
  nothing. Each problem names its row and column, in Chinese.
- ``register_batch`` plans again (the catalogue may have moved since the dry run) and then
  registers each good row on its own through service.ingest, so a row is all-or-nothing:
  one bad row never stops or undoes the others, and running the same sheet again registers
  only what is still missing (a row whose scans are already the item it registered is
  recognised, not registered twice).

A row names an item by its 档号 (the 档号 column, or the code parts with a 件号): a row naming
a registered item asks for a change of its catalogue fields (only those that differ, with
their previous values), which waits for the archive manager's approval (service.changes);
a row with the 件号 blank registers a new item, whose
件号 is allocated. Scans are found by the row's 文件名 (a file, or a folder of files for one
item) or, with 文件名 blank, by a file or folder named after the row's 档号.

The sheet is read as a stream and the scans are hashed from disk, so a batch of thousands of
rows and tens of GB holds only the rows' catalogue text in memory.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .access import (
    operator_visibility,
    require_manage,
    require_register,
    require_register_id_copies,
    visibility_for,
    visible_under,
)
from .archive import Archive
from .audit import record
from .audit_actions import AuditAction
from .catalogue import (
    get_category,
    get_customer,
    get_fonds,
    list_categories,
    validate_customer_number,
    visible_customer,
)
from .changes import IMPORT, submit_change, waiting_like
from .codes import ArchivalCode, format_code, next_item_no, parse_code, validate_parts
from .errors import N_, DanganError, InvalidInput, Listing, Message, dumps, loads, msg
from .fields import check_text, yes_no
from .ingest import (
    AlreadyStored,
    IngestRequest,
    PagesTaken,
    check_doc_date,
    ingest,
    triage_upload,
    validate_request,
)
from .locations import check_box_fits, get_box
from .models import ArchiveItem, Page, User
from .privacy import fields_for, written_back
from .sheet_columns import (
    COLUMNS,
    EDITABLE,
    HEADERS,
    REQUIRED_HEADERS,
    RETENTION_NAMES,
    header,
    item_values,
)
from .sheets import read_rows
from .vocab import SECRECY_LEVELS, ItemStatus, PageStatus

_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")
_RANGE = re.compile(r"^\s*(\d+)\s*[-–~至]\s*(\d+)\s*$")


@dataclass
class Problem:
    """One thing wrong, beside its cell: row (None for the folder), column header, value."""

    row: int | None
    column: str
    value: str
    #: A service error's message (shown in the reader's language) or a bilingual text.
    message: Message | str

    def to_json(self) -> dict[str, Any]:
        """`message` in Chinese (the id's language); `msg` the message to show translated
        (indexer.messages.loads reads it back)."""
        m = self.message
        return {"row": self.row, "column": self.column, "value": self.value,
                "message": str(m), "msg": dumps(m) if isinstance(m, Message) else m}


@dataclass
class PlannedRow:
    row: int
    values: dict[str, str]
    #: register (a new item), update (edit a registered one), unchanged, or done (the row's
    #: scans are already the item it names: registered by an earlier run of this sheet).
    action: str = "register"
    fields: dict[str, Any] = field(default_factory=dict)
    item_no: int | None = None
    code: str | None = None
    item_id: int | None = None
    files: list[Path] = field(default_factory=list)
    #: First and last page of the volume (the row's one file) that make this item.
    page_range: tuple[int, int] | None = None
    volume_pages: int = 0
    pages: int = 0
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    #: Who imports the sheet: the changes are shown as they may read them (privacy).
    reader: User | None = None

    def to_json(self) -> dict[str, Any]:
        shown = fields_for(self.reader, {k: [_show(a), _show(b)]
                                         for k, (a, b) in self.changes.items()})
        return {"row": self.row, "action": self.action, "archival_code": self.code,
                "id": self.item_id, "title": self.fields.get("title"), "pages": self.pages,
                "files": [p.name for p in self.files],
                "page_range": list(self.page_range) if self.page_range else None,
                "changes": {header(k): pair for k, pair in shown.items()},
                "problems": [p.to_json() for p in self.problems]}


def _show(v: Any) -> Any:
    if isinstance(v, bool):  # a yes/no column (身份证复印件), as the edit form writes it
        return "是" if v else "否"
    return v.isoformat() if isinstance(v, date) else v


@dataclass
class BatchPlan:
    sheet: str
    rows: list[PlannedRow]
    unused_files: list[str]

    @property
    def problems(self) -> list[Problem]:
        return [p for r in self.rows for p in r.problems]

    def counts(self) -> dict[str, int]:
        out = {"rows": len(self.rows), "register": 0, "update": 0, "unchanged": 0, "done": 0,
               "bad": 0}
        for r in self.rows:
            out["bad" if r.problems else r.action] += 1
        out["unused_files"] = len(self.unused_files)
        return out

    def to_json(self) -> dict[str, Any]:
        return {"sheet": self.sheet, "counts": self.counts(),
                "rows": [r.to_json() for r in self.rows],
                "problems": [p.to_json() for p in self.problems],
                "unused_files": self.unused_files}


def require_import(user: User | None) -> None:
    """Archivists and the archive's managers import (the operator at the command line too)."""
    if user is not None:
        require_manage(user)


# ----------------------------------------------------------------- reading one row


class _Row:
    """Parses one row's cells, collecting a problem per bad cell instead of stopping."""

    def __init__(self, s: Session, user: User | None, n: int, values: dict[str, str]) -> None:
        self.s, self.user = s, user
        self.plan = PlannedRow(n, values, reader=user)

    def text(self, key: str) -> str | None:
        return (self.plan.values.get(header(key)) or "").strip() or None

    def bad(self, key: str | None, message: Message | str) -> None:
        column = header(key) if key else ""
        self.plan.problems.append(Problem(self.plan.row, column,
                                          self.plan.values.get(column, "") if key else "",
                                          message))

    def check(self, key: str, fn: Callable[..., Any], *args: Any) -> Any:
        """fn(*args), or None with the error beside the cell `key`."""
        try:
            return fn(*args)
        except DanganError as exc:
            self.bad(key, exc.msg)
            return None

    def ok(self, key: str, fn: Callable[..., Any], *args: Any) -> bool:
        """Whether fn(*args) passes; if not, its error goes beside the cell `key`."""
        before = len(self.plan.problems)
        self.check(key, fn, *args)
        return len(self.plan.problems) == before

    def integer(self, key: str, label: str) -> int | None:
        raw = self.text(key)
        if raw is None:
            return None
        try:
            return int(raw)
        except ValueError:
            self.bad(key, msg(N_("%(label)s应为整数，而不是“%(value)s”。"), label=label, value=raw))
            return None

    def parse(self) -> dict[str, Any]:
        """The row's catalogue fields, each checked by the rule that owns it."""
        f: dict[str, Any] = {}
        fonds = (self.text("fonds") or "").upper()
        if self.ok("fonds", validate_parts, fonds, "WS", 2000, "Y", None) and \
                self.ok("fonds", get_fonds, self.s, fonds):
            f["fonds"] = fonds
        category = self._category(self.text("category") or "")
        if self.ok("category", validate_parts, "J001", category, 2000, "Y", None) \
                and self.ok("category", get_category, self.s, category):
            f["category"] = category
        year = self.integer("year", "年度")
        if year is None and not self.text("year"):
            self.bad("year", msg(N_("请填写年度。")))
        elif year is not None and self.ok("year", validate_parts, "J001", "WS", year, "Y",
                                          None):
            f["year"] = year
        raw = self.text("retention") or ""
        retention = RETENTION_NAMES.get(raw, raw.upper())
        if self.ok("retention", validate_parts, "J001", "WS", 2000, retention, None):
            f["retention"] = retention
        org = (self.text("org") or "").upper() or None
        if self.ok("org", validate_parts, "J001", "WS", 2000, "Y", org):
            f["org"] = org
        self.plan.item_no = self.integer("item_no", "件号")
        self.plan.page_range = self._range()
        f["title"] = self.text("title") or ""
        for key, column, label in (("title", ArchiveItem.title, "题名"),
                                   ("doc_number", ArchiveItem.doc_number, "文号"),
                                   ("responsible", ArchiveItem.responsible, "责任者"),
                                   ("remarks", ArchiveItem.remarks, "备注")):
            value = self.text(key) if key != "title" else f["title"]
            self.check(key, check_text, column, value, label)
            f[key] = value if key == "title" else (value or None)
        if not f["title"]:
            self.bad("title", msg(N_("题名不能为空。")))
        f["doc_date"] = self._date(f.get("year"))
        f["paper_pages"] = self.integer("paper_pages", "页数")
        secrecy = self.text("secrecy") or ""
        if not secrecy:
            self.bad("secrecy", msg(N_("请填写密级（公开、内部、秘密、机密）。")))
        elif secrecy not in SECRECY_LEVELS:
            self.bad("secrecy", msg(N_("密级“%(value)s”无效，可选：%(choices)s。"), value=secrecy,
                                    choices=Listing(SECRECY_LEVELS)))
        elif self.ok("secrecy", require_register, self.user, secrecy):
            f["secrecy"] = secrecy
        f["customer"] = self._customer()
        f["box"] = self._box(f)
        if header("id_copies") in self.plan.values:  # a sheet without the column keeps the flag
            flag = self.check("id_copies", yes_no, self.text("id_copies"), "身份证复印件")
            if flag:
                self.check("id_copies", require_register_id_copies, self.user)
            f["id_copies"] = bool(flag)
        return f

    def _range(self) -> tuple[int, int] | None:
        raw = self.text("page_range")
        if raw is None:
            return None
        m = _RANGE.match(raw) or re.match(r"^\s*(\d+)\s*$", raw)
        first, last = (int(m[1]), int(m[m.lastindex or 1])) if m else (0, 0)
        if not 1 <= first <= last:
            self.bad("page_range", msg(N_("起止页“%(value)s”无效：应写成“起始页-终止页”，如 1-12。"),
                                       value=raw))
            return None
        return first, last

    def _category(self, raw: str) -> str:
        """门类 by its code or its Chinese name (合同协议 → HT)."""
        for cat in list_categories(self.s):
            if raw == cat.name:
                return cat.code
        return raw.upper()

    def _date(self, year: int | None) -> date | None:
        raw = self.text("doc_date")
        if raw is None:
            return None
        m = _DATE.match(raw.replace(" ", ""))
        try:
            d = date(int(m[1]), int(m[2]), int(m[3])) if m else None
        except ValueError:
            d = None
        if d is None:
            self.bad("doc_date", msg(N_("日期“%(value)s”无效：格式应为 YYYY-MM-DD，如 2024-05-01。"),
                                     value=raw))
            return None
        if year is not None:
            self.check("doc_date", check_doc_date, d, year)
        return d

    def _customer(self) -> str | None:
        number = self.text("customer")
        if number is None:
            return None
        if self.ok("customer", validate_customer_number, number):
            lookup = get_customer if self.user is None else (
                lambda s, n: visible_customer(s, self.user, n))
            self.check("customer", lookup, self.s, number)
        return number

    def _box(self, f: dict[str, Any]) -> str | None:
        barcode = self.text("box")
        if barcode is None:
            return None
        box = self.check("box", get_box, self.s, barcode)
        if box is not None and {"year", "retention", "org"} <= f.keys():
            self.check("box", check_box_fits, box, f["year"], f["retention"], f["org"])
        return barcode


# ----------------------------------------------------------------- the folder of scans


class _Scans:
    """The scan folder's files, found by a row's 文件名 or by its 档号."""

    def __init__(self, root: Path | None) -> None:
        self.root = root.resolve() if root else None
        self.by_stem: dict[str, list[Path]] = {}
        self.all: set[Path] = set()
        if self.root is None:
            return
        if not self.root.is_dir():
            raise InvalidInput(N_("扫描目录不存在：%(path)s。"), path=str(root))
        for entry in self.root.iterdir():
            if not entry.name.startswith("."):
                self.by_stem.setdefault(_code_key(entry.stem if entry.is_file() else entry.name),
                                        []).append(entry)
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            self.all.update(Path(dirpath, n) for n in filenames if not n.startswith("."))

    def files(self, entry: Path) -> list[Path]:
        if entry.is_dir():
            return sorted((p for p in entry.iterdir() if p.is_file() and not p.name.startswith(".")),
                          key=_natural)
        return [entry]

    def find(self, row: _Row, code: str | None) -> list[Path]:
        name = row.text("file_name")
        if self.root is None:
            row.bad("file_name", msg(N_("没有给出扫描目录，新档案无法挂接扫描文件。")))
            return []
        if row.plan.page_range and not name:
            row.bad("file_name", msg(N_("按起止页登记时，请在文件名列填写整卷扫描文件的名称。")))
            return []
        if name:
            try:
                entry = (self.root / name).resolve()
                there = entry.is_relative_to(self.root) and entry.exists()
            except (OSError, ValueError):  # a NUL in the name, a name too long for any file
                there = False
            if not there:
                row.bad("file_name", msg(N_("扫描目录中找不到“%(name)s”。"), name=name))
                return []
            if row.plan.page_range and not entry.is_file():
                row.bad("file_name", msg(N_("“%(name)s”是文件夹：按起止页登记时应为一个整卷扫描文件。"),
                                         name=name))
                return []
            return self.files(entry)
        found = self.by_stem.get(_code_key(code)) if code else None
        if not found:
            row.bad("file_name", msg(N_("未填写文件名，扫描目录中也没有以档号命名的文件或文件夹：请填写"
                                        "文件名。")))
            return []
        if len(found) > 1:
            row.bad("file_name", msg(N_("以档号命名的文件有多个（%(names)s）：请在文件名列指明。"),
                                     names=Listing([p.name for p in found])))
            return []
        return self.files(found[0])


def _code_key(code: str) -> str:
    """A 档号 as a file name: the middle dot may be typed as '.' or '・'."""
    return code.replace("·", ".").replace("・", ".").upper()


def _natural(p: Path) -> list[Any]:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", p.name)]


# ----------------------------------------------------------------- planning


def _check_headers(headers: set[str]) -> None:
    missing = [h for h in REQUIRED_HEADERS if h not in headers]
    if missing:
        raise InvalidInput(N_("目录表缺少列：%(missing)s。请使用模板的列标题（%(headers)s）。"),
                           missing=Listing(missing), headers=Listing(HEADERS))


def plan_batch(archive: Archive, user: User | None, sheet: Path, scans: Path | None,
               *, sheet_name: str | None = None) -> BatchPlan:
    """The dry run: every row checked, every problem listed, nothing written."""
    require_import(user)
    folder = _Scans(scans)
    rows: list[PlannedRow] = []
    checked_headers = False
    with archive.session() as s:
        for n, values in read_rows(sheet):
            if not checked_headers:
                _check_headers(set(values))
                checked_headers = True
            rows.append(_plan_row(archive, s, user, folder, n, values))
        s.rollback()
    _cross_checks(archive, rows)
    used = {p for r in rows for p in r.files}
    unused = sorted(str(p.relative_to(folder.root)) for p in folder.all - used) \
        if folder.root else []
    if folder.root:
        unused += _uncovered(rows, folder.root)
    return BatchPlan(sheet_name or sheet.name, rows, unused)


def _plan_row(archive: Archive, s: Session, user: User | None, folder: _Scans, n: int,
              values: dict[str, str]) -> PlannedRow:
    row = _Row(s, user, n, values)
    f = row.parse()
    plan = row.plan
    plan.fields = f
    code = _named_code(row, f)
    existing = s.scalar(select(ArchiveItem).where(ArchiveItem.archival_code == code)) \
        if code else None
    vis = visibility_for(user) if user is not None else operator_visibility()
    if existing is not None and visible_under(vis, existing):
        plan.code, plan.item_id = existing.archival_code, existing.id
        _plan_update(row, existing)
        return plan
    if row.text("code"):
        if code is None:
            return plan  # the 档号 column is wrong: said beside it, nothing more to look for
        row.bad("code", msg(N_("档号“%(code)s”不存在或您无权查看：新档案请把档号和件号留空。"),
                            code=row.text("code")))
    plan.code = code
    plan.files = folder.find(row, code)
    if plan.problems:
        return plan
    _plan_files(archive, row)
    return plan


def _named_code(row: _Row, f: dict[str, Any]) -> str | None:
    """The 档号 the row names: its 档号 column (whose parts must agree with the part
    columns) or the parts with a 件号; None for a new item with its 件号 left blank."""
    written = row.text("code")
    parts = ("fonds", "category", "year", "retention", "org")
    if written:
        parsed: ArchivalCode | None = row.check("code", parse_code, written)
        if parsed is None:
            return None
        mine = (parsed.fonds, parsed.category, parsed.year, parsed.retention, parsed.org)
        if any(k in f and f[k] != v for k, v in zip(parts, mine, strict=True)) or (
                row.plan.item_no is not None and row.plan.item_no != parsed.item_no):
            row.bad("code", msg(N_("档号与全宗号、门类、年度、保管期限、机构或件号不一致：档号登记后不能修改。")))
            return None
        row.plan.item_no = parsed.item_no
        return format_code(parsed)
    if row.plan.item_no is None or not all(k in f for k in parts):
        return None
    try:
        return format_code(ArchivalCode(f["fonds"], f["category"], f["year"], f["retention"],
                                        f["org"], row.plan.item_no))
    except DanganError as exc:
        row.bad("item_no", exc.msg)
        return None


def _plan_update(row: _Row, item: ArchiveItem) -> None:
    plan = row.plan
    if row.text("file_name") or row.text("page_range"):
        row.bad("file_name", msg(N_("该档号已登记：导入只修改已登记档案的著录项，不能追加扫描文件；新档案请把"
                                    "档号和件号留空。")))
    current = item_values(item)
    for key in EDITABLE:
        if key not in plan.fields:
            continue
        # a cell exported masked (service.export) keeps the digits it stands for
        value = written_back(row.user, plan.fields[key], current[key])
        if value != current[key]:
            plan.changes[key] = (current[key], value)
    if "secrecy" in plan.changes:
        # the level a user may set is the level they may register
        row.check("secrecy", require_register, row.user, plan.fields["secrecy"])
    if "box" in plan.changes and plan.fields["box"]:
        box = row.check("box", get_box, row.s, plan.fields["box"])
        if box is not None:
            row.check("box", check_box_fits, box, item.year, item.retention, item.org_code)
    plan.action = "update" if plan.changes else "unchanged"


def _request(plan: PlannedRow, user: User | None) -> IngestRequest:
    f = plan.fields
    return IngestRequest(
        files=plan.files, original_names=[p.name for p in plan.files],
        fonds=f["fonds"], category=f["category"], year=f["year"], retention=f["retention"],
        secrecy=f["secrecy"], title=f["title"], org=f["org"], customer=f["customer"],
        box=f["box"], doc_number=f["doc_number"], responsible=f["responsible"],
        doc_date=f["doc_date"], paper_pages=f["paper_pages"], remarks=f["remarks"],
        id_copies=f.get("id_copies", False), actor=user.username if user else "cli", uploader=user, item_no=plan.item_no,
        page_range=plan.page_range)


def _column_of(message: Message | str) -> str | None:
    """The column a catalogue rule's message is about (it names the field in Chinese)."""
    for c in COLUMNS:
        if c.header in str(message):
            return c.key
    return None


def _plan_files(archive: Archive, row: _Row) -> None:
    """The row's scans, looked at as the registration will: caps, readability, duplicates."""
    plan = row.plan
    req = _request(plan, row.user)
    try:
        validate_request(archive, req)
    except DanganError as exc:
        row.bad(_column_of(exc.msg), exc.msg)
        return
    try:
        triaged = triage_upload(archive, req)
    except AlreadyStored as exc:
        ids = {e.get("id") for e in exc.details.get("existing", [])}
        if len(ids) == 1 and None not in ids and len(exc.details["existing"]) == len(plan.files):
            plan.action, plan.item_id = "done", ids.pop()
            plan.code = exc.details["existing"][0]["archival_code"]
            return
        row.bad("file_name", exc.msg)
        return
    except PagesTaken as exc:
        held = exc.details.get("existing", [])
        if plan.page_range and len(held) == 1 and held[0].get("id") and \
                (held[0]["first"], held[0]["last"]) == plan.page_range:
            plan.action, plan.item_id = "done", held[0]["id"]
            plan.code = held[0]["archival_code"]
            return
        row.bad("page_range", exc.msg)
        return
    except DanganError as exc:
        unreadable = exc.details.get("failed_files")
        if not unreadable:
            row.bad("file_name", exc.msg)
        for f in unreadable or []:
            _unreadable(row, f["name"], f["reason"])
        return
    for t in triaged:
        if t.error_code:
            _unreadable(row, t.name, t.error_reason)
    plan.pages = sum(t.pages for t in triaged)
    if plan.page_range:
        plan.volume_pages = plan.pages
        plan.pages = plan.page_range[1] - plan.page_range[0] + 1
    paper = plan.fields.get("paper_pages")
    if paper is not None and paper != plan.pages:
        row.bad("paper_pages", msg(N_("页数 %(paper)s 与扫描文件的页数 %(pages)s 不符：请核对页数或扫描文件。"),
                                   paper=paper, pages=plan.pages))


def _unreadable(row: _Row, name: str, reason: Message | str | None) -> None:
    row.bad("file_name", msg(N_("扫描文件“%(name)s”无法读取：%(reason)s"), name=name,
                             reason=loads(reason) if isinstance(reason, str) else reason))


def _check_volumes(rows: list[PlannedRow],
                   bad: Callable[[PlannedRow, str, Message | str], None]) -> None:
    """The rows that are parts of one volume: their page ranges never overlap."""
    parts: dict[Path, list[PlannedRow]] = {}
    for r in rows:
        if r.page_range and r.files:
            parts.setdefault(r.files[0], []).append(r)
    for volume, rs in parts.items():
        rs.sort(key=lambda r: r.page_range or (0, 0))
        for a, b in zip(rs, rs[1:], strict=False):
            assert a.page_range and b.page_range
            if b.page_range[0] <= a.page_range[1]:
                bad(b, "page_range", msg(N_("“%(name)s”第 %(first)s-%(last)s 页与第 %(row)s 行（%(a)s-%(b)s）重叠。"),
                                         name=volume.name, first=b.page_range[0],
                                         last=b.page_range[1], row=a.row, a=a.page_range[0],
                                         b=a.page_range[1]))


def _uncovered(rows: list[PlannedRow], root: Path) -> list[str]:
    """Pages of a volume that no row's range takes: listed beside the unused files."""
    taken: dict[Path, set[int]] = {}
    size: dict[Path, int] = {}
    for r in rows:
        if r.page_range and r.files and r.volume_pages and not r.problems:
            taken.setdefault(r.files[0], set()).update(range(r.page_range[0], r.page_range[1] + 1))
            size[r.files[0]] = r.volume_pages
    out = []
    for volume, pages in taken.items():
        left = [n for n in range(1, size[volume] + 1) if n not in pages]
        if left:
            out.append(f"{volume.relative_to(root)} 第 {_spans(left)} 页")
    return out


def _spans(numbers: list[int]) -> str:
    out, start, prev = [], numbers[0], numbers[0]
    for n in [*numbers[1:], None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        out.append(f"{start}-{prev}" if prev != start else str(start))
        if n is not None:
            start = prev = n
    return "、".join(out)


def _cross_checks(archive: Archive, rows: list[PlannedRow]) -> None:
    """What no row shows alone: a 档号 or a scan named twice, 件号 out of sequence."""
    def bad(r: PlannedRow, key: str, message: Message | str) -> None:
        r.problems.append(Problem(r.row, header(key), r.values.get(header(key), ""), message))

    by_code: dict[str, PlannedRow] = {}
    by_file: dict[Path, PlannedRow] = {}
    for r in rows:
        if r.code and r.action != "done":
            first = by_code.setdefault(r.code, r)
            if first is not r:
                bad(r, "code" if r.values.get("档号") else "item_no",
                    msg(N_("档号 %(code)s 与第 %(row)s 行重复。"), code=r.code, row=first.row))
        for p in r.files:
            first = by_file.setdefault(p, r)
            if first is r:
                continue
            if r.page_range and first.page_range:
                continue  # parts of one volume: their ranges are checked below
            bad(r, "file_name", msg(N_("扫描文件“%(name)s”已由第 %(row)s 行使用。"), name=p.name,
                                    row=first.row))
    _check_volumes(rows, bad)
    nexts: dict[tuple[Any, ...], int] = {}
    with archive.session() as s:
        for r in rows:
            if r.problems or r.action != "register":
                continue
            f = r.fields
            group = (f["fonds"], f["category"], f["year"], f["retention"], f["org"])
            if group not in nexts:
                nexts[group] = next_item_no(s, *group)
            if r.item_no is not None and r.item_no != nexts[group]:
                bad(r, "item_no", msg(N_("件号 %(no)s 不是本组下一个可用的件号（应为 %(next)s）："
                                         "件号按顺序分配，不能跳号或重复，请留空由系统分配。"),
                                      no=r.item_no, next=nexts[group]))
                continue
            nexts[group] += 1


# ----------------------------------------------------------------- registering


@dataclass
class BatchResult:
    sheet: str
    registered: list[dict[str, Any]] = field(default_factory=list)
    #: Rows naming a registered item with changed fields: each a change request waiting for
    #: the archive manager's approval (service.changes), not yet in the record.
    submitted: list[dict[str, Any]] = field(default_factory=list)
    #: Rows whose very change already waits for approval (the sheet imported again).
    waiting: list[dict[str, Any]] = field(default_factory=list)
    unchanged: int = 0
    done: list[dict[str, Any]] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)
    unused_files: list[str] = field(default_factory=list)

    @property
    def item_ids(self) -> list[int]:
        return [r["id"] for r in (*self.registered, *self.done)]

    def to_json(self) -> dict[str, Any]:
        return {"sheet": self.sheet,
                "counts": {"registered": len(self.registered), "submitted": len(self.submitted),
                           "waiting": len(self.waiting), "unchanged": self.unchanged,
                           "done": len(self.done), "failed": len(self.failed)},
                "registered": self.registered, "submitted": self.submitted,
                "waiting": self.waiting, "done": self.done,
                "failed": self.failed, "unused_files": self.unused_files}


Progress = Callable[[str, int, int], None]


def register_batch(archive: Archive, user: User | None, sheet: Path, scans: Path | None, *,
                   sheet_name: str | None = None, progress: Progress | None = None) -> BatchResult:
    """Register the sheet's good rows, each on its own; the rest are listed with why."""
    plan = plan_batch(archive, user, sheet, scans, sheet_name=sheet_name)
    out = BatchResult(plan.sheet, unused_files=plan.unused_files)
    total = len(plan.rows)
    for i, row in enumerate(plan.rows, start=1):
        if progress:
            progress("register", i - 1, total)
        if row.problems:
            out.failed.append({"row": row.row, "archival_code": row.code,
                               "problems": [p.to_json() for p in row.problems]})
            continue
        try:
            if row.action == "register":
                res = ingest(archive, _request(row, user))
                out.registered.append({"row": row.row, "id": res.id,
                                       "archival_code": res.archival_code, "pages": res.pages})
            elif row.action == "update":
                entry = {"row": row.row, "id": row.item_id, "archival_code": row.code,
                         "changes": row.to_json()["changes"]}
                if _submit_update(archive, user, row, plan.sheet):
                    out.submitted.append(entry)
                else:
                    out.waiting.append(entry)
            elif row.action == "done":
                out.done.append({"row": row.row, "id": row.item_id, "archival_code": row.code})
            else:
                out.unchanged += 1
        except DanganError as exc:
            out.failed.append({"row": row.row, "archival_code": row.code, "problems": [
                Problem(row.row, "", "", exc.msg).to_json()]})
    if progress:
        progress("register", total, total)
    with archive.session() as s:
        record(s, user.username if user else "cli", AuditAction.BATCH_IMPORT, f"sheet:{plan.sheet}",
               {"counts": out.to_json()["counts"], "items": out.item_ids,
                "submitted": [u["id"] for u in out.submitted],
                "failed_rows": [f["row"] for f in out.failed]})
    return out


#: Column keys named as service.edits names the same fields in an item's history.
_HISTORY_KEYS = {"doc_date": "date"}


def _submit_update(archive: Archive, user: User | None, row: PlannedRow, sheet: str) -> bool:
    """Submit the row's changed fields as a change request for the archive manager's approval
    (service.changes), with the previous values; the record is not written. False when the
    same change already waits (the sheet imported again)."""
    changes = {_HISTORY_KEYS.get(k, k): ["" if a is None else str(_show(a)),
                                         "" if b is None else str(_show(b))]
               for k, (a, b) in row.changes.items()}
    with archive.session() as s:
        item = s.get(ArchiveItem, row.item_id)
        assert item is not None  # planned a moment ago; items are never deleted
        if waiting_like(s, item.id, changes) is not None:
            return False
        submit_change(s, user, item, changes, f"批量导入：{sheet}", source=IMPORT, sheet=sheet,
                      sheet_row=row.row)
    return True


def batch_progress(session: Session, item_ids: list[int]) -> dict[str, int]:
    """The OCR of a batch's items: pages in all, done and failed (the batch page's bar), and
    items still being finished: their pages are read but the item is not yet searchable, so
    the batch is finished only when none is left."""
    out = {"items": len(item_ids), "pages": 0, "done": 0, "failed": 0, "processing": 0}
    for start in range(0, len(item_ids), 500):
        chunk = item_ids[start:start + 500]
        out["processing"] += session.scalar(
            select(func.count(ArchiveItem.id)).where(ArchiveItem.id.in_(chunk),
                                                     ArchiveItem.status == ItemStatus.PROCESSING)) or 0
        for status, n in session.execute(select(Page.status, func.count(Page.id))
                                         .where(Page.item_id.in_(chunk)).group_by(Page.status)):
            out["pages"] += n
            if status == PageStatus.DONE:
                out["done"] += n
            elif status == PageStatus.FAILED:
                out["failed"] += n
    return out
