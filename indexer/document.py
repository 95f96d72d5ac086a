"""Open a scan (image or PDF), validate it, and hand out its pages.

Validation is eager because a bad upload must be refused while the archivist
is still at the scanner, not discovered by a background worker hours later.
Decompression bombs are refused from the header, before any pixel is decoded.

pypdfium2 is not thread-safe: a ScanDocument must be used by the process (and
thread) that opened it. The pipeline runs one process per core, never threads.

pypdf, pypdfium2 and pikepdf are imported where a PDF is opened or written (here and in
derived, textlayer and errors): a process that never touches a PDF (the CLI, an image-only
upload) does not pay their import (about 0.4 s).

A PDF is opened with pdfium, which loads a page when it is asked for: a page task on page k
of a 2,000-page volume costs that page, not the volume (bench/ingest_bench.py).
"""

from __future__ import annotations

import io
import logging
import math
import os
import warnings
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, BinaryIO

from PIL import Image, ImageFile, ImageOps

from indexer.errors import IngestError, ingest_error, technical
from indexer.messages import N_, Message, msg
from indexer.sniff import detect_format
from indexer.textnorm import normalize_text

if TYPE_CHECKING:  # imported where a PDF is opened (see above)
    from pypdf import PdfReader

MAX_PAGE_PIXELS = 100_000_000  # ~ A3 at 600 dpi is 70 MP; beyond this is a bomb or a mistake
MAX_PAGES = 2000
#: Most a PDF page's streams (contents, forms, images) may inflate to: a scanned A4 page at
#: 600 dpi in colour is about 100 MB; a 1 MB file inflating to a GiB is a bomb.
MAX_PAGE_STREAM_BYTES = 256 * 1024 * 1024
_INFLATE_CHUNK = 1 << 20
RENDER_DPI = 300
MIN_RENDER_DPI = 100  # huge PDF pages render at a lower dpi down to this, then are refused
DEFAULT_DPI = 300
#: A PDF page is a scan drawn at its image's own density when one image covers this share of it.
NATIVE_COVER = 0.8
MIN_NATIVE_DPI = 20  # below this the "scan" is a thumbnail: draw it at least this fine
MIN_TEXT_CHARS = 10  # fewer visible characters than this and a PDF page counts as a scan

# Never accept partial images silently: a truncated scan must be re-uploaded.
ImageFile.LOAD_TRUNCATED_IMAGES = False
# pypdf (strict=False) logs each repair it makes as a warning ("EOF marker not found"); with
# no logging set up, as in the CLI, Python prints those bare English lines to stderr. What a
# damaged file means for the user is said by our IngestError; only pypdf's errors are kept.
logging.getLogger("pypdf").setLevel(logging.ERROR)


def _too_many_pixels(w: int, h: int, page: int | None = None) -> IngestError:
    what = msg(N_("第 %(n)s 页"), n=page) if page else Message(N_("图像"))
    return IngestError("too-many-pixels", msg(
        N_("%(what)s尺寸过大（%(w)s×%(h)s 像素，约 %(mp).0f 百万像素，上限 %(cap).0f 百万像素），"
           "可能是损坏文件或“解压炸弹”。请以 300 dpi 重新扫描。"),
        what=what, w=w, h=h, mp=w * h / 1e6, cap=MAX_PAGE_PIXELS / 1e6))


def _too_many_pages(n: int, cap: int) -> IngestError:
    return IngestError("too-many-pages", msg(
        N_("文件共有 %(n)s 页，超过单个文件 %(cap)s 页的上限。请拆分为多个文件后上传。"), n=n, cap=cap))


@dataclass(frozen=True)
class Limits:
    """How much one file may hold, checked from its structure before any page is decoded."""

    max_pages: int = MAX_PAGES
    max_decoded_bytes: int | None = None  # pixel data of image frames / inflated PDF streams


def _too_large(decoded: int, cap: int) -> IngestError:
    gib, cap_gib = decoded / 2**30, cap / 2**30
    return IngestError("too-large", msg(
        N_("文件解码后的数据量过大（至少 %(gib).1f GiB，上限 %(cap).1f GiB），可能是“解压炸弹”或扫描分辨率过高。"
           "请以 300 dpi 重新扫描，或拆分为多个文件后上传。"), gib=gib, cap=cap_gib))


def _image_error(exc: BaseException) -> IngestError:
    msg = str(exc).lower()
    if "truncated" in msg or "premature end" in msg or "unexpected end" in msg:
        return ingest_error("truncated", type(exc).__name__ + ": " + str(exc)[:120])
    return ingest_error("corrupt-image", type(exc).__name__ + ": " + str(exc)[:120])


def _page_dpi(img: Image.Image) -> float:
    """The scanner's dpi when plausible, else a guess from an A4 page size.

    Scanners and phone apps often write 72 dpi (or nothing); Tesseract then
    misjudges text size, so an implausible value is replaced.
    """
    dpi = img.info.get("dpi")
    try:
        value = float(dpi[0]) if dpi else 0.0
    except (TypeError, ValueError, IndexError):
        value = 0.0
    if value >= 70 and value <= 1200 and max(img.size) / value <= 17.5:
        return round(value)
    if not dpi:
        return DEFAULT_DPI
    guess = max(img.size) / 11.69  # long side of A4 in inches
    return round(min(600.0, max(150.0, guess)))


def _normalise_mode(img: Image.Image) -> Image.Image:
    """Bring odd modes (P, RGBA, CMYK, 16-bit, 1-bit) to L or RGB for OCR and WebP."""
    if img.mode in ("L", "RGB"):
        return img
    if img.mode.startswith("I") or img.mode == "F":  # 16-bit greyscale scans
        return img.convert("I").point(lambda v: v * (1 / 256)).convert("L")
    if img.mode in ("1", "LA"):
        return img.convert("L")
    if img.mode in ("RGBA", "PA", "P"):
        rgba = img.convert("RGBA")
        bg = Image.new("RGB", rgba.size, (255, 255, 255))
        bg.paste(rgba, mask=rgba.getchannel("A"))
        return bg
    return img.convert("RGB")


class ScanDocument:
    """A validated scan: ``format``, ``page_count`` and per-page accessors (1-based)."""

    format: str
    page_count: int
    #: What the pages decode to, counted from the file's structure (see Limits).
    decoded_bytes: int

    def __init__(self, path: str | os.PathLike[str], *, validate: bool = True,
                 limits: Limits | None = None, measure_streams: bool = False) -> None:
        self.path = Path(path)
        self.limits = limits or Limits(max_pages=MAX_PAGES)
        # Inflating every page's streams is the upload's check; a page worker opening a file
        # already checked skips it, or a long PDF would cost O(pages²).
        self._measure_streams = measure_streams
        self.decoded_bytes = 0
        if self.path.stat().st_size == 0:
            raise ingest_error("empty-file")
        self.format = detect_format(self.path)
        self._image: Image.Image | None = None
        self._pdfium: Any = None  # pypdfium2.PdfDocument (pypdfium2 ships no types)
        self._pypdf: PdfReader | None = None
        self._pypdf_tried = False
        self._pypdf_file: BinaryIO | None = None
        self._render_dpi: list[float] = []
        try:
            if self.format == "pdf":
                self._open_pdf(validate)
            else:
                self._open_image(validate)
        except IngestError:
            self.close()
            raise
        except Exception as exc:  # a parser gave up in a way we did not foresee: a corrupt file
            self.close()
            code = "broken-pdf" if self.format == "pdf" else "corrupt-image"
            raise ingest_error(code, technical(exc)) from exc
        except BaseException:
            self.close()
            raise

    # -- images -----------------------------------------------------------------
    def _open_image(self, validate: bool) -> None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                img = Image.open(self.path)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            # Read the size from the header with the check disabled, for a precise message.
            saved = Image.MAX_IMAGE_PIXELS
            try:
                Image.MAX_IMAGE_PIXELS = None
                with Image.open(self.path) as probe:
                    w, h = probe.size
            except Exception:
                w, h = (0, 0)
            finally:
                Image.MAX_IMAGE_PIXELS = saved
            if w * h > MAX_PAGE_PIXELS:
                raise _too_many_pixels(w, h) from None
            img = Image.open(self.path)  # within our cap: Pillow's own, lower, limit was hit
        except Exception as exc:  # UnidentifiedImageError, SyntaxError, struct errors...
            raise _image_error(exc) from exc
        self._image = img
        try:
            n = getattr(img, "n_frames", 1)
        except Exception as exc:
            raise _image_error(exc) from exc
        if n > self.limits.max_pages:
            raise _too_many_pages(n, self.limits.max_pages)
        self.page_count = n
        for i in range(n):
            self._seek(i)  # reads the frame's header only
            w, h = img.size
            if w * h > MAX_PAGE_PIXELS:
                raise _too_many_pixels(w, h, i + 1)
            if w < 1 or h < 1:
                raise ingest_error("corrupt-image", "zero-sized page")
            self._count_decoded(w * h * max(1, len(img.getbands())))
        if validate:
            for i in range(n):
                self._load(i)

    def _count_decoded(self, nbytes: int) -> None:
        self.decoded_bytes += nbytes
        cap = self.limits.max_decoded_bytes
        if cap is not None and self.decoded_bytes > cap:
            raise _too_large(self.decoded_bytes, cap)

    def _seek(self, i: int) -> None:
        assert self._image is not None
        try:
            self._image.seek(i)
        except EOFError as exc:
            raise ingest_error("truncated", f"page {i + 1} missing") from exc
        except Exception as exc:
            raise _image_error(exc) from exc

    def _load(self, i: int) -> None:
        """Decode frame ``i`` into the open image (proves it reads; no copy is kept)."""
        assert self._image is not None
        self._seek(i)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                self._image.load()
        except Image.DecompressionBombError as exc:
            raise _too_many_pixels(*self._image.size) from exc
        except Exception as exc:  # OSError('image file is truncated'), ValueError, SyntaxError...
            raise _image_error(exc) from exc

    def _decode(self, i: int) -> Image.Image:
        """Frame ``i`` as an image of its own (the open one moves on to other frames)."""
        assert self._image is not None
        self._load(i)
        try:
            frame = self._image.copy()
        except Exception as exc:
            raise _image_error(exc) from exc
        frame.info = dict(self._image.info)
        return frame

    # -- PDFs -------------------------------------------------------------------
    def _open_pdf(self, validate: bool) -> None:
        """Open with pdfium, which loads lazily: the cross-reference table now, a page's
        objects when that page is asked for. Nothing here is proportional to the file's bytes.

        A page task opens the volume for its one page; opening it with pypdf (which reads the
        whole file into memory and keeps it alive through reference cycles) cost ~0.25 s and
        ~100 MB for every page of a 300-page scan. pypdf is opened only for a page that
        carries text (``_text_reader``); the upload's stream count uses qpdf (pikepdf).
        """
        import pypdfium2 as pdfium

        try:
            self._pdfium = pdfium.PdfDocument(str(self.path))
        except pdfium.PdfiumError as exc:
            msg = str(exc).lower()
            if "password" in msg or "security" in msg:
                raise ingest_error("encrypted-pdf") from exc
            raise ingest_error("broken-pdf", str(exc)[:120]) from exc
        n = len(self._pdfium)
        if n == 0:
            raise ingest_error("broken-pdf", "no pages")
        if n > self.limits.max_pages:
            raise _too_many_pages(n, self.limits.max_pages)
        self.page_count = n
        # Every page's size, from its dictionary (no content is parsed: ~2 µs a page): this
        # finds a page tree that loops and a page too large to draw, in the upload and in
        # every page task alike.
        for i in range(n):
            try:
                w_pt, h_pt = self._pdfium.get_page_size(i)
            except pdfium.PdfiumError as exc:  # e.g. a page tree whose /Kids loop back on itself
                raise ingest_error("broken-pdf", f"page {i + 1}: {exc}") from exc
            if not (w_pt > 0 and h_pt > 0) or math.isnan(w_pt * h_pt):
                raise ingest_error("broken-pdf", f"page {i + 1} has no size")
            area_in2 = (w_pt / 72) * (h_pt / 72)
            dpi = min(RENDER_DPI, math.sqrt(MAX_PAGE_PIXELS / area_in2))
            if dpi < MIN_RENDER_DPI:
                raise _too_many_pixels(
                    round(w_pt / 72 * RENDER_DPI), round(h_pt / 72 * RENDER_DPI), i + 1
                )
            self._render_dpi.append(dpi)
        if self._measure_streams:
            pdf_stream_bytes(self.path, n, self._count_decoded)
        if validate:
            # A cheap low-resolution render of every page proves the content streams parse.
            for i in range(n):
                self._render(i, 20)

    def _text_reader(self) -> PdfReader | None:
        """pypdf on this file, for text layers; None when it cannot read it as pdfium does.

        Opened on a file handle (not the path, which pypdf reads whole into memory) and
        only when a page has text to extract.
        """
        if self._pypdf_tried:
            return self._pypdf
        self._pypdf_tried = True
        from pypdf import PdfReader

        try:
            self._pypdf_file = self.path.open("rb")
            reader = PdfReader(self._pypdf_file, strict=False)
            if reader.is_encrypted and not reader.decrypt(""):
                return None  # pdfium opened it, so the user password is empty; pypdf cannot
            if len(reader.pages) != self.page_count:
                return None  # the two parsers disagree: trust the renderer, skip text layers
        except Exception:
            return None  # pypdf could not recover what pdfium repaired
        self._pypdf = reader
        return reader

    def _has_text(self, i: int) -> bool:
        """Whether pdfium finds any character on page ``i`` (a scan has none)."""
        import pypdfium2 as pdfium

        assert self._pdfium is not None
        try:
            page = self._pdfium[i]
            try:
                textpage = page.get_textpage()
                try:
                    return bool(textpage.count_chars() > 0)
                finally:
                    textpage.close()
            finally:
                page.close()
        except pdfium.PdfiumError:
            return True  # let pypdf decide, as before

    def _scan(self, i: int) -> tuple[float, bool] | None:
        """(pixel density, grey) of the one image that covers page ``i`` (a scan saved as
        PDF), else None.

        A scan is read at the resolution its pixels have: a phone photo saved as a 72-dpi
        PDF page drawn at 300 dpi would be blown up 17-fold for nothing, a 200-dpi fax drawn
        at 300 dpi only gains interpolated pixels (the reader scales text itself). A page
        that is nothing but one DeviceGray image (no other object, no annotation) is grey
        and is drawn grey: the same pixels as its RGB drawing's luminance, a third of the
        memory (a 300-dpi A4 page: 9 MB, not 26) and less work for every step after it.
        """
        import pypdfium2 as pdfium
        import pypdfium2.raw as pdfium_c

        assert self._pdfium is not None
        try:
            page = self._pdfium[i]
            try:
                w_pt, h_pt = page.get_size()
                objects = list(page.get_objects(max_depth=1))
                images = [o for o in objects if o.type == pdfium_c.FPDF_PAGEOBJ_IMAGE]
                if len(images) != 1:
                    return None
                image = images[0]
                left, bottom, right, top = image.get_bounds()
                px_w, px_h = image.get_px_size()
                grey = (len(objects) == 1 and pdfium_c.FPDFPage_GetAnnotCount(page.raw) == 0
                        and image.get_metadata().colorspace == pdfium_c.FPDF_COLORSPACE_DEVICEGRAY)
            finally:
                page.close()
        except pdfium.PdfiumError:
            return None
        covered = (right - left) * (top - bottom)
        if covered < NATIVE_COVER * w_pt * h_pt or right <= left or top <= bottom:
            return None
        return min(px_w / ((right - left) / 72), px_h / ((top - bottom) / 72)), grey

    def _render(self, i: int, dpi: float, *, grey: bool = False) -> Image.Image:
        import pypdfium2 as pdfium

        assert self._pdfium is not None
        try:
            page = self._pdfium[i]
            try:
                bitmap = page.render(scale=dpi / 72, grayscale=grey)
                img = bitmap.to_pil()
            finally:
                page.close()
        except pdfium.PdfiumError as exc:
            raise ingest_error("broken-pdf", f"page {i + 1}: {exc}"[:160]) from exc
        return img

    # -- public API ---------------------------------------------------------------
    def _check(self, n: int) -> int:
        if not 1 <= n <= self.page_count:
            raise IndexError(f"page {n} out of range 1..{self.page_count}")
        return n - 1

    def page_image(self, n: int, *, dpi: float | None = None) -> Image.Image:
        """Page ``n`` (1-based) as an L or RGB image with ``info['dpi']`` set (L for a PDF
        page that is one grey scan).

        ``dpi`` lowers the PDF rendering resolution (e.g. for a preview of a
        born-digital page that needs no OCR); without it a PDF page that is one scanned
        image is drawn at that image's own pixel density (at most 300 dpi), any other at
        300 dpi. Image pages are returned as scanned.
        """
        i = self._check(n)
        if self.format == "pdf":
            grey = False
            if not dpi:
                scan = self._scan(i)
                dpi = max(MIN_NATIVE_DPI, scan[0]) if scan else RENDER_DPI
                grey = scan is not None and scan[1]
            dpi = min(dpi, self._render_dpi[i])
            img = _normalise_mode(self._render(i, dpi, grey=grey))
            img.info["dpi"] = (round(dpi), round(dpi))
            return img
        frame = self._decode(i)
        dpi = _page_dpi(frame)
        if self.format in ("jpeg", "webp", "png", "tiff"):
            frame = ImageOps.exif_transpose(frame)  # phone photos carry EXIF orientation
        frame = _normalise_mode(frame)
        frame.info["dpi"] = (dpi, dpi)
        return frame

    def check_page(self, n: int) -> None:
        """Decode page ``n`` (a low-resolution render for a PDF) to prove it reads; IngestError if not."""
        i = self._check(n)
        if self.format == "pdf":
            self._render(i, 20)
        else:
            self._load(i)  # the pixels once: a copy would double what a large page costs

    def page_text_layer(self, n: int) -> str | None:
        """Normalised PDF text of page ``n`` when it holds real text, else None (scan)."""
        i = self._check(n)
        if self.format != "pdf" or not self._has_text(i):
            return None
        reader = self._text_reader()
        if reader is None:
            return None
        try:
            raw = reader.pages[i].extract_text() or ""
        except Exception:
            return None  # unreadable fonts or content: OCR the rendering instead
        text = normalize_text(raw)
        visible = [ch for ch in text if not ch.isspace()]
        if len(visible) < MIN_TEXT_CHARS:
            return None
        # Fonts without a usable ToUnicode map extract as control/private-use garbage.
        junk = sum(1 for ch in visible if not ch.isprintable() or "\ue000" <= ch <= "\uf8ff" or ch == "\ufffd")
        if junk > len(visible) // 10:
            return None
        return text

    def page_pdf(self, n: int) -> bytes | None:
        """Page ``n`` as a one-page PDF when it already carries text (no OCR needed), else None."""
        if self.page_text_layer(n) is None:
            return None
        from pypdf import PdfWriter

        reader = self._text_reader()
        assert reader is not None
        writer = PdfWriter()
        writer.add_page(reader.pages[n - 1])
        buf = io.BytesIO()
        writer.write(buf)
        return buf.getvalue()

    def close(self) -> None:
        """Release file handles (Pillow and pdfium keep the file open)."""
        if self._image is not None:
            self._image.close()
            self._image = None
        if self._pdfium is not None:
            self._pdfium.close()
            self._pdfium = None
        self._pypdf = None
        if self._pypdf_file is not None:
            self._pypdf_file.close()
            self._pypdf_file = None

    def __enter__(self) -> ScanDocument:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _inflated_size(raw: bytes, budget: int) -> int:
    """Bytes a FlateDecode stream inflates to, counted in bounded chunks, stopping past ``budget``."""
    d = zlib.decompressobj()
    total = 0
    data = raw
    try:
        while data and total <= budget:
            out = d.decompress(data, _INFLATE_CHUNK)
            total += len(out)
            data = d.unconsumed_tail
            if not out and not data:
                break
    except zlib.error:
        pass  # a damaged stream: pdfium decides later whether the page renders
    return total


#: Image colour spaces by their components per pixel (anything else counts as three).
_COMPONENTS = {"/DeviceGray": 1, "/CalGray": 1, "/DeviceCMYK": 4}


def _stream_bytes(stream: Any, budget: int, path: Path) -> int:
    """Decoded size of one PDF stream (a pikepdf.Stream): declared pixels for images,
    inflated bytes otherwise, counted without holding more than a chunk of the output."""
    import pikepdf

    if stream.get("/Subtype") == "/Image":
        w, h = int(stream.get("/Width", 0) or 0), int(stream.get("/Height", 0) or 0)
        bpc = int(stream.get("/BitsPerComponent", 8) or 8)
        space = stream.get("/ColorSpace")
        comps = _COMPONENTS.get(str(space) if isinstance(space, pikepdf.Name) else "", 3)
        return max(0, w * h * comps * bpc // 8)
    filters = stream.get("/Filter")
    names = [str(f) for f in filters] if isinstance(filters, pikepdf.Array) else (
        [str(filters)] if filters is not None else [])
    if not names:
        return len(stream.read_raw_bytes())
    if names == ["/FlateDecode"]:
        return _inflated_size(stream.read_raw_bytes(), budget)
    return _pypdf_stream_bytes(path, stream.objgen)  # rare filters (LZW, RunLength...)


def _pypdf_stream_bytes(path: Path, objgen: tuple[int, int]) -> int:
    """Decoded size of a stream under a filter other than Flate, decoded by pypdf, whose
    own output limits stop a bomb (qpdf would decode it whole into memory)."""
    from pypdf import PdfReader
    from pypdf.errors import LimitReachedError
    from pypdf.generic import StreamObject

    try:
        with path.open("rb") as fh:
            stream = PdfReader(fh, strict=False).get_object(objgen[0])
            return len(stream.get_data()) if isinstance(stream, StreamObject) else 0
    except LimitReachedError:
        return MAX_PAGE_STREAM_BYTES + 1
    except Exception:
        return 0


def pdf_stream_bytes(path: Path, pages: int, count: Callable[[int], None]) -> None:
    """Pass ``count`` the inflated size of each page's content streams, forms and images.

    Counted before any rendering, in bounded memory, so that a small file whose streams
    inflate to gigabytes is refused quickly (pdfium would inflate them whole); ``count``
    raises when a cap is passed. qpdf (pikepdf) reads the structure and only the streams
    it inflates: an image's size is read from its dictionary, so a 100 MB scan costs its
    page dictionaries, not its bytes. A file qpdf cannot read page for page as pdfium does
    is not counted here (pdfium decides later whether each page draws).
    """
    import pikepdf

    try:
        pdf = pikepdf.open(path)
    except Exception:
        return
    with pdf:
        try:
            page_objs = [page.obj for page in pdf.pages]
        except Exception:
            return
        if len(page_objs) != pages:
            return
        sizes: dict[tuple[int, int], int] = {}  # pages often share streams: inflate once
        for i, page in enumerate(page_objs):
            count(_page_stream_bytes(page, i + 1, sizes, path))


def _page_stream_bytes(page: Any, page_no: int, sizes: dict[tuple[int, int], int],
                       path: Path) -> int:
    """Inflated size of a page's content streams, forms and images, each object counted once.

    ``sizes`` remembers the size of every stream already inflated for another page: a
    stream shared by many pages is counted for each of them (each page draws it) but
    inflated once, so counting costs the file's distinct data, not pages × data.
    """
    import pikepdf

    seen: set[tuple[int, int]] = set()
    total = 0
    todo: list = [page.get(k) for k in ("/Contents", "/Resources") if k in page]
    while todo:
        obj = todo.pop()
        ref = obj.objgen if obj.is_indirect else None
        if ref is not None:
            if ref in seen:
                continue
            seen.add(ref)
        if isinstance(obj, pikepdf.Stream):
            if ref is not None and ref in sizes:
                size = sizes[ref]
            else:
                # Within the budget the size is exact; past it the page is refused below.
                size = _stream_bytes(obj, MAX_PAGE_STREAM_BYTES - total, path)
                if ref is not None:
                    sizes[ref] = size
            total += size
            if obj.get("/Subtype") == "/Form" and "/Resources" in obj:
                todo.append(obj.get("/Resources"))
        elif isinstance(obj, pikepdf.Array):  # several content streams
            todo.extend(obj)
        elif isinstance(obj, pikepdf.Dictionary) and "/XObject" in obj:  # /Resources
            xobjects = obj.get("/XObject")
            if isinstance(xobjects, pikepdf.Dictionary):
                todo.extend(xobjects.values())
        if total > MAX_PAGE_STREAM_BYTES:
            raise _too_large_page(page_no, total)
    return total


def _too_large_page(page_no: int, decoded: int) -> IngestError:
    mib, cap = decoded / 2**20, MAX_PAGE_STREAM_BYTES / 2**20
    return IngestError("too-large", msg(
        N_("第 %(n)s 页的数据解压后过大（至少 %(mib).0f MiB，每页上限 %(cap).0f MiB），"
           "可能是“解压炸弹”。请从原始软件或扫描仪重新导出 PDF。"), n=page_no, mib=mib, cap=cap))


def open_document(path: str | os.PathLike[str], *, validate: bool = True,
                  limits: Limits | None = None, measure_streams: bool = False) -> ScanDocument:
    """Open and validate a scan; raise IngestError when it cannot be ingested.

    ``validate=False`` skips the full decode of every page (the upload counts pages from
    the file's structure; a worker needs only its one page). ``limits`` caps pages and
    decoded bytes before anything is decoded; ``measure_streams`` also inflates (in bounded
    memory) every PDF page's streams to count and cap them, as an upload must.
    """
    return ScanDocument(path, validate=validate, limits=limits, measure_streams=measure_streams)


__all__ = ["MAX_PAGES", "MAX_PAGE_PIXELS", "Limits", "ScanDocument", "open_document"]
