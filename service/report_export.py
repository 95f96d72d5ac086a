"""The two-set report as files to keep or send on: CSV (UTF-8 with BOM, so Excel reads the
Chinese), XLSX (openpyxl) and PDF (fpdf2 with the Chinese font embedded).

Each format writes the same rows (`rows`), so the three files always agree. A finding's
kind and facts are messages: the caller says how to write them (``show``: the command line and
the web write Chinese then English from the catalogues); the headers are the document's own.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

from fpdf.fonts import FontFace
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from .archive import Archive
from .audit import record_event
from .audit_actions import AuditAction
from .errors import Message
from .models import User
from .pdfdoc import FAMILY, CjkPdf
from .sheet_cells import csv_row, xlsx_row
from .twoset_report import TwoSetReport

#: Column headers, "中文 / English".
COLUMNS = ("问题 / Finding", "对象 / Subject", "题名 / Title", "盒 / Box", "说明 / Detail")
EXPORT_FORMATS = {"csv": "text/csv; charset=utf-8",
                  "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                  "pdf": "application/pdf"}
_TITLE = "两套制一致性核对报告 / Two-set consistency report"


Show = Callable[[Message | str], str]


def rows(report: TwoSetReport, show: Show = str) -> list[list[str]]:
    """One row per finding, in the report's order."""
    return [[show(f.label), f.subject, f.title or "", f.box or "", show(f.detail)]
            for f in report.findings]


def _summary(report: TwoSetReport) -> str:
    when = report.generated_at.strftime("%Y-%m-%d %H:%M UTC")
    return (f"{when} · 档案 {report.items} 件、档案盒 {report.boxes} 个、存储文件 {report.files} 个；"
            f"发现问题 {len(report.findings)} 项 / {report.items} items, {report.boxes} boxes, "
            f"{report.files} files; {len(report.findings)} findings")


def to_csv(report: TwoSetReport, show: Show = str) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(COLUMNS)
    writer.writerows(csv_row(r) for r in rows(report, show))
    return buf.getvalue().encode("utf-8-sig")


def to_xlsx(report: TwoSetReport, show: Show = str) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None  # a new workbook always has its first sheet
    ws.title = "两套制核对"
    ws.append(list(COLUMNS))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows(report, show):
        ws.append(xlsx_row(ws, row))
    for column, width in zip("ABCDE", (34, 30, 40, 16, 60), strict=True):
        ws.column_dimensions[column].width = width
        for cell in ws[column]:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "A2"
    info = wb.create_sheet("说明")
    info.append([_TITLE])
    info.append([_summary(report)])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def to_pdf(report: TwoSetReport, show: Show = str) -> bytes:
    pdf = CjkPdf(orientation="L")
    pdf.add_page()
    pdf.set_font(FAMILY, "B", 14)
    pdf.cell(0, 9, _TITLE, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FAMILY, size=9)
    pdf.cell(0, 6, _summary(report), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    if not report.findings:
        pdf.set_font(FAMILY, size=11)
        pdf.cell(0, 10, "未发现问题。/ Nothing found.", new_x="LMARGIN", new_y="NEXT")
        return pdf.to_bytes()
    pdf.set_font(FAMILY, size=8)
    with pdf.table(col_widths=(52, 50, 62, 24, 89), line_height=4.5, text_align="LEFT",
                   headings_style=FontFace(family=FAMILY, emphasis="BOLD"),
                   repeat_headings=1) as table:
        table.row(COLUMNS)
        for row in rows(report, show):
            table.row(row)
    return pdf.to_bytes()


def export(report: TwoSetReport, fmt: str, show: Show = str) -> bytes:
    """The report in `fmt` (csv, xlsx or pdf)."""
    writers = {"csv": to_csv, "xlsx": to_xlsx, "pdf": to_pdf}
    return writers[fmt](report, show)


def export_audited(archive: Archive, user: User | None, report: TwoSetReport, fmt: str,
                   show: Show = str) -> bytes:
    """`export`, recorded in the audit trail: the report names items, boxes and files."""
    data = export(report, fmt, show)
    record_event(archive, user, AuditAction.REPORT_EXPORT, "report:two-set",
                 {"format": fmt, "findings": len(report.findings)})
    return data
