import io

import pytest
from PIL import Image, ImageFile
from pypdf import PdfReader

from indexer.document import open_document
from indexer.errors import IngestError
from indexer.page_processor import count_pages
from tests import scanfactory as sf
from web.i18n import bilingual


@pytest.mark.parametrize(
    ("name", "write", "fmt", "pages"),
    [
        ("a.jpg", lambda p, im: sf.write_jpeg(p, im), "jpeg", 1),
        ("a.png", lambda p, im: sf.write_png(p, im), "png", 1),
        ("a.bmp", lambda p, im: sf.write_bmp(p, im), "bmp", 1),
        ("a.webp", lambda p, im: sf.write_webp(p, im), "webp", 1),
        ("lzw.tif", lambda p, im: sf.write_tiff(p, [im, im, im], "tiff_lzw"), "tiff", 3),
        ("jpeg.tif", lambda p, im: sf.write_tiff(p, [im, im], "jpeg"), "tiff", 2),
        ("g4.tif", lambda p, im: sf.write_tiff(p, [im, im, im, im], "group4"), "tiff", 4),
        ("scan.pdf", lambda p, im: sf.write_pdf_image_only(p, [im, im]), "pdf", 2),
        ("text.pdf", lambda p, im: sf.write_pdf_text_layer(p, [["one page of text"]] * 3), "pdf", 3),
    ],
)
def test_formats_ingest_with_page_count(tmp_path, plain_page, name, write, fmt, pages):
    path = write(tmp_path / name, plain_page)
    assert count_pages(path) == (fmt, pages)
    with open_document(path) as doc:
        img = doc.page_image(pages)
        assert img.mode in ("L", "RGB")
        assert img.info["dpi"][0] > 0
        if fmt != "pdf":
            assert img.size == plain_page.size
        with pytest.raises(IndexError):
            doc.page_image(pages + 1)


def test_image_dpi_kept_or_defaulted(tmp_path, plain_page):
    with open_document(sf.write_png(tmp_path / "a.png", plain_page)) as doc:
        assert doc.page_image(1).info["dpi"] == (150, 150)
    bare = tmp_path / "bare.png"
    plain_page.save(bare)  # no dpi recorded
    with open_document(bare) as doc:
        assert doc.page_image(1).info["dpi"] == (300, 300)


def test_scanned_pdf_page_rendered_at_its_image_density(tmp_path, plain_page):
    path = sf.write_pdf_image_only(tmp_path / "scan.pdf", [plain_page])
    with open_document(path) as doc:
        img = doc.page_image(1)
        assert img.info["dpi"] == (150, 150)  # the 150-dpi scan's own pixels, not 300 dpi
        assert abs(img.width - plain_page.width) <= 2
        assert doc.page_image(1, dpi=300).info["dpi"] == (300, 300)  # asked for: as asked
        assert doc.page_text_layer(1) is None
        assert doc.page_pdf(1) is None


def test_text_layer_pdf_gives_text_and_original_page(tmp_path):
    path = sf.write_pdf_text_layer(
        tmp_path / "t.pdf", [["Born digital contract HT-2024", "甲方应于二〇二四年三月前支付合同款"]]
    )
    with open_document(path) as doc:
        text = doc.page_text_layer(1)
        assert text is not None
        assert "Born digital contract HT-2024" in text
        assert "甲方应于二〇二四年三月前支付合同款" in text
        one = PdfReader(io.BytesIO(doc.page_pdf(1)))
        assert len(one.pages) == 1
        assert "Born digital" in one.pages[0].extract_text()


def test_pdf_with_empty_user_password_opens(tmp_path):
    path = sf.write_owner_only_encrypted_pdf(tmp_path / "o.pdf", ["owner password only, readable"])
    with open_document(path) as doc:
        assert doc.page_count == 1
        assert "owner password only" in doc.page_text_layer(1)


def test_broken_xref_recovered(tmp_path):
    path = sf.write_broken_xref_pdf(tmp_path / "x.pdf", ["recovered text layer page"])
    assert count_pages(path) == ("pdf", 1)
    with open_document(path) as doc:
        assert doc.page_image(1).size[0] > 100


@pytest.mark.parametrize(
    ("build", "code"),
    [
        (sf.write_zero_byte, "empty-file"),
        (sf.write_truncated_jpeg, "truncated"),
        (sf.write_truncated_png, "truncated"),
        (sf.write_corrupt_image, "corrupt-image"),
        (sf.write_encrypted_pdf, "encrypted-pdf"),
        (sf.write_unrecoverable_pdf, "broken-pdf"),
        (sf.write_bomb_png, "too-many-pixels"),
        (sf.write_bomb_pdf, "too-many-pixels"),
        (sf.write_zip, "unsupported-format"),
        (sf.write_text, "unsupported-format"),
    ],
)
def test_bad_inputs_rejected(tmp_path, build, code):
    path = build(tmp_path / "bad.bin")
    with pytest.raises(IngestError) as exc:
        count_pages(path)
    assert exc.value.code == code
    zh, _, en = bilingual(exc.value.reason).partition("/ ")  # both from the catalogues
    assert any("\u4e00" <= ch <= "\u9fff" for ch in zh), "reason starts in Chinese"
    assert en[:1].isascii() and en[:1].isalpha(), "then English"
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_bomb_refused_before_decoding(tmp_path, monkeypatch):
    path = sf.write_bomb_png(tmp_path / "bomb.png")

    def boom(self):  # pragma: no cover - must not be reached
        raise AssertionError("decoded a bomb")

    monkeypatch.setattr(Image.Image, "load", boom)
    with pytest.raises(IngestError) as exc:
        open_document(path)
    assert exc.value.code == "too-many-pixels"


def test_too_many_pages(tmp_path, monkeypatch):
    import indexer.document as document

    monkeypatch.setattr(document, "MAX_PAGES", 3)
    tiny = Image.new("L", (20, 20), 255)
    path = sf.write_tiff(tmp_path / "many.tif", [tiny] * 4)
    with pytest.raises(IngestError) as exc:
        count_pages(path)
    assert exc.value.code == "too-many-pages"
