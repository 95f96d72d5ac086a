"""The destruction register (销毁清册) as files to print and keep: PDF (fpdf2 with the Chinese
font embedded, service.pdfdoc) and XLSX (openpyxl). Both write the same rows."""

from __future__ import annotations

import io

from fpdf.fonts import FontFace
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from . import clock
from .archive import Archive
from .audit import record_event
from .audit_actions import AuditAction
from .models import DestructionRecord, User
from .pdfdoc import FAMILY, CjkPdf
from .sheet_cells import xlsx_row
from .vocab import RETENTIONS

TITLE = "档案销毁清册 / Destruction register"
COLUMNS = ("序号 / No.", "档号 / Code", "题名 / Title", "年度 / Year", "保管期限 / Retention",
           "密级 / Secrecy", "页数 / Pages", "鉴定意见 / Appraisal", "批准人 / Approved by",
           "监销人 / Supervisor", "销毁人 / Destroyed by", "销毁日期 / Date")
FORMATS = {"pdf": "application/pdf",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def rows(records: list[DestructionRecord]) -> list[list[str]]:
    return [[str(r.number), r.archival_code, r.title, str(r.year),
             RETENTIONS.get(r.retention, r.retention), r.secrecy,
             "" if r.pages is None else str(r.pages), r.reason, r.approved_by, r.supervisor,
             r.confirmed_by, clock.aware(r.destroyed_at).strftime("%Y-%m-%d")]
            for r in records]


def to_xlsx(records: list[DestructionRecord]) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None  # a new workbook always has its first sheet
    ws.title = "销毁清册"
    ws.append(list(COLUMNS))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows(records):
        ws.append(xlsx_row(ws, row))
    for column, width in zip("ABCDEFGHIJKL", (8, 26, 36, 8, 12, 8, 8, 36, 12, 12, 12, 12),
                             strict=True):
        ws.column_dimensions[column].width = width
        for cell in ws[column]:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def to_pdf(records: list[DestructionRecord]) -> bytes:
    pdf = CjkPdf(orientation="L")
    pdf.add_page()
    pdf.set_font(FAMILY, "B", 14)
    pdf.cell(0, 9, TITLE, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FAMILY, size=9)
    pdf.cell(0, 6, f"共 {len(records)} 件 / {len(records)} items · "
                   f"{clock.now().strftime('%Y-%m-%d')}", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font(FAMILY, size=7.5)
    with pdf.table(col_widths=(10, 34, 46, 12, 16, 12, 11, 46, 18, 18, 18, 19), line_height=4.2,
                   text_align="LEFT", headings_style=FontFace(family=FAMILY, emphasis="BOLD"),
                   repeat_headings=1) as table:
        table.row(COLUMNS)
        for row in rows(records):
            table.row(row)
    return pdf.to_bytes()


def export(records: list[DestructionRecord], fmt: str) -> bytes:
    return {"pdf": to_pdf, "xlsx": to_xlsx}[fmt](records)


def export_audited(archive: Archive, user: User | None, records: list[DestructionRecord],
                   fmt: str) -> bytes:
    """`export`, recorded in the audit trail (a register printed or saved leaves the system)."""
    data = export(records, fmt)
    record_event(archive, user, AuditAction.REGISTER_PRINT, "register:destruction",
                 {"format": fmt, "records": len(records)})
    return data
