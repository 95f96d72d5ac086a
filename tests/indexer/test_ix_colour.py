"""Pages with a red seal keep their colour in the searchable PDF; grey pages stay grey."""

from __future__ import annotations

import io

import numpy as np
import pypdfium2 as pdfium
import pytest
from pypdf import PdfReader

from indexer.colour import has_colour
from indexer.ocr import ocr_image
from tests.scanfactory import render_page

LINES = ["购销合同", "甲方应于二〇二四年三月前支付合同款。"]


def _red_pixels(pdf: bytes) -> int:
    doc = pdfium.PdfDocument(pdf)
    try:
        img = doc[0].render(scale=0.5).to_pil().convert("RGB")
    finally:
        doc.close()
    r, g, b = np.asarray(img, dtype=np.int16).transpose(2, 0, 1)
    return int(((r > 150) & (g < 100) & (b < 100)).sum())


def test_colour_detection() -> None:
    assert has_colour(render_page(LINES, seal=True))
    assert not has_colour(render_page(LINES))
    assert not has_colour(render_page(LINES).convert("RGB"))


@pytest.mark.slow
@pytest.mark.parametrize("seal", [True, False])
def test_searchable_pdf_keeps_the_seal_and_the_text(seal: bool) -> None:
    img = render_page(LINES, seal=seal)
    result = ocr_image(img, dpi=150)
    text = PdfReader(io.BytesIO(result.pdf)).pages[0].extract_text().replace(" ", "")
    assert "支付合同款" in text
    assert (_red_pixels(result.pdf) > 50) is seal
