"""A long image-only volume costs a page task its one page and the finaliser a flat memory
(#15.4): a page task opened the whole volume with pypdf (~0.25 s and ~100 MB a page of a
300-page scan, a worker grew to ~1 GB), counting pages read every stream through pypdf,
and merging the page PDFs held ~4x their size. bench/ingest_bench.py has the figures at
300 and 2,000 pages; here a 100-page volume keeps the wins."""

from __future__ import annotations

import io
import subprocess
import sys
import zlib
from pathlib import Path

import pikepdf
import pypdf
import pypdfium2 as pdfium
import pytest
from scanfactory import build_pdf, write_volume_pdf

from indexer.document import open_document
from indexer.page_processor import measure

PAGES = 100


@pytest.fixture(scope="module")
def volume(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """100 scanned A4 pages at 300 dpi, one image object each (~38 MB)."""
    return write_volume_pdf(tmp_path_factory.mktemp("volume") / "volume.pdf", PAGES, distinct=2)


@pytest.fixture(scope="module")
def page_store(volume: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A local object store holding the volume's pages as one-page PDFs, as page tasks
    leave them for the finaliser."""
    root = tmp_path_factory.mktemp("store")
    (root / "derived" / "1").mkdir(parents=True)
    with pikepdf.open(volume) as pdf:
        for i, page in enumerate(pdf.pages, start=1):
            with pikepdf.new() as one:
                one.pages.append(page)
                one.save(root / "derived" / "1" / f"page-{i}.pdf")
    return root


@pytest.fixture
def pypdf_opens(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """What pypdf was asked to open (the code under test may swallow a parser's errors)."""
    opened: list[object] = []
    init = pypdf.PdfReader.__init__

    def spy(self: pypdf.PdfReader, stream: object, *args: object, **kwargs: object) -> None:
        opened.append(stream)
        init(self, stream, *args, **kwargs)

    monkeypatch.setattr(pypdf.PdfReader, "__init__", spy)
    return opened


def test_a_page_task_loads_only_its_page(volume: Path, monkeypatch: pytest.MonkeyPatch,
                                         pypdf_opens: list[object]) -> None:
    loaded: list[int] = []
    get_page = pdfium.PdfDocument.get_page

    def spy(self: pdfium.PdfDocument, index: int) -> pdfium.PdfPage:
        loaded.append(index)
        return get_page(self, index)

    monkeypatch.setattr(pdfium.PdfDocument, "get_page", spy)
    with open_document(volume, validate=False) as doc:
        assert doc.page_count == PAGES
        assert doc.page_text_layer(57) is None  # a scan: no text layer, and pypdf never opened
        img = doc.page_image(57)
    assert set(loaded) == {56} and pypdf_opens == []
    assert abs(img.width - 2481) < 5 and abs(img.height - 3507) < 5  # drawn at its 300 dpi
    assert img.mode == "L"  # a grey scan is drawn grey: a third of the memory of RGB


def test_colour_drawn_over_a_grey_scan_keeps_its_colour(tmp_path: Path) -> None:
    """Only a page that is nothing but one grey image is drawn grey: a red mark drawn over
    the scan (a seal added as vector graphics) keeps the page in colour."""
    from PIL import Image

    buf = io.BytesIO()
    Image.new("L", (620, 877), 255).save(buf, "JPEG")
    jpeg = buf.getvalue()
    content = b"q 595 0 0 842 0 0 cm /Im0 Do Q 1 0 0 rg 100 100 200 200 re f"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /XObject << /Im0 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /XObject /Subtype /Image /Width 620 /Height 877 /ColorSpace /DeviceGray "
        b"/BitsPerComponent 8 /Filter /DCTDecode /Length %d >>\nstream\n" % len(jpeg) + jpeg
        + b"\nendstream",
    ]
    path = tmp_path / "marked.pdf"
    path.write_bytes(build_pdf(objects))
    with open_document(path) as doc:
        img = doc.page_image(1)
    assert img.mode == "RGB" and img.info["dpi"] == (75, 75)
    r, g, b = img.getpixel((img.width // 2 - 50, img.height - 200))
    assert r > 200 and g < 60 and b < 60


def test_counting_pages_decodes_nothing(volume: Path, monkeypatch: pytest.MonkeyPatch,
                                        pypdf_opens: list[object]) -> None:
    """The upload counts pages and decoded bytes from the structure: no page is drawn and
    pypdf does not read the 38 MB of images (it cost 0.72x sha256sum at 300 pages)."""
    def no_render(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a page was drawn in the request")

    monkeypatch.setattr(pdfium.PdfPage, "render", no_render)
    counted = measure(volume)
    assert counted.format == "pdf" and counted.pages == PAGES and pypdf_opens == []
    content = len(b"q 595 0 0 842 0 0 cm /Im0 Do Q")  # each page's drawing of its image
    assert counted.decoded_bytes == PAGES * (2481 * 3507 + content)  # grey: a byte a pixel


def test_streams_under_other_filters_are_still_counted(tmp_path: Path) -> None:
    """A content stream under a filter other than Flate is counted decoded (pypdf's limits
    decode it), and a Flate one inflated, as before the count moved to qpdf."""
    ops = b"0 0 1 1 re f\n" * 5000
    hexed = ops.hex().encode() + b">"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 5 0 R >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 6 0 R >>",
        b"<< /Length %d /Filter /ASCIIHexDecode >>\nstream\n" % len(hexed) + hexed
        + b"\nendstream",
    ]
    flated = zlib.compress(ops)
    objects.append(b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(flated) + flated
                   + b"\nendstream")
    path = tmp_path / "filters.pdf"
    path.write_bytes(build_pdf(objects))
    assert measure(path).decoded_bytes == 2 * len(ops)


def _peak_growth(probe: str, *args: str) -> list[str]:
    """Run ``probe`` in a fresh interpreter; it prints its own figures (VmHWM is this
    process's peak: ru_maxrss of a child would carry pytest's own across exec)."""
    head = (
        "import re, sys\n"
        "def peak():\n"
        "    status = open('/proc/self/status').read()\n"
        "    return int(re.search(r'VmHWM:\\s+(\\d+) kB', status).group(1)) * 1024\n"
    )
    return subprocess.run([sys.executable, "-c", head + probe, *args], capture_output=True,
                          text=True, check=True, timeout=240, cwd=Path(__file__).parents[2]
                          ).stdout.split()


def test_a_worker_stays_flat_over_many_page_tasks(volume: Path) -> None:
    """Twenty page tasks in one process: the peak is one page's image, not the volume
    (pypdf read the whole file into memory each time and kept it through reference cycles:
    +1.3 GB over 20 pages of a 300-page volume)."""
    probe = (
        "from indexer.document import open_document\n"
        "def task(k):\n"
        "    with open_document(sys.argv[1], validate=False) as doc:\n"
        "        if doc.page_text_layer(k) is None:\n"
        "            doc.page_image(k)\n"
        "task(1)\n"
        "before = peak()\n"
        "for k in range(5, 101, 5):\n"
        "    task(k)\n"
        "print(peak() - before)\n"
    )
    grew = int(_peak_growth(probe, str(volume))[0])
    assert grew < 24 * 2**20, f"the worker grew by {grew / 2**20:.0f} MiB over 20 pages"


def test_the_finaliser_merges_in_flat_memory(page_store: Path) -> None:
    """Merging 100 page PDFs (~38 MB) into the stored searchable PDF streams file to file:
    the pypdf merge held ~4x the input."""
    probe = (
        "from service.jobs.pipeline import store_merged_pdf\n"
        "from storage.local import LocalStore\n"
        "import pikepdf\n"
        "store = LocalStore(sys.argv[1])\n"
        "keys = [f'derived/1/page-{i}.pdf' for i in range(1, 101)]\n"
        "size = sum(store.local_path(k).stat().st_size for k in keys)\n"
        "before = peak()\n"
        "obj = store_merged_pdf(store, keys, 'derived/1/searchable.pdf')\n"
        "grew = peak() - before\n"
        "with pikepdf.open(store.local_path(obj.key)) as pdf:\n"
        "    print(grew, size, obj.size, len(pdf.pages))\n"
    )
    grew, size, merged, pages = map(int, _peak_growth(probe, str(page_store)))
    assert pages == PAGES and merged > 0.9 * size
    assert grew < 0.25 * size, f"the merge grew by {grew / 2**20:.0f} MiB for {size / 2**20:.0f} MiB"
