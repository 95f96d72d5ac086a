"""Box paperwork laid out after DA/T 22-2015 in one PDF: for each box, the cover and the
spine (盒脊) side by side on an A4 page, the 归档文件目录 (A4 landscape, headings repeated on
every page) and the 备考表 (A4 portrait). The Chinese font is embedded (service.pdfdoc)."""

from __future__ import annotations

from collections.abc import Callable

import qrcode
from fpdf.fonts import FontFace
from PIL import Image
from qrcode.constants import ERROR_CORRECT_M
from sqlalchemy.orm import Session

from .access import require_print_labels
from .audit import actor_name, record
from .audit_actions import AuditAction
from .box_paperwork import BoxSheet, box_sheet, shelf_boxes
from .models import User
from .pdfdoc import FAMILY, CjkPdf

CATALOGUE_COLUMNS = ("序号", "档号", "文号", "责任者", "题名", "日期", "页数", "备注")
_CATALOGUE_WIDTHS = (12, 52, 34, 34, 85, 20, 12, 28)  # mm, 277 across A4 landscape


def qr_image(url: str) -> Image.Image:
    """The QR code of `url` (qrcode library), as a PIL image for fpdf."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=2, box_size=8)
    code.add_data(url)
    code.make(fit=True)
    return code.make_image().get_image()


def _cover_and_spine(pdf: CjkPdf, sheet: BoxSheet) -> None:
    pdf.add_page(orientation="P")
    qr = qr_image(sheet.url)
    # Cover: 档案盒封面, 全宗名称 in large type.
    x, y, w, h = 12.0, 15.0, 140.0, 265.0
    pdf.rect(x, y, w, h)
    pdf.set_xy(x, y + 40)
    pdf.set_font(FAMILY, "B", 26)
    pdf.cell(w, 14, "档  案  盒", align="C", new_x="LEFT", new_y="NEXT")
    pdf.ln(30)
    pdf.set_font(FAMILY, size=12)
    pdf.set_x(x + 10)
    pdf.cell(28, 10, "全宗名称")
    pdf.set_font(FAMILY, "B", 14)
    pdf.multi_cell(w - 48, 10, sheet.fonds or "—", border="B", new_x="LEFT", new_y="NEXT")
    pdf.image(qr, x=x + w / 2 - 20, y=y + h - 70, w=40, h=40)
    pdf.set_font(FAMILY, size=8)
    pdf.set_xy(x, y + h - 28)
    pdf.cell(w, 5, sheet.url, align="C", new_x="LEFT", new_y="NEXT")
    pdf.cell(w, 5, sheet.barcode, align="C")
    # Spine: 全宗号, 年度, 保管期限, 机构, 起止件号, 盒号 and the QR code.
    sx, sw = 160.0, 40.0
    pdf.rect(sx, y, sw, h)
    pdf.set_xy(sx, y + 4)
    pdf.set_font(FAMILY, "B", 12)
    pdf.cell(sw, 8, "盒  脊", align="C", new_x="LEFT", new_y="NEXT")
    fields = (("全宗号", sheet.fonds_codes), ("年度", sheet.year), ("保管期限", sheet.retention),
              ("机构", sheet.org), ("起止件号", "\n".join(sheet.item_ranges)),
              ("盒号", sheet.barcode))
    for label, value in fields:
        pdf.set_x(sx)
        pdf.set_font(FAMILY, size=8)
        pdf.cell(sw, 6, label, align="C", new_x="LEFT", new_y="NEXT")
        pdf.set_font(FAMILY, "B", 11)
        pdf.multi_cell(sw, 6, value or "—", align="C", new_x="LEFT", new_y="NEXT")
        pdf.line(sx + 4, pdf.get_y() + 1.5, sx + sw - 4, pdf.get_y() + 1.5)
        pdf.ln(3)
    pdf.image(qr, x=sx + 5, y=y + h - 38, w=30, h=30)
    pdf.set_xy(sx, y + h - 8)
    pdf.set_font(FAMILY, size=6)
    pdf.cell(sw, 4, sheet.location, align="C")


def _catalogue(pdf: CjkPdf, sheet: BoxSheet) -> None:
    pdf.add_page(orientation="L")
    pdf.set_font(FAMILY, "B", 16)
    pdf.cell(0, 10, "归档文件目录", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FAMILY, size=9)
    pdf.cell(0, 6, f"全宗：{sheet.fonds or '—'}    年度：{sheet.year or '—'}    "
                   f"保管期限：{sheet.retention or '—'}    盒号：{sheet.barcode}",
             new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)
    pdf.set_font(FAMILY, size=8)
    with pdf.table(col_widths=_CATALOGUE_WIDTHS, line_height=5, text_align="LEFT",
                   headings_style=FontFace(family=FAMILY, emphasis="BOLD"),
                   repeat_headings=1) as table:
        table.row(CATALOGUE_COLUMNS)
        for r in sheet.rows:
            table.row((str(r.seq), r.code, r.doc_number, r.responsible, r.title, r.date,
                       r.pages, r.remarks))


def _remarks_sheet(pdf: CjkPdf, sheet: BoxSheet) -> None:
    pdf.add_page(orientation="P")
    pdf.set_font(FAMILY, "B", 18)
    pdf.cell(0, 14, "备  考  表", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FAMILY, size=9)
    pdf.cell(0, 6, f"盒号：{sheet.barcode}", align="R", new_x="LMARGIN", new_y="NEXT")
    top, left, width, height = pdf.get_y() + 2, pdf.l_margin, pdf.epw, 170.0
    pdf.rect(left, top, width, height)
    pdf.set_xy(left + 4, top + 4)
    pdf.set_font(FAMILY, "B", 11)
    pdf.cell(0, 8, "盒内文件情况说明", new_x="LEFT", new_y="NEXT")
    pdf.set_font(FAMILY, size=10)
    for note in sheet.notes:
        pdf.set_x(left + 8)
        pdf.multi_cell(width - 16, 6, note, new_x="LEFT", new_y="NEXT")
    y = top + height + 8
    for label, who, date_label, when in (("整理人", sheet.arranged_by, "整理日期", sheet.arranged_on),
                                         ("检查人", sheet.checked_by, "检查日期", sheet.checked_on)):
        pdf.set_xy(left + 4, y)
        pdf.set_font(FAMILY, size=11)
        pdf.cell(20, 8, f"{label}：")
        pdf.cell(70, 8, who, border="B")
        pdf.cell(8, 8, "")
        pdf.cell(24, 8, f"{date_label}：")
        pdf.cell(50, 8, when, border="B")
        y += 16


def paperwork_pdf(sheets: list[BoxSheet]) -> bytes:
    """Cover and spine, 归档文件目录 and 备考表 of every box in `sheets`, in one PDF."""
    pdf = CjkPdf()
    pdf.set_title("档案盒文书 / Box paperwork")
    for sheet in sheets:
        _cover_and_spine(pdf, sheet)
        _catalogue(pdf, sheet)
        _remarks_sheet(pdf, sheet)
    if not sheets:
        pdf.add_page()
        pdf.cell(0, 10, "没有档案盒。/ No boxes.")
    return pdf.to_bytes()


def print_boxes(session: Session, user: User | None, barcodes: list[str],
                box_url: Callable[[str], str]) -> bytes:
    """The paperwork of the boxes `barcodes` (each QR code opens `box_url(barcode)`); the
    print is audited in `session`."""
    require_print_labels(user)
    pdf = paperwork_pdf([box_sheet(session, user, b, box_url) for b in barcodes])
    record(session, actor_name(user), AuditAction.BOX_PRINT,
           f"box:{barcodes[0]}" if len(barcodes) == 1 else "boxes", {"boxes": barcodes})
    return pdf


def print_shelf(session: Session, user: User | None, shelf_id: int,
                box_url: Callable[[str], str]) -> bytes:
    """The paperwork of every box on the shelf, in barcode order, in one PDF."""
    require_print_labels(user)
    return print_boxes(session, user, shelf_boxes(session, shelf_id), box_url)
