"""The statistics as an XLSX workbook: one sheet per table, the same figures the page shows,
and a first sheet saying when, for which filters, and what each sheet holds.

Labels and headers are written by the caller's ``show`` (the web writes Chinese, then English);
numbers stay numbers (bytes as whole bytes), so the sheet can be summed and charted again.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from sqlalchemy.orm import Session

from .errors import N_, Message
from .models import User
from .sheet_cells import xlsx_row
from .statistics import Filters, Label, Statistics, record_export, statistics

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Show = Callable[[Label], str]

#: The totals row's label, and the first sheet's.
TOTAL = Message(N_("合计"))
TITLE = Message(N_("档案统计"))
GENERATED = Message(N_("统计时间"))
FILTER_NAMES = {"fonds": Message(N_("全宗")), "year_from": Message(N_("起始年度")),
                "year_to": Message(N_("截止年度"))}


def _plain(value: Label) -> str:
    return str(value)


def to_xlsx(stats: Statistics, show: Show = _plain) -> bytes:
    wb = Workbook(write_only=True)
    bold = Font(bold=True)
    info = wb.create_sheet("说明")
    info.append([show(TITLE)])
    info.append([show(GENERATED), stats.generated_at.strftime("%Y-%m-%d %H:%M UTC")])
    for key, value in stats.filters.as_dict().items():
        info.append(xlsx_row(info, [show(FILTER_NAMES[key]), value]))
    info.append([])
    for table in stats.tables:
        info.append(xlsx_row(info, [table.sheet, show(table.title)]
                             + ([show(table.note)] if table.note else [])))
    for table in stats.tables:
        ws = wb.create_sheet(table.sheet)
        header = [show(table.head), *(show(c.title) for c in table.columns)]
        ws.append([_bold(ws, h, bold) for h in header])
        for row in table.rows:
            ws.append(xlsx_row(ws, [show(row.label), *row.values]))
        if table.totals and table.rows:
            ws.append([_bold(ws, show(TOTAL), bold), *table.total()])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _bold(ws: Any, text: str, font: Font) -> Any:
    """A header cell in bold (a write-only sheet takes styled cells, not styles later)."""
    cell = WriteOnlyCell(ws, value=text)
    cell.font = font
    return cell


def export_xlsx(session: Session, user: User | None,
                args: Mapping[str, Any] | Filters | None = None, show: Show = _plain) -> bytes:
    """The statistics workbook for a user who may read them; the export is audited."""
    stats = statistics(session, user, args)
    data = to_xlsx(stats, show)
    record_export(session, user, stats, "xlsx")
    return data
