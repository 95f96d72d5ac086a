"""A corpus of malformed scans, built by code (never stored): every accepted format cut
short, wrong magic numbers, headers claiming huge pages, frame and inflation bombs, looping
or bottomless PDF page trees, encrypted PDFs and empty files; and the small valid seeds the
fuzz tests mutate.

`read_as_ingest` reads a file the way an upload and then a page worker do (without OCR), so
a case fails exactly where it would fail in the archive.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageDraw
from scanfactory import (
    _png,
    _png_chunk,
    _stream,
    build_pdf,
    text_pdf_bytes,
    write_encrypted_pdf,
    write_many_frame_tiff,
    write_pdf_stream_bomb,
    zlib_bomb,
)

from indexer.document import Limits, open_document
from indexer.page_processor import measure
from service.config import Settings

#: The codes a malformed file may end in: each has its user-facing reason in Chinese.
REFUSALS = frozenset({"empty-file", "truncated", "corrupt-image", "encrypted-pdf", "broken-pdf",
                      "render-failed", "unsupported-format", "too-many-pixels", "too-many-pages",
                      "too-large"})


def upload_limits() -> Limits:
    """The caps an upload applies with the default settings."""
    return Limits(max_pages=Settings.max_pages_per_file,
                  max_decoded_bytes=Settings.max_decoded_bytes_per_file)


def read_as_ingest(path: Path, pages: int = 2) -> tuple[str, int]:
    """Count the file as the upload does, then read its first ``pages`` pages as a page
    worker does (text layer, page image); (format, page count) when all of it reads."""
    counted = measure(path, upload_limits())
    with open_document(path, validate=False) as doc:
        for n in range(1, min(doc.page_count, pages) + 1):
            doc.page_text_layer(n)
            doc.page_image(n)
    return counted.format, counted.pages


# ----------------------------------------------------------------- valid seeds


def _page(size: tuple[int, int] = (64, 48), mode: str = "L") -> Image.Image:
    img = Image.new(mode, size, "white")
    draw = ImageDraw.Draw(img)
    draw.rectangle((8, 8, size[0] - 8, 20), fill="black")
    draw.line((4, size[1] - 6, size[0] - 4, 30), fill="black", width=2)
    return img


def _save(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def seeds() -> dict[str, bytes]:
    """One small valid file of every format the sniffer accepts (and a zip of scans)."""
    page = _page()
    two = [page, _page((48, 64))]
    tiff = io.BytesIO()
    two[0].save(tiff, "TIFF", save_all=True, append_images=two[1:], compression="tiff_lzw")
    pdf = io.BytesIO()
    two[0].convert("RGB").save(pdf, "PDF", save_all=True, append_images=[two[1].convert("RGB")],
                               resolution=72)
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a/1.png", _save(page, "PNG"))
        zf.writestr("a/2.jpg", _save(page, "JPEG"))
    return {
        "jpeg": _save(page, "JPEG", quality=80),
        "png": _save(page, "PNG"),
        "tiff": tiff.getvalue(),
        "bmp": _save(page, "BMP"),
        "webp": _save(page.convert("RGB"), "WEBP", quality=60),
        "pdf": pdf.getvalue(),
        "pdf-text": text_pdf_bytes([["Contract HT-2024-0031"], ["第二页"]]),
        "zip": zipped.getvalue(),
    }


# ----------------------------------------------------------------- huge declared sizes


def png_claiming(width: int, height: int) -> bytes:
    comp = zlib.compressobj(9)
    data = comp.compress(b"\x00" + b"\xff" * 4096) + comp.flush()
    return _png(width, height, data)


def tiff_claiming(width: int, height: int) -> bytes:
    """A one-page uncompressed TIFF whose header claims width × height, with 64 bytes of data."""
    out = bytearray(b"II*\x00" + struct.pack("<I", 8))
    entries = [(256, 4, width), (257, 4, height), (258, 3, 8), (259, 3, 1), (262, 3, 1),
               (273, 4, 0), (277, 3, 1), (278, 4, height), (279, 4, 64)]
    data_at = 8 + 2 + 12 * len(entries) + 4
    out += struct.pack("<H", len(entries))
    for tag, kind, value in entries:
        value = data_at if tag == 273 else value
        out += struct.pack("<HHI", tag, kind, 1) + (
            struct.pack("<HH", value, 0) if kind == 3 else struct.pack("<I", value))
    out += struct.pack("<I", 0) + b"\x80" * 64
    return bytes(out)


def jpeg_claiming(width: int, height: int) -> bytes:
    """A real small JPEG whose SOF header is rewritten to claim width × height."""
    data = bytearray(_save(_page(), "JPEG"))
    sof = data.index(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, height, width)
    return bytes(data)


def webp_claiming(width: int, height: int) -> bytes:
    """An extended WebP (VP8X) whose canvas claims width × height around a small frame."""
    small = _save(_page().convert("RGB"), "WEBP", quality=50)
    vp8 = small[12:]
    vp8x = b"VP8X" + struct.pack("<I", 10) + b"\x00\x00\x00\x00" + \
        (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    body = b"WEBP" + vp8x + vp8
    return b"RIFF" + struct.pack("<I", len(body)) + body


def bmp_claiming(width: int, height: int) -> bytes:
    header = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, 0, 2835, 2835, 0, 0)
    return b"BM" + struct.pack("<IHHI", 14 + len(header) + 64, 0, 0, 14 + len(header)) + \
        header + b"\x00" * 64


def pdf_image_claiming(width: int, height: int) -> bytes:
    """A PDF page drawing one image XObject that claims width × height grey pixels."""
    pixels = zlib.compress(b"\x80" * 4096)
    return build_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /XObject << /Im1 5 0 R >> >> /Contents 4 0 R >>",
        _stream(b"q 595 0 0 842 0 0 cm /Im1 Do Q"),
        _stream(pixels, b"/Type /XObject /Subtype /Image /Width %d /Height %d "
                        b"/ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode"
                % (width, height)),
    ])


def pdf_sized(box: bytes) -> bytes:
    return build_pdf([b"<< /Type /Catalog /Pages 2 0 R >>",
                      b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                      b"<< /Type /Page /Parent 2 0 R /MediaBox " + box + b" >>"])


# ----------------------------------------------------------------- frame bombs


def gif_frames(frames: int) -> bytes:
    imgs = [Image.new("L", (8, 8), i % 256) for i in range(frames)]
    return _save(imgs[0], "GIF", save_all=True, append_images=imgs[1:])


def webp_frames(frames: int) -> bytes:
    imgs = [Image.new("RGB", (8, 8), (i % 256, 0, 0)) for i in range(frames)]
    return _save(imgs[0], "WEBP", save_all=True, append_images=imgs[1:], lossless=True)


def pdf_pages(pages: int, count: int | None = None) -> bytes:
    """``pages`` empty A4 pages sharing one content stream; /Count says ``count``."""
    kids = b" ".join(b"%d 0 R" % (4 + i) for i in range(pages))
    return build_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % (count or pages),
        _stream(b"0 0 10 10 re f"),
        *[b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 3 0 R >>"] * pages,
    ])


def tiff_ifd_loop() -> bytes:
    """A two-page TIFF whose second IFD points back at the first: pages without end."""
    data = bytearray(_save_tiff_pages(2))
    first = struct.unpack_from("<I", data, 4)[0]
    n = struct.unpack_from("<H", data, first)[0]
    second = struct.unpack_from("<I", data, first + 2 + 12 * n)[0]
    m = struct.unpack_from("<H", data, second)[0]
    struct.pack_into("<I", data, second + 2 + 12 * m, first)
    return bytes(data)


def _save_tiff_pages(n: int) -> bytes:
    pages = [_page() for _ in range(n)]
    buf = io.BytesIO()
    pages[0].save(buf, "TIFF", save_all=True, append_images=pages[1:])
    return buf.getvalue()


# ----------------------------------------------------------------- inflation bombs


def png_text_bomb(chunk: bytes) -> bytes:
    """A valid small PNG with a compressed text or ICC chunk inflating to 512 MiB."""
    good = _save(_page(), "PNG")
    bomb = zlib_bomb(512 << 20, b"\x00")
    body = {b"zTXt": b"Comment\x00\x00", b"iCCP": b"icc\x00\x00"}[chunk] + bomb
    return good[:33] + _png_chunk(chunk, body) + good[33:]


def pdf_double_flate_bomb() -> bytes:
    """A content stream compressed twice: 40 KB of file, 1 GiB once both filters are undone."""
    twice = zlib.compress(zlib_bomb(1 << 30, b"\x00"), 9)
    return build_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
        _stream(twice, b"/Filter [/FlateDecode /FlateDecode]"),
    ])


def pdf_image_flate_bomb() -> bytes:
    """A 100×100 image whose Flate data inflates to 1 GiB (far more than its pixels)."""
    return build_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /XObject << /Im1 5 0 R >> >> /Contents 4 0 R >>",
        _stream(b"q 595 0 0 842 0 0 cm /Im1 Do Q"),
        _stream(zlib_bomb(1 << 30, b"\x00"), b"/Type /XObject /Subtype /Image /Width 100 "
                b"/Height 100 /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode"),
    ])


def zip_bomb(size: int = 1 << 30, *, declared: int | None = None) -> bytes:
    """One member of zeros inflating to ``size`` bytes; its headers declare ``declared``
    bytes (default: the truth)."""
    data = zlib_bomb(size, b"\x00", raw=True)
    crc = 0
    chunk = b"\x00" * (1 << 20)
    for _ in range(size >> 20):
        crc = zlib.crc32(chunk, crc)
    name = b"scan.tif"
    told = size if declared is None else declared
    fields = struct.pack("<HHHHHIII", 20, 0, 8, 0, 0, crc, len(data), told)
    local = b"PK\x03\x04" + fields + struct.pack("<HH", len(name), 0) + name
    central = (b"PK\x01\x02" + struct.pack("<H", 20) + fields
               + struct.pack("<HHHHHII", len(name), 0, 0, 0, 0, 0, 0) + name)
    end = b"PK\x05\x06" + struct.pack("<HHHHIIH", 0, 0, 1, 1, len(central),
                                        len(local) + len(data), 0)
    return local + data + central + end


def zip_lying_sizes() -> bytes:
    """A member whose headers declare 10 bytes while its data inflates to 64 MiB."""
    return zip_bomb(64 << 20, declared=10)


# ----------------------------------------------------------------- page trees


def pdf_kids_cycle() -> bytes:
    """Two /Pages nodes, each the other's kid (A → B → A)."""
    return build_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 >>",
        b"<< /Type /Pages /Parent 2 0 R /Kids [2 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
    ])


def pdf_deep_tree(depth: int = 5000) -> bytes:
    """A page tree ``depth`` /Pages nodes deep, one page at the bottom (recursion)."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    for level in range(depth):
        me = 2 + level
        objects.append(b"<< /Type /Pages /Kids [%d 0 R] /Count 1 >>" % (me + 1))
    objects.append(b"<< /Type /Page /MediaBox [0 0 595 842] >>")
    return build_pdf(objects)


def pdf_self_drawing_form() -> bytes:
    """A form XObject whose resources name itself and whose content draws itself."""
    return build_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /XObject << /Fm 5 0 R >> >> /Contents 4 0 R >>",
        _stream(b"/Fm Do"),
        _stream(b"/Fm Do", b"/Type /XObject /Subtype /Form /BBox [0 0 595 842] "
                           b"/Resources << /XObject << /Fm 5 0 R >> >>"),
    ])


def pdf_xref_prev_loop() -> bytes:
    """A trailer whose /Prev names its own xref section."""
    data = text_pdf_bytes([["xref loop"]])
    xref = int(data.rsplit(b"startxref\n", 1)[1].split(b"\n")[0])
    return data.replace(b">>\nstartxref", b"/Prev %d >>\nstartxref" % xref)


def pdf_length_self_reference() -> bytes:
    """A content stream whose /Length is an indirect reference to the stream itself."""
    return build_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
        b"<< /Length 4 0 R >>\nstream\n0 0 10 10 re f\nendstream",
    ])


# ----------------------------------------------------------------- encryption


def pdf_encrypted(algorithm: str, user_password: str = "secret") -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for page in PdfReader(io.BytesIO(text_pdf_bytes([["Confidential 2024"]]))).pages:
        writer.add_page(page)
    writer.encrypt(user_password=user_password, owner_password="owner", algorithm=algorithm)
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def pdf_unknown_security_handler() -> bytes:
    return build_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
        b"<< /Filter /NoSuchHandler /V 9 /R 9 /Length 128 >>",
    ], trailer_extra=b"/Encrypt 4 0 R /ID [<00112233445566778899aabbccddeeff> "
                     b"<00112233445566778899aabbccddeeff>] ")


# ----------------------------------------------------------------- the corpus

#: name -> (builder writing the file into a folder, the codes it may end in). A case may
#: also read (None in the codes: a repaired file is fine), as long as it never hangs,
#: crashes, or grows without bound. Loops in a PDF's structure: tests/service/test_looping_pdf.py.
Case = tuple[Callable[[Path], Path], frozenset[str | None]]


def _bytes(name: str, build: Callable[[], bytes]) -> Callable[[Path], Path]:
    def write(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(build())
        return path
    return write


def _via(name: str, build: Callable[..., Path], **kw) -> Callable[[Path], Path]:
    return lambda folder: build(folder / name, **kw)


def _cut(fmt: str, keep: float) -> Callable[[], bytes]:
    def build() -> bytes:
        data = seeds()[fmt]
        return data[: max(1, int(len(data) * keep))]
    return build


def _remagic(fmt: str, magic: bytes) -> Callable[[], bytes]:
    return lambda: magic + seeds()[fmt][len(magic):]


def corpus() -> dict[str, Case]:
    bad_image = frozenset({"truncated", "corrupt-image"})
    bad_pdf = frozenset({"broken-pdf", "render-failed", None})
    cases: dict[str, Case] = {
        "zero-byte": (_bytes("empty.pdf", lambda: b""), frozenset({"empty-file"})),
        "one-byte": (_bytes("one.jpg", lambda: b"\xff"), frozenset({"unsupported-format"})),
        "four-bytes": (_bytes("four.png", lambda: b"\x89PN\x00"), frozenset({"unsupported-format"})),
    }
    for fmt in ("jpeg", "png", "tiff", "bmp", "webp", "pdf", "pdf-text"):
        for keep in (0.05, 0.5, 0.95):
            expect = bad_pdf if fmt.startswith("pdf") else bad_image
            if keep == 0.05:
                expect = expect | {"unsupported-format", "broken-pdf"}
            if keep == 0.95:  # only the trailer may be gone: a file whose pixels are whole reads
                expect = expect | {None}
            cases[f"truncated-{fmt}-{keep}"] = (_bytes(f"cut.{fmt}", _cut(fmt, keep)), expect)
    cases["truncated-zip"] = (_bytes("cut.zip", _cut("zip", 0.5)),
                              frozenset({"unsupported-format"}))
    wrong = {
        "png-magic-on-jpeg": ("jpeg", b"\x89PNG\r\n\x1a\n", bad_image),
        "jpeg-magic-on-png": ("png", b"\xff\xd8\xff", bad_image),
        "tiff-magic-on-png": ("png", b"II*\x00", bad_image),
        "riff-webp-on-bmp": ("bmp", b"RIFF\x00\x00\x00\x00WEBP", bad_image),
        "bmp-magic-on-webp": ("webp", b"BM", bad_image),
        "pdf-magic-on-jpeg": ("jpeg", b"%PDF-1.7\n", frozenset({"broken-pdf"})),
        "bigtiff-magic": ("tiff", b"II+\x00", frozenset({"unsupported-format"})),
        "gif-magic-on-png": ("png", b"GIF89a", frozenset({"unsupported-format"})),
    }
    for name, (fmt, magic, expect) in wrong.items():
        cases[f"wrong-magic-{name}"] = (_bytes(f"{name}.bin", _remagic(fmt, magic)), expect)
    pixels = frozenset({"too-many-pixels"})
    cases |= {
        "huge-png": (_bytes("huge.png", lambda: png_claiming(100_000, 100_000)), pixels),
        "huge-tiff": (_bytes("huge.tif", lambda: tiff_claiming(100_000, 100_000)), pixels),
        "huge-jpeg": (_bytes("huge.jpg", lambda: jpeg_claiming(65_000, 65_000)), pixels),
        "huge-webp": (_bytes("huge.webp", lambda: webp_claiming(16_000, 16_000)),
                      pixels | bad_image),
        "huge-bmp": (_bytes("huge.bmp", lambda: bmp_claiming(100_000, 100_000)), pixels),
        "huge-pdf-page": (_bytes("huge.pdf", lambda: pdf_sized(b"[0 0 9000000 9000000]")), pixels),
        "pdf-page-without-size": (_bytes("nosize.pdf", lambda: pdf_sized(b"[0 0 0 0]")),
                                  bad_pdf),
        "pdf-page-negative-size": (_bytes("neg.pdf", lambda: pdf_sized(b"[0 0 -595 842]")),
                                   bad_pdf),  # pdfium normalises the box, as PDF readers do
        "huge-pdf-image": (_bytes("huge-img.pdf", lambda: pdf_image_claiming(100_000, 100_000)),
                           frozenset({"too-large"})),
        "tiff-5000-frames": (_via("frames.tif", write_many_frame_tiff, frames=5000),
                             frozenset({"too-many-pages"})),
        "tiff-ifd-loop": (_bytes("loop.tif", tiff_ifd_loop), bad_image | {None}),
        "gif-3000-frames": (_bytes("frames.gif", lambda: gif_frames(3000)),
                            frozenset({"unsupported-format"})),
        "webp-600-frames": (_bytes("frames.webp", lambda: webp_frames(600)),
                            frozenset({"too-many-pages"})),
        "pdf-3000-pages": (_bytes("pages.pdf", lambda: pdf_pages(3000)),
                           frozenset({"too-many-pages"})),
        "pdf-count-lies": (_bytes("count.pdf", lambda: pdf_pages(2, count=10**9)), bad_pdf),
        "png-ztxt-bomb": (_bytes("ztxt.png", lambda: png_text_bomb(b"zTXt")),
                          bad_image | {None}),
        "png-iccp-bomb": (_bytes("iccp.png", lambda: png_text_bomb(b"iCCP")),
                          bad_image | {None}),
        "pdf-stream-bomb": (_via("bomb.pdf", write_pdf_stream_bomb),
                            frozenset({"too-large"})),
        "pdf-double-flate-bomb": (_bytes("flate2.pdf", pdf_double_flate_bomb),
                                  frozenset({"too-large"})),
        "pdf-image-flate-bomb": (_bytes("imgbomb.pdf", pdf_image_flate_bomb),
                                 frozenset({"too-large", None})),
        "pdf-encrypted-aes128": (_via("enc.pdf", write_encrypted_pdf),
                                 frozenset({"encrypted-pdf"})),
        "pdf-encrypted-aes256": (_bytes("enc256.pdf", lambda: pdf_encrypted("AES-256")),
                                 frozenset({"encrypted-pdf"})),
        "pdf-encrypted-rc4-40": (_bytes("rc4.pdf", lambda: pdf_encrypted("RC4-40")),
                                 frozenset({"encrypted-pdf"})),
        "pdf-owner-password-only": (_bytes("owner.pdf", lambda: pdf_encrypted("AES-128", "")),
                                    frozenset({None})),
        "pdf-unknown-security-handler": (_bytes("handler.pdf", pdf_unknown_security_handler),
                                         frozenset({"encrypted-pdf", "broken-pdf"})),
        "zip-uploaded-as-scan": (_bytes("scans.zip", lambda: seeds()["zip"]),
                                 frozenset({"unsupported-format"})),
        "text-uploaded-as-scan": (_bytes("a.pdf", lambda: "甲方：某公司\n".encode() * 50),
                                  frozenset({"unsupported-format"})),
    }
    return cases
