"""Render real test scans (and deliberately broken files) for the test suite.

Tests must not depend on sample files: every scan here is drawn with Pillow
and a CJK font from fonts-noto-cjk, so OCR has real Chinese glyphs to read.
"""

from __future__ import annotations

import io
import os
import random
import struct
import subprocess
import zipfile
import zlib
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

A4_150 = (1240, 1754)

_FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
)


@lru_cache(maxsize=1)
def cjk_font_path() -> str:
    """Path of a font with Chinese glyphs (fonts-noto-cjk), found directly or via fontconfig."""
    for cand in _FONT_CANDIDATES:
        if os.path.exists(cand):
            return cand
    try:
        out = subprocess.run(
            ["fc-match", "-f", "%{file}", "Noto Sans CJK SC"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        out = ""
    if out and os.path.exists(out):
        return out
    raise RuntimeError("No CJK font found: install fonts-noto-cjk")


@lru_cache(maxsize=8)
def _font(px: int) -> ImageFont.FreeTypeFont:
    # index 2 of the Noto CJK collection is the Simplified Chinese face
    try:
        return ImageFont.truetype(cjk_font_path(), px, index=2)
    except OSError:
        return ImageFont.truetype(cjk_font_path(), px)


def render_page(
    lines: Sequence[str],
    *,
    size: tuple[int, int] = A4_150,
    dpi: int = 150,
    font_px: int | None = None,
    rotate: int = 0,
    skew: float = 0.0,
    noise: bool = False,
    seal: bool = False,
) -> Image.Image:
    """Draw ``lines`` on a white page like a scanner would deliver it.

    ``font_px`` defaults to about 12 pt at ``dpi``. ``rotate`` (0/90/180/270)
    turns the page as if fed sideways; ``skew`` degrees tilts it slightly;
    ``noise`` adds speckle and blur; ``seal`` stamps a red circular seal.
    The result is RGB when a seal is present, else L, with ``info['dpi']`` set.
    """
    px = font_px or max(16, round(dpi * 12 / 72 * 1.1))
    mode = "RGB" if seal else "L"
    white = (255, 255, 255) if seal else 255
    black = (20, 20, 20) if seal else 20
    img = Image.new(mode, size, white)
    draw = ImageDraw.Draw(img)
    font = _font(px)
    margin = round(size[0] * 0.08)
    y = margin
    for line in lines:
        draw.text((margin, y), line, font=font, fill=black)
        y += round(px * 1.8)
    if seal:
        r = round(size[0] * 0.09)
        cx, cy = size[0] - margin - r, min(size[1] - r - 5, y + r)
        red = (210, 30, 30)
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=red, width=max(3, r // 14))
        star = _font(max(12, r // 2))
        draw.text((cx, cy), "★", font=star, fill=red, anchor="mm")
    if noise:
        rng = random.Random(1234)
        pixels = img.load()
        for _ in range(size[0] * size[1] // 400):
            x, yy = rng.randrange(size[0]), rng.randrange(size[1])
            pixels[x, yy] = (90, 90, 90) if seal else 90
        img = img.filter(ImageFilter.GaussianBlur(0.6))
    if skew:
        img = img.rotate(skew, resample=Image.Resampling.BICUBIC, expand=False, fillcolor=white)
    if rotate % 360:
        img = img.rotate(rotate % 360, expand=True)
    img.info["dpi"] = (dpi, dpi)
    return img


# -- writers for good files -------------------------------------------------------


def _dpi(img: Image.Image) -> tuple[int, int]:
    d = img.info.get("dpi", (150, 150))
    return (round(d[0]), round(d[1]))


def write_jpeg(path: str | os.PathLike[str], img: Image.Image, quality: int = 85) -> Path:
    """Save as a baseline JPEG with its dpi."""
    img.convert("RGB" if img.mode == "RGB" else "L").save(path, "JPEG", quality=quality, dpi=_dpi(img))
    return Path(path)


def write_png(path: str | os.PathLike[str], img: Image.Image) -> Path:
    """Save as PNG with its dpi."""
    img.save(path, "PNG", dpi=_dpi(img))
    return Path(path)


def write_bmp(path: str | os.PathLike[str], img: Image.Image) -> Path:
    """Save as BMP (some old scanners still deliver it)."""
    img.save(path, "BMP", dpi=_dpi(img))
    return Path(path)


def write_webp(path: str | os.PathLike[str], img: Image.Image) -> Path:
    """Save as lossless WebP."""
    img.save(path, "WEBP", lossless=True)
    return Path(path)


def write_tiff(
    path: str | os.PathLike[str], images: Sequence[Image.Image], compression: str = "tiff_lzw"
) -> Path:
    """Save a multi-page TIFF; ``compression`` is tiff_lzw, jpeg, group4 or raw.

    CCITT Group 4 needs bilevel pages, so they are thresholded first.
    """
    pages = list(images)
    if compression == "group4":
        pages = [p.convert("L").point(lambda v: 255 if v > 160 else 0).convert("1") for p in pages]
    elif compression == "jpeg":
        pages = [p.convert("RGB") if p.mode == "RGB" else p.convert("L") for p in pages]
    pages[0].save(
        path,
        "TIFF",
        save_all=True,
        append_images=pages[1:],
        compression=compression,
        dpi=_dpi(images[0]),
    )
    return Path(path)


def write_pdf_image_only(path: str | os.PathLike[str], images: Sequence[Image.Image]) -> Path:
    """A scanner-style PDF: one image per page, no text."""
    pages = [p.convert("RGB") for p in images]
    pages[0].save(path, "PDF", save_all=True, append_images=pages[1:], resolution=_dpi(images[0])[0])
    return Path(path)


def _pdf_string(text: str) -> bytes:
    return b"(" + text.encode("latin-1").replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def build_pdf(objects: list[bytes], *, root: int = 1, trailer_extra: bytes = b"") -> bytes:
    """Assemble numbered objects (1-based) into a PDF with a correct xref table."""
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{i} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for off in offsets:
        out.write(f"{off:010d} 00000 n \n".encode())
    out.write(
        f"trailer\n<< /Size {len(objects) + 1} /Root {root} 0 R ".encode()
        + trailer_extra
        + f">>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return out.getvalue()


def _stream(data: bytes, extra: bytes = b"") -> bytes:
    return b"<< /Length %d " % len(data) + extra + b">>\nstream\n" + data + b"\nendstream"


def text_pdf_bytes(pages: Sequence[Sequence[str]], *, media_box: tuple[int, int] = (595, 842)) -> bytes:
    """A born-digital PDF: real text, ASCII in Helvetica, Chinese in STSong-Light (UTF-16).

    STSong-Light is one of the standard Adobe CJK fonts a reader must supply,
    so nothing is embedded and the file stays tiny, yet pypdf extracts both.
    """
    n = len(pages)
    # 1 catalog, 2 pages, 3 helvetica, 4 stsong, then (page, content) per page
    kids = " ".join(f"{5 + 2 * i} 0 R" for i in range(n))
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {n} >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UTF16-H "
        b"/DescendantFonts [<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light "
        b"/CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 4 >> "
        b"/FontDescriptor << /Type /FontDescriptor /FontName /STSong-Light /Flags 6 "
        b"/FontBBox [-25 -254 1000 880] /ItalicAngle 0 /Ascent 880 /Descent -120 "
        b"/CapHeight 880 /StemV 93 >> /DW 1000 >>] >>",
    ]
    for i, lines in enumerate(pages):
        ops = [b"BT"]
        y = media_box[1] - 72
        for line in lines:
            ops.append(b"1 0 0 1 72 %d Tm" % y)
            if all(ord(c) < 128 for c in line):
                ops.append(b"/F1 12 Tf " + _pdf_string(line) + b" Tj")
            else:
                ops.append(b"/F2 12 Tf <" + line.encode("utf-16-be").hex().encode() + b"> Tj")
            y -= 20
        ops.append(b"ET")
        content = b"\n".join(ops)
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {media_box[0]} {media_box[1]}] "
            f"/Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents {6 + 2 * i} 0 R >>".encode()
        )
        objects.append(_stream(content))
    return build_pdf(objects)


def write_pdf_text_layer(path: str | os.PathLike[str], pages: Sequence[Sequence[str]]) -> Path:
    """Write a born-digital PDF whose text pypdf can extract (see text_pdf_bytes)."""
    Path(path).write_bytes(text_pdf_bytes(pages))
    return Path(path)


# -- builders for bad files --------------------------------------------------------


def write_zero_byte(path: str | os.PathLike[str]) -> Path:
    """An empty file, as left by a failed upload."""
    Path(path).write_bytes(b"")
    return Path(path)


def write_truncated_jpeg(path: str | os.PathLike[str], img: Image.Image | None = None, keep: float = 0.5) -> Path:
    """A JPEG cut off part-way through its scan data (an interrupted copy)."""
    buf = io.BytesIO()
    (img or render_page(["截断的文件"], size=(600, 400))).convert("L").save(buf, "JPEG", quality=90)
    data = buf.getvalue()
    Path(path).write_bytes(data[: int(len(data) * keep)])
    return Path(path)


def write_truncated_png(path: str | os.PathLike[str], keep: float = 0.6) -> Path:
    """A PNG cut off in its IDAT data."""
    buf = io.BytesIO()
    render_page(["截断的文件"], size=(600, 400), noise=True).save(buf, "PNG")
    data = buf.getvalue()
    Path(path).write_bytes(data[: int(len(data) * keep)])
    return Path(path)


def write_corrupt_image(path: str | os.PathLike[str]) -> Path:
    """A PNG whose header is fine but whose compressed pixel data is garbage."""
    rng = random.Random(7)
    garbage = bytes(rng.randrange(256) for _ in range(4000))
    Path(path).write_bytes(_png(400, 300, garbage))
    return Path(path)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _png(width: int, height: int, idat: bytes, bit_depth: int = 8, colour: int = 0) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")


def write_bomb_png(path: str | os.PathLike[str], side: int = 30000) -> Path:
    """A decompression bomb: a PNG header claiming side×side pixels, a few KB on disk.

    The pixel data is the start of a genuinely all-white image, so a decoder
    that ignored the header would happily inflate gigabytes.
    """
    comp = zlib.compressobj(9)
    row = b"\x00" + b"\xff" * side
    data = b"".join(comp.compress(row) for _ in range(64)) + comp.flush()
    Path(path).write_bytes(_png(side, side, data))
    return Path(path)


def write_bomb_pdf(path: str | os.PathLike[str]) -> Path:
    """A PDF whose single page is 200×200 inches: 3.6 gigapixels at 300 dpi."""
    Path(path).write_bytes(text_pdf_bytes([["HUGE PAGE"]], media_box=(14400, 14400)))
    return Path(path)


def write_looping_pdf(path: str | os.PathLike[str], *, with_good_page: bool = True) -> Path:
    """A PDF whose page tree loops: the /Pages node lists itself among its /Kids."""
    from pypdf import PdfWriter
    from pypdf.generic import NameObject, NumberObject

    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    root = writer._root_object
    pages = root["/Pages"]
    kids = pages[NameObject("/Kids")]
    if not with_good_page:
        kids.clear()
    kids.append(root.raw_get("/Pages"))
    pages[NameObject("/Count")] = NumberObject(len(kids) + 1)
    with open(path, "wb") as fh:
        writer.write(fh)
    return Path(path)


def write_many_frame_tiff(path: str | os.PathLike[str], frames: int = 1000,
                          size: tuple[int, int] = (2480, 3508)) -> Path:
    """A small TIFF with many blank A4 frames, all pointing at one Group 4 strip.

    Each frame costs an IFD of about 150 bytes, so 1,000 frames of 300-dpi A4 fit in
    well under 240 KB while decoding to gigabytes.
    """
    buf = io.BytesIO()
    Image.new("1", size, 1).save(buf, format="TIFF", compression="group4")
    with Image.open(io.BytesIO(buf.getvalue())) as one:
        offset, count = one.tag_v2[273][0], one.tag_v2[279][0]
    strip = buf.getvalue()[offset:offset + count]
    w, h = size
    out = bytearray(b"II*\x00" + struct.pack("<I", 0))
    strip_at = len(out)
    out += strip
    if len(out) % 2:
        out += b"\x00"
    res_at = len(out)
    out += struct.pack("<II", 300, 1)
    first_ifd = len(out)
    struct.pack_into("<I", out, 4, first_ifd)
    entries = [(256, 4, w), (257, 4, h), (258, 3, 1), (259, 3, 4), (262, 3, 0),
               (273, 4, strip_at), (277, 3, 1), (278, 4, h), (279, 4, len(strip)),
               (282, 5, res_at), (283, 5, res_at), (296, 3, 2)]
    ifd_size = 2 + 12 * len(entries) + 4
    for i in range(frames):
        start = len(out)
        nxt = start + ifd_size if i < frames - 1 else 0
        out += struct.pack("<H", len(entries))
        for tag, kind, value in entries:
            out += struct.pack("<HHI", tag, kind, 1) + (
                struct.pack("<HH", value, 0) if kind == 3 else struct.pack("<I", value))
        out += struct.pack("<I", nxt)
    Path(path).write_bytes(bytes(out))
    return Path(path)


def zlib_bomb(inflated: int, unit: bytes = b" ", *, raw: bool = False) -> bytes:
    """A zlib stream (``raw``: bare deflate, as in a zip) inflating to ``inflated`` bytes of
    ``unit`` repeated, built in milliseconds: after a full flush the compressor forgets its
    history, so every further megabyte compresses to the same block, repeated here."""
    chunk = unit * ((1 << 20) // len(unit))
    count = max(2, inflated // len(chunk))
    comp = zlib.compressobj(9, zlib.DEFLATED, -15 if raw else 15)
    first = comp.compress(chunk) + comp.flush(zlib.Z_FULL_FLUSH)
    block = comp.compress(chunk) + comp.flush(zlib.Z_FULL_FLUSH)
    if raw:
        return first + block * (count - 1) + comp.flush()
    adler = 1
    for _ in range(count):
        adler = zlib.adler32(chunk, adler)
    return first + block * (count - 1) + comp.flush()[:-4] + struct.pack(">I", adler)


def write_pdf_stream_bomb(path: str | os.PathLike[str], inflated: int = 1 << 30, *,
                          unit: bytes = b" ", pages: int = 1) -> Path:
    """A small PDF whose content stream inflates to ``inflated`` bytes of ``unit`` repeated.

    ``unit`` b" " is empty content (cheap to draw, big to inflate); a drawing operator such
    as b"0 0 1 1 re f\n" makes a page that is costly to render. All ``pages`` share the one
    stream, so the file stays small however many pages draw it.
    """
    data = zlib_bomb(inflated, unit)
    contents = 3 + pages
    kids = " ".join(f"{3 + i} 0 R" for i in range(pages)).encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % pages,
        *[b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents %d 0 R >>" % contents
          for _ in range(pages)],
        _stream(data, b"/Filter /FlateDecode"),
    ]
    Path(path).write_bytes(build_pdf(objects))
    return Path(path)


def write_encrypted_pdf(path: str | os.PathLike[str], user_password: str = "secret") -> Path:
    """A PDF that needs a password to open."""
    from pypdf import PdfReader, PdfWriter

    reader = PdfReader(io.BytesIO(text_pdf_bytes([["Confidential contract 2024"]])))
    writer = PdfWriter()
    for page in reader.pages:
        writer.add_page(page)
    writer.encrypt(user_password=user_password, owner_password="owner-" + user_password, algorithm="AES-128")
    with open(path, "wb") as fh:
        writer.write(fh)
    return Path(path)


def write_owner_only_encrypted_pdf(path: str | os.PathLike[str], lines: Sequence[str]) -> Path:
    """A PDF encrypted with an empty user password (opens without asking, like many scanner PDFs)."""
    from pypdf import PdfReader, PdfWriter

    reader = PdfReader(io.BytesIO(text_pdf_bytes([lines])))
    writer = PdfWriter()
    for page in reader.pages:
        writer.add_page(page)
    writer.encrypt(user_password="", owner_password="owner", algorithm="AES-128")
    with open(path, "wb") as fh:
        writer.write(fh)
    return Path(path)


def write_broken_xref_pdf(path: str | os.PathLike[str], lines: Sequence[str] = ("Broken xref but readable",)) -> Path:
    """A PDF whose xref offsets and startxref are wrong; readers can rebuild it by scanning."""
    data = text_pdf_bytes([lines])
    head, _, _ = data.partition(b"xref\n")
    start = data.index(b"startxref")
    bad_xref = b"xref\n0 3\n0000000000 65535 f \n0000099999 00000 n \n0000088888 00000 n \n"
    tail = data[data.index(b"trailer") : start] + b"startxref\n77777\n%%EOF\n"
    Path(path).write_bytes(head + bad_xref + tail)
    return Path(path)


def write_unrecoverable_pdf(path: str | os.PathLike[str]) -> Path:
    """A file that starts like a PDF but holds no objects at all."""
    rng = random.Random(3)
    Path(path).write_bytes(b"%PDF-1.4\n" + bytes(rng.randrange(256) for _ in range(3000)) + b"\n%%EOF\n")
    return Path(path)


def write_zip(path: str | os.PathLike[str]) -> Path:
    """A ZIP archive (what a .docx is), uploaded by mistake."""
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("word/document.xml", "<w:document>合同</w:document>")
    return Path(path)


def write_text(path: str | os.PathLike[str]) -> Path:
    """A plain text file, uploaded by mistake."""
    Path(path).write_text("甲方：某某公司\n乙方：某某个人\n这不是扫描件。\n", encoding="utf-8")
    return Path(path)


# -- long volumes (benchmarks and memory tests) -------------------------------------


def volume_page_jpegs(distinct: int = 4, *, dpi: int = 300) -> list[tuple[bytes, int, int]]:
    """``distinct`` scanned A4 pages at ``dpi`` as greyscale JPEGs (bytes, width, height).

    Rendering a page costs far more than copying it, so a long volume repeats a few.
    """
    size = (round(8.27 * dpi), round(11.69 * dpi))
    out = []
    for i in range(distinct):
        lines = [f"第{i + 1}卷 租赁合同 编号 2024-{i:04d}", "甲方：某某有限公司 乙方：某某",
                 "本合同自双方签字之日起生效，有效期三年。"] * 6
        img = render_page(lines, size=size, dpi=dpi, skew=0.4)
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=85, dpi=(dpi, dpi))
        out.append((buf.getvalue(), img.width, img.height))
    return out


def write_volume_pdf(path: str | os.PathLike[str], pages: int, *, distinct: int = 4,
                     dpi: int = 300) -> Path:
    """An image-only PDF of ``pages`` scanned pages, each with its own image object (as a
    scanner writes them: nothing shared), streamed to disk so thousands of pages fit."""
    jpegs = volume_page_jpegs(distinct, dpi=dpi)
    w_pt, h_pt = 595, 842
    offsets: list[int] = []
    with open(path, "wb") as out:
        out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")

        def obj(num: int, body: bytes) -> None:
            offsets.append(out.tell())
            assert len(offsets) == num
            out.write(b"%d 0 obj\n" % num + body + b"\nendobj\n")

        kids = b" ".join(b"%d 0 R" % (3 + 3 * i) for i in range(pages))
        obj(1, b"<< /Type /Catalog /Pages 2 0 R >>")
        obj(2, b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % pages)
        for i in range(pages):
            data, w, h = jpegs[i % len(jpegs)]
            page, content, image = 3 + 3 * i, 4 + 3 * i, 5 + 3 * i
            obj(page, b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] /Resources "
                      b"<< /XObject << /Im0 %d 0 R >> >> /Contents %d 0 R >>"
                % (w_pt, h_pt, image, content))
            obj(content, _stream(b"q %d 0 0 %d 0 0 cm /Im0 Do Q" % (w_pt, h_pt)))
            obj(image, _stream(data, b"/Type /XObject /Subtype /Image /Width %d /Height %d "
                                     b"/ColorSpace /DeviceGray /BitsPerComponent 8 "
                                     b"/Filter /DCTDecode " % (w, h)))
        xref = out.tell()
        out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(offsets) + 1))
        for off in offsets:
            out.write(b"%010d 00000 n \n" % off)
        out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n"
                  % (len(offsets) + 1, xref))
    return Path(path)
