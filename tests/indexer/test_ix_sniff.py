import pytest

from indexer.errors import IngestError
from indexer.sniff import detect_format, detect_format_bytes
from tests import scanfactory as sf
from web.i18n import bilingual


@pytest.mark.parametrize(
    ("writer", "name", "expected"),
    [
        (sf.write_jpeg, "scan.pdf", "jpeg"),  # the name lies; content wins
        (sf.write_png, "scan.jpg", "png"),
        (sf.write_bmp, "scan.bin", "bmp"),
        (sf.write_webp, "scan.png", "webp"),
    ],
)
def test_detects_by_content(tmp_path, plain_page, writer, name, expected):
    path = writer(tmp_path / name, plain_page)
    assert detect_format(path) == expected


def test_tiff_and_pdf(tmp_path, plain_page):
    assert detect_format(sf.write_tiff(tmp_path / "a", [plain_page])) == "tiff"
    assert detect_format(sf.write_pdf_image_only(tmp_path / "b", [plain_page])) == "pdf"
    assert detect_format_bytes(b"junk\n%PDF-1.4\n") == "pdf"


@pytest.mark.parametrize(
    ("head", "code", "word"),
    [
        (b"", "empty-file", "0 字节"),
        (b"PK\x03\x04rest", "unsupported-format", "Word"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "unsupported-format", "Word"),
        ("合同文本，不是扫描件".encode(), "unsupported-format", "text file"),
        (b"\x00\x01\x02\x03\x04\x05\x06\x07" * 10, "unsupported-format", "Unrecognised"),
    ],
)
def test_rejects_non_scans(head, code, word):
    with pytest.raises(IngestError) as exc:
        detect_format_bytes(head)
    assert exc.value.code == code
    assert word in bilingual(exc.value.reason)  # Chinese and English, from the catalogues
