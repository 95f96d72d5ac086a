"""The searchable PDF's text layer: a viewer finds "分类" and copies clean text, on the scan."""

from __future__ import annotations

import io

import numpy as np
import pypdfium2 as pdfium
import pytest
from pypdf import PdfReader

from indexer.derived import merge_pdfs
from indexer.ocr import ocr_image
from indexer.textlayer import retext_page, searchable_page
from tests import scanfactory as sf

DPI = 150
LINES = ["客户分类的主要内容", "合同编号 HT-2024-0031 的联系电话", "付款方式：银行转账"]


def _layout(lines: list[str], width: int) -> tuple[int, int, int]:
    """Where scanfactory.render_page draws: (font px, left margin, line pitch)."""
    px = max(16, round(DPI * 12 / 72 * 1.1))
    return px, round(width * 0.08), round(px * 1.8)


def _char_cells(lines: list[str], width: int) -> dict[tuple[int, int], tuple[float, float, float, float]]:
    """The box (x0, y0, x1, y1, pixels) of every character render_page drew."""
    px, margin, pitch = _layout(lines, width)
    font = sf._font(px)
    cells = {}
    for li, line in enumerate(lines):
        top = margin + li * pitch
        _, y0, _, y1 = font.getbbox(line)
        for i in range(len(line)):
            cells[li, i] = (margin + font.getlength(line[:i]), top + y0,
                            margin + font.getlength(line[:i + 1]), top + y1)
    return cells


def _words(lines: list[str], width: int) -> list[dict]:
    """Word boxes as OCR gives them: each CJK character a word, Latin runs whole."""
    cells = _char_cells(lines, width)
    words = []
    for li, line in enumerate(lines):
        i = 0
        while i < len(line):
            j = i + 1
            if line[i] == " ":
                i += 1
                continue
            if line[i].isascii():
                while j < len(line) and line[j].isascii() and line[j] != " ":
                    j += 1
            x0, y0, _, y1 = cells[li, i]
            x1 = cells[li, j - 1][2]
            words.append({"t": line[i:j], "x": round(x0), "y": round(y0), "w": round(x1 - x0),
                          "h": round(y1 - y0), "c": 95.0, "l": f"1.1.{li}"})
            i = j
    return words


def _found(pdf: bytes, page: int, needle: str) -> list[tuple[float, float]]:
    """Centres (image pixels) of the characters where pdfium's search finds ``needle``."""
    doc = pdfium.PdfDocument(pdf)
    try:
        p = doc[page]
        height_pt = p.get_height()
        tp = p.get_textpage()
        hit = tp.search(needle).get_next()
        assert hit is not None, (needle, tp.get_text_range())
        scale = DPI / 72
        out = []
        for i in range(hit[0], hit[0] + hit[1]):
            left, bottom, right, top = tp.get_charbox(i, loose=True)
            out.append(((left + right) / 2 * scale, (height_pt - (bottom + top) / 2) * scale))
        return out
    finally:
        doc.close()


def _text(pdf: bytes, page: int) -> tuple[str, str]:
    """The page's text as pdfium (Chrome's viewer) and pypdf extract it."""
    doc = pdfium.PdfDocument(pdf)
    try:
        via_pdfium = doc[page].get_textpage().get_text_range()
    finally:
        doc.close()
    return via_pdfium, PdfReader(io.BytesIO(pdf)).pages[page].extract_text()


def test_text_layer_is_one_clean_run_per_line_on_the_scan() -> None:
    size = (1000, 320)
    img = sf.render_page(LINES, size=size, dpi=DPI)
    words = _words(LINES, size[0])
    merged = merge_pdfs([searchable_page(img, words, DPI)] * 2)
    for text in _text(merged, 1):
        assert "客户分类的主要内容" in text, text
        assert "付款方式：银行转账" in text, text
        assert "HT-2024-0031" in text, text
    cells = _char_cells(LINES, size[0])
    for k, (x, y) in enumerate(_found(merged, 1, "分类")):
        x0, y0, x1, y1 = cells[0, 2 + k]
        assert x0 <= x <= x1 and y0 - 4 <= y <= y1 + 4, ((x, y), cells[0, 2 + k])
    # the image is the scan itself: ink where the text is
    doc = pdfium.PdfDocument(merged)
    try:
        shown = np.asarray(doc[0].render(scale=DPI / 72).to_pil().convert("L"))
    finally:
        doc.close()
    x0, y0, x1, y1 = (round(v) for v in cells[0, 2])
    assert (shown[y0:y1, x0:x1] < 128).mean() > 0.05


def test_masked_text_layer_keeps_positions() -> None:
    lines = ["联系电话 13812345678"]
    size = (900, 200)
    words = _words(lines, size[0])
    page = searchable_page(sf.render_page(lines, size=size, dpi=DPI), words, DPI)
    masked = retext_page(page, words, size[0], size[1], lambda t: t.replace("1234", "****"))
    for text in _text(masked, 0):
        assert "138****5678" in text and "1234" not in text
    assert _found(masked, 0, "联系电话") == _found(page, 0, "联系电话")


@pytest.mark.slow
def test_ocr_page_pdf_is_found_and_copied_without_spaces() -> None:
    size = (1240, 420)
    img = sf.render_page(LINES, size=size, dpi=DPI, seal=True)
    res = ocr_image(img, dpi=DPI)
    merged = merge_pdfs([res.pdf, res.pdf])
    for text in _text(merged, 1):
        assert "分类" in text and "客户分类" in text, text
    cells = _char_cells(LINES, size[0])
    centres = _found(merged, 1, "分类")
    for k, (x, y) in enumerate(centres):
        x0, y0, x1, y1 = cells[0, 2 + k]
        half = (x1 - x0) / 2  # OCR boxes are laid out on the em grid: within half a character
        assert x0 - half <= x <= x1 + half and y0 - half <= y <= y1 + half, ((x, y), (x0, y0, x1, y1))
