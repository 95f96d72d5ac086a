"""Statistics of the archive's holdings, additions, use (views, downloads, prints, loans),
condition and storage (DESIGN, "Keeping"), computed by the database.

Every figure is a SQL aggregate (GROUP BY), so the cost grows with the number of groups
(fonds, years, months), not with the number of items: the page stays fast at 100k items.
Only aggregates leave this module: counts and sizes, never a title or an item of any 密级.

The result is a list of tables, each one figure set with its own chart hint; the web page,
its charts and the XLSX export all read the same tables, so they always agree. A section
of the statistics is one function ``(session, filters) -> list[Table]`` in ``SECTIONS``.

Months are calendar months in UTC, as the archive stores its times.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    and_,
    case,
    cast,
    extract,
    func,
    literal,
    select,
)
from sqlalchemy.orm import Session, aliased

from . import clock, lending
from .access import require_statistics
from .audit import record
from .audit_actions import AuditAction, stored_names
from .errors import N_, InvalidInput, Listing, Message, msg
from .models import (
    ArchiveItem,
    AuditEntry,
    Category,
    CrossCheck,
    Fonds,
    Loan,
    LoanItem,
    Page,
    StoredFile,
    User,
)
from .vocab import (
    RETENTIONS,
    SECRECY_LEVELS,
    TOMBSTONES,
    CheckResult,
    ItemStatus,
    PaperCondition,
)

#: Items that are not holdings: a merged item's pages belong to another item; a deleted or
#: destroyed item is a tombstone (its 档号 and history kept, nothing held). An item on its
#: 30-day deletion hold is still held.
NOT_HELD = (ItemStatus.MERGED, *sorted(TOMBSTONES))

#: Audit actions that count as use, by column, under the names of the audit trail's vocabulary
#: and the names older entries keep (the hash covers them): searches (web, API, command line),
#: an item's page opened, a stored file handed out, paperwork printed (a box's 归档文件目录 and
#: 备考表, a register). A page image shown inside an item's page is not a view of its own.
USE_ACTIONS: dict[str, tuple[str, ...]] = {
    "searches": stored_names(AuditAction.CATALOGUE_SEARCH),
    "views": stored_names(AuditAction.ITEM_VIEW),
    "downloads": stored_names(AuditAction.FILE_DOWNLOAD),
    "prints": (*stored_names(AuditAction.BOX_PRINT), *stored_names(AuditAction.REGISTER_PRINT)),
}

COUNT, BYTES = "count", "bytes"


@dataclass(frozen=True)
class Named:
    """A catalogue value shown by its code and a name kept in both languages (a category)."""

    code: str
    zh: str
    en: str = ""

    def render(self, language: str) -> str:
        name = self.en if language == "en" and self.en else self.zh
        return f"{self.code} {name}"

    def bilingual(self) -> str:
        """Chinese, then English where the name differs (exports, the command line)."""
        zh, en = self.render("zh_CN"), self.render("en")
        return zh if zh == en else f"{zh} / {en}"

    def __str__(self) -> str:
        return self.render("zh_CN")


#: A row's label: a message (a controlled value), a name in two languages, or data as kept.
Label = Message | Named | str


@dataclass(frozen=True)
class Column:
    title: Message
    unit: str = COUNT


@dataclass(frozen=True)
class Row:
    #: The grouped value as stored (J001, 2024, 2026-05, 秘密, agrees).
    key: str
    label: Label
    values: tuple[int | None, ...]


@dataclass(frozen=True)
class Table:
    """One set of figures: a first column of labels (`head`), then `columns` of numbers."""

    key: str
    title: Message
    #: The XLSX sheet's name (at most 31 characters, none of []:*?/\).
    sheet: str
    head: Message
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    #: How the page draws it: "bar", "line" or "pie", over the columns in `series`.
    chart: str = "bar"
    series: tuple[int, ...] = (0,)
    #: A totals row makes sense (the rows partition one whole).
    totals: bool = True
    note: Message | None = None

    def total(self) -> tuple[int | None, ...]:
        """Each column's sum over the rows (a figure not known, None, counts as nothing)."""
        return tuple(None if all(r.values[i] is None for r in self.rows)
                     else sum(r.values[i] or 0 for r in self.rows)
                     for i in range(len(self.columns)))

    def value(self, key: str, column: int = 0) -> int | None:
        """The figure of one row (0 when the row is absent), for tests and callers."""
        for r in self.rows:
            if r.key == key:
                return r.values[column]
        return 0


@dataclass(frozen=True)
class Filters:
    fonds: str | None = None
    year_from: int | None = None
    year_to: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in (("fonds", self.fonds), ("year_from", self.year_from),
                                  ("year_to", self.year_to)) if v is not None}

    @property
    def narrowed(self) -> bool:
        return bool(self.as_dict())


@dataclass(frozen=True)
class Statistics:
    generated_at: datetime
    filters: Filters
    tables: tuple[Table, ...] = field(default_factory=tuple)

    def table(self, key: str) -> Table:
        for t in self.tables:
            if t.key == key:
                return t
        raise KeyError(key)


# ----------------------------------------------------------------- filters

_YEAR = re.compile(r"^\d{4}$")


def _year(args: Mapping[str, Any], name: str) -> int | None:
    raw = str(args.get(name) or "").strip()
    if raw == "":
        return None
    if not raw.isascii() or not _YEAR.match(raw):
        raise InvalidInput(N_("参数 %(name)s %(problem)s。"), name=name,
                           problem=msg(N_("应为四位数的年度，如 2024，收到“%(raw)s”"), raw=raw[:20]))
    return int(raw)


def parse_filters(session: Session, args: Mapping[str, Any]) -> Filters:
    """The optional filters (fonds, year_from, year_to) from a query string or the command
    line, checked: an unknown fonds or a reversed year range is refused, never ignored."""
    fonds = str(args.get("fonds") or "").strip().upper() or None
    if fonds is not None and session.scalar(select(Fonds.id).where(Fonds.code == fonds)) is None:
        known = Listing(tuple(session.scalars(select(Fonds.code).order_by(Fonds.code))))
        raise InvalidInput(N_("全宗“%(code)s”不存在（已有：%(known)s）。请先创建该全宗或改用已有全宗号。"),
                           code=fonds[:20], known=known)
    year_from, year_to = _year(args, "year_from"), _year(args, "year_to")
    if year_from is not None and year_to is not None and year_from > year_to:
        raise InvalidInput(N_("年度范围无效：起始年度 %(year_from)s 晚于截止年度 %(year_to)s。"),
                           year_from=year_from, year_to=year_to)
    return Filters(fonds, year_from, year_to)


def _item_filter(f: Filters) -> list[ColumnElement[bool]]:
    """The filters as conditions on ArchiveItem (holdings: merged items excluded)."""
    conds: list[ColumnElement[bool]] = [ArchiveItem.status.not_in(NOT_HELD)]
    if f.fonds is not None:
        conds.append(ArchiveItem.fonds_id.in_(select(Fonds.id).where(Fonds.code == f.fonds)))
    if f.year_from is not None:
        conds.append(ArchiveItem.year >= f.year_from)
    if f.year_to is not None:
        conds.append(ArchiveItem.year <= f.year_to)
    return conds


def _items_filter(f: Filters) -> list[ColumnElement[bool]]:
    """The filters only (no status rule): for use, storage and loans, whose records stay
    with an item whatever became of it."""
    return _item_filter(f)[1:]


def _of_items(item_id: Any, f: Filters) -> list[ColumnElement[bool]]:
    """Records of an item (files, pages, loans) narrowed to the items the filters select;
    nothing to add when there are no filters."""
    if not f.narrowed:
        return []
    return [item_id.in_(select(ArchiveItem.id).where(*_items_filter(f)))]


# ----------------------------------------------------------------- months


def _month_cols(col: Any) -> tuple[Any, Any]:
    """Year and month of a stored time, the same on SQLite and PostgreSQL."""
    return cast(extract("year", col), Integer), cast(extract("month", col), Integer)


def _month_key(year: int, month: int) -> str:
    return f"{int(year):04d}-{int(month):02d}"


def _month_span(keys: Iterable[str]) -> list[str]:
    """Every month from the first to the last of `keys`, gaps filled (a chart's axis)."""
    keys = sorted(keys)
    if not keys:
        return []
    y, m = (int(p) for p in keys[0].split("-"))
    last = keys[-1]
    out = []
    while (key := _month_key(y, m)) <= last:
        out.append(key)
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _by_month(rows: Iterable[Sequence[Any]], width: int) -> list[Row]:
    """(year, month, v1, v2 …) rows to one Row per month, empty months as zeros."""
    found: dict[str, list[int]] = {}
    for y, m, *values in rows:
        if y is None:
            continue
        slot = found.setdefault(_month_key(y, m), [0] * width)
        for i, v in enumerate(values):
            slot[i] += int(v or 0)
    return [Row(k, k, tuple(found.get(k, [0] * width))) for k in _month_span(found)]


# ----------------------------------------------------------------- holdings


def _pages_per_item() -> Any:
    """Each item's scanned pages (a blank back of a sheet is not a page)."""
    return (select(Page.item_id, func.count().label("n")).where(Page.blank.is_(False))
            .group_by(Page.item_id).subquery())


_HOLD_COLUMNS = (Column(Message(N_("件数"))), Column(Message(N_("纸质页数"))),
                 Column(Message(N_("扫描页数"))))


#: The catalogue's dimensions of holdings; one query groups by all of them together.
_DIMENSIONS = (ArchiveItem.fonds_id, ArchiveItem.category_id, ArchiveItem.year,
               ArchiveItem.retention, ArchiveItem.secrecy)


def _holdings_grid(session: Session, f: Filters) -> list[tuple[Any, ...]]:
    """Items, paper pages and scanned pages per fonds × category × year × retention × 密级:
    one pass over the items by the database, a few thousand groups at most."""
    pages = _pages_per_item()
    stmt: Select[Any] = (
        select(*_DIMENSIONS, func.count(ArchiveItem.id),
               func.coalesce(func.sum(ArchiveItem.paper_pages), 0),
               func.coalesce(func.sum(pages.c.n), 0))
        .select_from(ArchiveItem).outerjoin(pages, pages.c.item_id == ArchiveItem.id)
        .where(*_item_filter(f)).group_by(*_DIMENSIONS))
    return [tuple(r) for r in session.execute(stmt)]


def _roll_up(grid: list[tuple[Any, ...]], dimension: int) -> dict[Any, tuple[int, ...]]:
    """The grid's figures summed over every dimension but one."""
    width = len(_DIMENSIONS)
    out: dict[Any, list[int]] = {}
    for row in grid:
        acc = out.setdefault(row[dimension], [0] * (len(row) - width))
        for i, v in enumerate(row[width:]):
            acc[i] += int(v or 0)
    return {k: tuple(v) for k, v in out.items()}


def _values(r: Sequence[Any]) -> tuple[int, ...]:
    return tuple(int(v or 0) for v in r)


def _holdings(session: Session, f: Filters) -> list[Table]:
    """Items, paper pages and scanned pages by fonds, category, year, retention and 密级."""
    def table(key: str, title: str, sheet: str, head: str, rows: Iterable[Row],
              chart: str = "bar") -> Table:
        return Table(key, Message(title), sheet, Message(head), _HOLD_COLUMNS, tuple(rows),
                     chart=chart)

    fonds = {i: (code, name) for i, code, name in session.execute(
        select(Fonds.id, Fonds.code, Fonds.name))}
    cats = {c.id: c for c in session.scalars(select(Category))}
    grid = _holdings_grid(session, f)
    by_fonds = sorted(_roll_up(grid, 0).items(), key=lambda kv: fonds[kv[0]][0])
    by_cat = sorted(_roll_up(grid, 1).items(), key=lambda kv: cats[kv[0]].code)
    by_year = sorted(_roll_up(grid, 2).items())
    by_ret, by_sec = _roll_up(grid, 3), _roll_up(grid, 4)
    zeros = (0, 0, 0)
    return [
        table("holdings_fonds", N_("馆藏：按全宗"), "按全宗", N_("全宗"),
              (Row(fonds[i][0], f"{fonds[i][0]} {fonds[i][1]}", v) for i, v in by_fonds)),
        table("holdings_category", N_("馆藏：按门类"), "按门类", N_("门类"),
              (Row(cats[i].code, Named(cats[i].code, cats[i].name, cats[i].name_en), v)
               for i, v in by_cat), chart="pie"),
        table("holdings_year", N_("馆藏：按年度"), "按年度", N_("年度"),
              (Row(str(y), str(y), v) for y, v in by_year)),
        table("holdings_retention", N_("馆藏：按保管期限"), "按保管期限", N_("保管期限"),
              [Row(code, Message(name), _values(by_ret.get(code, zeros)))
               for code, name in RETENTIONS.items()]
              + [Row(code, code, _values(v)) for code, v in by_ret.items() if code not in RETENTIONS],
              chart="pie"),
        table("holdings_secrecy", N_("馆藏：按密级"), "按密级", N_("密级"),
              (Row(level, Message(level), _values(by_sec.get(level, zeros)))
               for level in SECRECY_LEVELS)),
    ]


# ----------------------------------------------------------------- additions


def _original_bytes_per_item() -> Any:
    return (select(StoredFile.item_id, func.sum(StoredFile.size).label("size"))
            .where(StoredFile.role == "original").group_by(StoredFile.item_id).subquery())


def _additions(session: Session, f: Filters) -> list[Table]:
    """What was registered each month: items, their paper and scanned pages, the bytes of
    their originals."""
    pages, sizes = _pages_per_item(), _original_bytes_per_item()
    y, m = _month_cols(ArchiveItem.created_at)
    rows = session.execute(
        select(y, m, func.count(ArchiveItem.id), func.coalesce(func.sum(ArchiveItem.paper_pages), 0),
               func.coalesce(func.sum(pages.c.n), 0), func.coalesce(func.sum(sizes.c.size), 0))
        .select_from(ArchiveItem).outerjoin(pages, pages.c.item_id == ArchiveItem.id)
        .outerjoin(sizes, sizes.c.item_id == ArchiveItem.id)
        .where(*_item_filter(f)).group_by(y, m)).all()
    columns = (Column(Message(N_("件数"))), Column(Message(N_("纸质页数"))),
               Column(Message(N_("扫描页数"))), Column(Message(N_("原件字节数")), BYTES))
    return [Table("additions_month", Message(N_("每月新增")), "每月新增", Message(N_("月份")),
                  columns, tuple(_by_month(rows, 4)), chart="bar", series=(0, 2))]


# ----------------------------------------------------------------- use


def _item_targets(f: Filters) -> Select[Any]:
    """The audit targets (`item:ID`) of the items the filters select."""
    return select(literal("item:") + cast(ArchiveItem.id, String)).where(*_items_filter(f))


def _use(session: Session, f: Filters) -> list[Table]:
    """Searches, views, downloads and prints per month, counted in the audit trail (with
    filters, only the actions on the items they select)."""
    kinds = list(USE_ACTIONS)
    column_of = {action: kinds.index(kind) for kind, names in USE_ACTIONS.items() for action in names}
    y, m = _month_cols(AuditEntry.at)
    stmt = (select(y, m, AuditEntry.action, func.count()).where(AuditEntry.action.in_(column_of))
            .group_by(y, m, AuditEntry.action))
    if f.narrowed:
        stmt = stmt.where(AuditEntry.target.in_(_item_targets(f)))
    spread = []
    for year, month, action, n in session.execute(stmt):
        values = [0] * len(kinds)
        values[column_of[action]] = n
        spread.append((year, month, *values))
    columns = (Column(Message(N_("检索次数"))), Column(Message(N_("查看次数"))),
               Column(Message(N_("下载次数"))), Column(Message(N_("打印次数"))))
    return [Table("use_month", Message(N_("每月利用（检索、查看、下载、打印）")), "每月利用",
                  Message(N_("月份")), columns, tuple(_by_month(spread, len(kinds))), chart="line",
                  series=tuple(range(len(kinds))),
                  note=Message(N_("按全宗或年度筛选时只计针对档案的查看和下载；检索和打印不属于某一件档案，不计入。"))
                  if f.narrowed else None)]


# ----------------------------------------------------------------- loans


def _loans(session: Session, f: Filters) -> list[Table]:
    """Loans requested per month (paper reading, electronic, and the items they named) and
    every loan by its status now, an issued loan past its end shown as overdue or expired
    (service.lending.shown_status's rule, in SQL)."""
    # a loan counts when it names an item the filters select
    conds = [Loan.id.in_(select(LoanItem.loan_id).where(*_of_items(LoanItem.item_id, f)))] \
        if f.narrowed else []
    items = (select(LoanItem.loan_id, func.count().label("n")).group_by(LoanItem.loan_id)
             .subquery())
    y, m = _month_cols(Loan.requested_at)
    per_month = session.execute(
        select(y, m, func.sum(case((Loan.kind == lending.PAPER, 1), else_=0)),
               func.sum(case((Loan.kind == lending.ELECTRONIC, 1), else_=0)),
               func.coalesce(func.sum(items.c.n), 0))
        .outerjoin(items, items.c.loan_id == Loan.id).where(*conds).group_by(y, m)).all()
    past_end = and_(Loan.status == lending.ISSUED, Loan.ends_at <= clock.now())
    shown = case((and_(past_end, Loan.kind == lending.PAPER), literal(lending.OVERDUE)),
                 (past_end, literal(lending.EXPIRED)), else_=Loan.status)
    found = dict(session.execute(
        select(shown, func.count(Loan.id)).where(*conds).group_by(shown)).tuples().all())
    statuses = (*lending.STATUSES[:4], lending.OVERDUE, lending.EXPIRED, *lending.STATUSES[4:])
    return [
        Table("loans_month", Message(N_("每月借阅")), "每月借阅", Message(N_("月份")),
              (Column(Message(lending.KIND_NAMES[lending.PAPER])),
               Column(Message(lending.KIND_NAMES[lending.ELECTRONIC])),
               Column(Message(N_("借阅档案件次")))),
              tuple(_by_month(per_month, 3)), chart="bar", series=(0, 1)),
        Table("loans_status", Message(N_("借阅状态")), "借阅状态", Message(N_("状态")),
              (Column(Message(N_("借阅单数"))),),
              tuple(Row(k, Message(lending.STATUS_NAMES[k]), (int(found.get(k, 0)),))
                    for k in statuses), chart="pie"),
    ]


# ----------------------------------------------------------------- condition


#: The cross-check states, in the order shown.
AGREES, DISCREPANCY, CHANGED, NEVER = "agrees", "discrepancy", "changed", "never"
_CHECK_LABELS = {AGREES: N_("一致"), DISCREPANCY: N_("有差异"), CHANGED: N_("核对后有变更"),
                 NEVER: N_("未核对")}
_CONDITION_LABELS = {PaperCondition.INTACT: N_("完好"), PaperCondition.DAMAGED: N_("破损"),
                     PaperCondition.MISSING_PAGES: N_("缺页")}


def _checks(session: Session, f: Filters) -> list[Table]:
    """Each item's state by its newest cross-check (the desk's rule, service.crosscheck), and
    the paper originals' condition."""
    latest = (select(CrossCheck.item_id, func.max(CrossCheck.id).label("check_id"))
              .group_by(CrossCheck.item_id).subquery())
    last = aliased(CrossCheck)
    state = case(
        (last.id.is_(None), literal(NEVER)),
        (and_(ArchiveItem.sets_changed_at.is_not(None), ArchiveItem.sets_changed_at > last.checked_at),
         literal(CHANGED)),
        (last.result == CheckResult.DISCREPANCY, literal(DISCREPANCY)),
        else_=literal(AGREES))
    found = dict(session.execute(
        select(state, func.count(ArchiveItem.id)).select_from(ArchiveItem)
        .outerjoin(latest, latest.c.item_id == ArchiveItem.id)
        .outerjoin(last, last.id == latest.c.check_id)
        .where(*_item_filter(f)).group_by(state)).tuples().all())
    conditions = dict(session.execute(
        select(ArchiveItem.paper_condition, func.count(ArchiveItem.id))
        .where(*_item_filter(f)).group_by(ArchiveItem.paper_condition)).tuples().all())
    items = (Column(Message(N_("件数"))),)
    return [
        Table("cross_check", Message(N_("两套制核对状态")), "核对状态", Message(N_("核对状态")), items,
              tuple(Row(k, Message(label), (int(found.get(k, 0)),))
                    for k, label in _CHECK_LABELS.items()), chart="pie"),
        Table("paper_condition", Message(N_("纸质原件状况")), "原件状况", Message(N_("状况")), items,
              tuple(Row(k, Message(label), (int(conditions.get(k, 0)),))
                    for k, label in _CONDITION_LABELS.items())
              + tuple(Row(k, k, (int(n),)) for k, n in conditions.items()
                      if k not in _CONDITION_LABELS), chart="pie"),
    ]


# ----------------------------------------------------------------- storage


def _storage(session: Session, f: Filters) -> list[Table]:
    """Stored objects and their bytes, originals against derived files, and growth per month
    by when each file was stored. Page images, thumbnails and one-page PDFs are counted;
    their sizes are not kept in the catalogue."""
    original = StoredFile.role == "original"
    kind = case((original, literal("original")), else_=literal("derived"))
    files = {k: (int(n), int(b or 0)) for k, n, b in session.execute(
        select(kind, func.count(), func.sum(StoredFile.size))
        .where(*_of_items(StoredFile.item_id, f)).group_by(kind))}
    page_objects = session.execute(
        select(func.count(Page.image_key), func.count(Page.thumb_key), func.count(Page.pdf_key))
        .where(*_of_items(Page.item_id, f))).one()
    rows = (Row("original", Message(N_("原件")), files.get("original", (0, 0))),
            Row("derived", Message(N_("派生文件（可检索 PDF）")), files.get("derived", (0, 0))),
            Row("page_images", Message(N_("页面图像、缩略图和单页 PDF")),
                (sum(int(n) for n in page_objects), None)))
    y, m = _month_cols(StoredFile.created_at)
    growth = session.execute(
        select(y, m, func.sum(case((original, StoredFile.size), else_=0)),
               func.sum(case((original, 0), else_=StoredFile.size)))
        .where(*_of_items(StoredFile.item_id, f)).group_by(y, m)).all()
    months, running = [], 0
    for row in _by_month(growth, 2):
        running += sum(v or 0 for v in row.values)
        months.append(Row(row.key, row.label, (*row.values, running)))
    return [
        Table("storage", Message(N_("存储用量")), "存储用量", Message(N_("存储内容")),
              (Column(Message(N_("对象数"))), Column(Message(N_("字节数")), BYTES)), rows,
              chart="pie", series=(1,),
              note=Message(N_("页面图像、缩略图和单页 PDF 的大小未记入目录，只计对象数。"))),
        Table("storage_growth", Message(N_("存储增长（按月）")), "存储增长", Message(N_("月份")),
              (Column(Message(N_("原件字节数")), BYTES), Column(Message(N_("派生字节数")), BYTES),
               Column(Message(N_("累计字节数")), BYTES)), tuple(months), chart="line",
              series=(0, 1, 2), totals=False),
    ]


# ----------------------------------------------------------------- the whole

Section = Callable[[Session, Filters], list[Table]]
#: The statistics, in the order the page shows them.
SECTIONS: tuple[Section, ...] = (_holdings, _additions, _use, _loans, _checks, _storage)


def compute(session: Session, filters: Filters | None = None) -> Statistics:
    """Every table for the filters; no access check (see `statistics`)."""
    f = filters or Filters()
    tables = tuple(t for section in SECTIONS for t in section(session, f))
    return Statistics(clock.now(), f, tables)


def statistics(session: Session, user: User | None,
               args: Mapping[str, Any] | Filters | None = None) -> Statistics:
    """The statistics for a user who may read them (service.access.can_read_statistics),
    narrowed by the filters (checked by `parse_filters` when given as a query's arguments)."""
    require_statistics(user)
    filters = args if isinstance(args, Filters) else parse_filters(session, args or {})
    return compute(session, filters)


def record_export(session: Session, user: User | None, stats: Statistics, fmt: str) -> None:
    """An export leaves the system: it is audited with its filters."""
    record(session, user.username if user else "cli", AuditAction.STATS_EXPORT, "statistics",
           {"format": fmt, **stats.filters.as_dict()})
