"""A sparse page (an ID copy, a short form) is read even where Tesseract's page layout fails."""

from __future__ import annotations

import pytest

from indexer.ocr import ocr_image
from tests.scanfactory import render_page


@pytest.mark.slow
def test_two_short_lines_on_an_empty_page() -> None:
    # With automatic layout (--psm 3) Tesseract reads this page as "E aR … aR".
    img = render_page(["第1页", "本页合同条款编号 第1条 甲方乙方共同遵守"])
    result = ocr_image(img, dpi=150)
    assert "本页合同条款编号" in result.text and "甲方乙方共同遵守" in result.text
    assert result.confidence >= 80
