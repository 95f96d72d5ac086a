import io
import re

import pytest
from PIL import Image
from pypdf import PdfReader

import indexer.page_processor as page_processor
from indexer.derived import merge_pdfs, thumbnail, web_image
from indexer.errors import IngestError
from indexer.ocr import line_texts, ocr_image
from indexer.page_processor import process_page
from tests import scanfactory as sf
from tests.indexer.conftest import LINES, PHRASE

CJK_SPACE = re.compile(r"[\u4e00-\u9fff]\s+[\u4e00-\u9fff]")
KEY = "二〇二四年三月"  # a distinctive part of PHRASE


def _found(text: str) -> bool:
    return KEY in text or "支付合同款" in text


@pytest.mark.slow
def test_ocr_chinese_page_with_boxes(page_image):
    res = ocr_image(page_image, dpi=150)
    assert _found(res.text), res.text
    assert not CJK_SPACE.search(res.text)
    assert abs(res.rotation) < 3  # the 1.5 degree skew was measured and removed
    assert 50 < res.confidence <= 100
    assert (res.width, res.height) == page_image.size
    assert res.words
    for w in res.words:
        assert 0 <= w["x"] and 0 <= w["y"] and w["w"] > 0 and w["h"] > 0
        assert w["x"] + w["w"] <= res.width and w["y"] + w["h"] <= res.height
        assert set(w) == {"t", "x", "y", "w", "h", "c", "l"}
    # The phrase can be located through the word boxes (joined per line, no CJK spaces).
    lines = line_texts(res.words)
    assert any("支付合同款" in t or KEY in t for t in lines.values()), lines
    hits = [w for w in res.words if w["t"] and w["t"][0] in "支付合同款"]
    assert hits
    assert res.pdf.startswith(b"%PDF")
    pdf_page = PdfReader(io.BytesIO(res.pdf)).pages[0]
    assert "合" in pdf_page.extract_text()


@pytest.mark.slow
@pytest.mark.parametrize("turn", [90, 180])
def test_rotated_page_is_corrected(turn):
    img = sf.render_page(LINES * 2, size=(1240, 1200), rotate=turn)
    res = ocr_image(img, dpi=150)
    assert _found(res.text), res.text
    assert round(res.rotation / 90) * 90 % 360 == (360 - turn) % 360
    assert res.width == 1240 and res.height == 1200  # upright page size


@pytest.mark.slow
def test_process_page_ocr_scan_pdf_and_merge(tmp_path, page_image):
    scan = sf.write_pdf_image_only(tmp_path / "scan.pdf", [page_image])
    res = process_page(scan, 1)
    assert res.source == "ocr"
    assert _found(res.text)
    assert res.words and res.width > 0
    web = Image.open(io.BytesIO(res.web_webp))
    thumb = Image.open(io.BytesIO(res.thumb_webp))
    assert web.format == "WEBP" and web.mode == "RGB" and web.width <= 1600
    assert thumb.format == "WEBP" and thumb.width <= 240
    # Red seal survives in the web image.
    assert any(r > 150 and g < 100 and b < 100 for r, g, b in web.convert("RGB").get_flattened_data())
    text_pdf = sf.write_pdf_text_layer(tmp_path / "t.pdf", [["Appendix page with born digital text"]])
    other = process_page(text_pdf, 1)
    merged = PdfReader(io.BytesIO(merge_pdfs([res.pdf, other.pdf])))
    assert len(merged.pages) == 2
    assert "Appendix" in merged.pages[1].extract_text()


def test_text_layer_pdf_skips_ocr(tmp_path, monkeypatch):
    def no_ocr(*a, **k):
        raise AssertionError("OCR must not run on a born-digital page")

    monkeypatch.setattr(page_processor, "ocr_image", no_ocr)
    path = sf.write_pdf_text_layer(tmp_path / "t.pdf", [[PHRASE, "Payment schedule attached"]])
    res = page_processor.process_page(path, 1)
    assert res.source == "textlayer"
    assert PHRASE in res.text and "Payment schedule attached" in res.text
    assert res.words == []
    assert PdfReader(io.BytesIO(res.pdf)).pages[0].extract_text()
    assert res.web_webp[:4] == b"RIFF" and res.thumb_webp[:4] == b"RIFF"


def test_ocr_timeout_raises(plain_page):
    with pytest.raises(IngestError) as exc:
        ocr_image(plain_page, timeout=0.05)
    assert exc.value.code == "ocr-timeout"


def test_format_mismatch_rejected(tmp_path, plain_page):
    path = sf.write_png(tmp_path / "a.png", plain_page)
    with pytest.raises(IngestError) as exc:
        process_page(path, 1, fmt="pdf")
    assert exc.value.code == "unsupported-format"


def test_derived_images_sizes(plain_page):
    big = sf.render_page(["大图"], size=(3000, 1000), seal=True)
    web = Image.open(io.BytesIO(web_image(big)))
    assert web.size == (1600, 533)
    thumb = Image.open(io.BytesIO(thumbnail(plain_page)))
    assert thumb.width == 240 and thumb.mode == "RGB"
    small = Image.open(io.BytesIO(web_image(plain_page)))
    assert small.size == plain_page.size  # never upscaled
