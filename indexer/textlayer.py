"""The searchable PDF of a page: the scan as the image, our own invisible text laid over it.

Tesseract's PDF renderer writes every recognised "word" as its own text object, and for
Chinese every character is a word, so PDF viewers extract "客户 分 类 的 主要 内 容": Ctrl+F
does not find "分类" and copied text is full of spaces. We write the text layer ourselves
from the page's normalised words (the same text that is indexed and shown), the way
OCRmyPDF does for its renderers:

* one text run per line, CJK characters not separated by spaces, Latin words by one;
* the run horizontally scaled (``Tz``) so that it covers the line box on the scan, with
  CJK/full-width characters one em wide and the others half an em, so the characters of a
  line fall where they are printed;
* invisible ink (``Tr 3``) in Tesseract's one-glyph "GlyphLessFont" (``pdf.ttf``, shipped
  with Tesseract) as a ``Type0``/``Identity-H`` font whose ToUnicode CMap maps each code to
  the same Unicode code point, so any viewer extracts exactly the text we wrote.

The PDF objects are built with pikepdf; the image page comes from Pillow (JPEG inside).
"""

from __future__ import annotations

import io
import os
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pikepdf
from pikepdf import ContentStreamInstruction, Dictionary, Name, Object, Operator, Pdf
from PIL import Image

from indexer.tesseract import tesseract_cmd
from indexer.wordboxes import lines_of

#: Resource name of the text layer's font on every page we write.
FONT_RESOURCE = Name("/FDanganOCR")
#: Our name for it: pages Tesseract wrote carry its own GlyphLessFont with other widths.
FONT_NAME = Name("/DanganGlyphLess")
#: Advance of a half-width character (Latin letters, digits, spaces) in 1/1000 em.
NARROW = 500
WIDE = 1000
#: Code points below U+3000 that CJK text sets one em wide: curly quotes, dashes, ellipsis.
_WIDE_PUNCT = (0x2014, 0x2015, 0x2018, 0x2019, 0x201C, 0x201D, 0x2026, 0x2030, 0x203B)

_TOUNICODE = b"""/CIDInit /ProcSet findresource begin
12 dict begin
begincmap
/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def
/CMapName /Adobe-Identity-UCS def
/CMapType 2 def
1 begincodespacerange
<0000> <FFFF>
endcodespacerange
1 beginbfrange
<0000> <FFFF> <0000>
endbfrange
endcmap
CMapName currentdict /CMap defineresource pop
end
end
"""


def char_width(ch: str) -> int:
    """Advance of one character of the text layer, in 1/1000 em (what the font's W says)."""
    cp = ord(ch)
    return WIDE if cp >= 0x3000 or cp in _WIDE_PUNCT else NARROW


def _widths() -> list:
    """The CIDFont's W array: code = Unicode code point (Identity-H), wide from U+3000 on."""
    w: list = []
    for cp in _WIDE_PUNCT:
        w += [cp, [WIDE]]
    return [*w, 0x3000, 0xFFFF, WIDE]


@lru_cache(maxsize=1)
def glyphless_font_file() -> bytes:
    """Tesseract's GlyphLessFont (pdf.ttf) from its tessdata folder."""
    candidates = []
    if os.environ.get("TESSDATA_PREFIX"):
        candidates.append(Path(os.environ["TESSDATA_PREFIX"]))
    try:
        out = subprocess.run([tesseract_cmd(), "--list-langs"], capture_output=True, text=True,
                             timeout=30, check=False)
        m = re.search(r'"([^"]+)"', out.stdout + out.stderr)
        if m:
            candidates.append(Path(m.group(1)))
    except OSError:
        pass
    for d in candidates:
        for path in (d / "pdf.ttf", d / "tessdata" / "pdf.ttf"):
            if path.is_file():
                return path.read_bytes()
    raise FileNotFoundError("Tesseract's pdf.ttf was not found next to its language data")


def _font(pdf: Pdf) -> pikepdf.Object:
    """The Type0 font of the text layer, added to ``pdf``."""
    descriptor = pdf.make_indirect(Dictionary(
        Type=Name.FontDescriptor, FontName=FONT_NAME, Flags=5, FontBBox=[0, 0, NARROW, WIDE],
        ItalicAngle=0, Ascent=WIDE, Descent=0, CapHeight=WIDE, StemV=80,
        FontFile2=pdf.make_stream(glyphless_font_file())))
    cid_font = pdf.make_indirect(Dictionary(
        Type=Name.Font, Subtype=Name.CIDFontType2, BaseFont=FONT_NAME,
        CIDSystemInfo=Dictionary(Registry="Adobe", Ordering="Identity", Supplement=0),
        FontDescriptor=descriptor, DW=NARROW, W=_widths(),
        # every code shows the font's one (empty) glyph
        CIDToGIDMap=pdf.make_stream(b"\x00\x01" * 65536)))
    return pdf.make_indirect(Dictionary(
        Type=Name.Font, Subtype=Name.Type0, BaseFont=FONT_NAME, Encoding=Name("/Identity-H"),
        DescendantFonts=[cid_font], ToUnicode=pdf.make_stream(_TOUNICODE)))


def _bmp(text: str) -> str:
    """Identity-H codes are two bytes: characters beyond the BMP become U+FFFD."""
    return "".join(c if ord(c) <= 0xFFFF else "\ufffd" for c in text)


@dataclass(frozen=True)
class _Run:
    text: str
    x: float
    baseline: float
    size: float
    scale: float


def _runs(words: list[dict], width_px: int, height_px: int, page_w: float, page_h: float,
          transform: Callable[[str], str] | None) -> list[_Run]:
    sx, sy = page_w / width_px, page_h / height_px
    lines = lines_of(words)
    texts = [line.text for line in lines]
    if transform is not None:
        joined = transform("\n".join(texts))
        split = joined.split("\n")
        if len(split) == len(texts) and all(len(a) == len(b) for a, b in zip(split, texts,
                                                                               strict=True)):
            texts = split
        else:  # a transform that does not keep lengths: apply it line by line
            texts = [transform(t) for t in texts]
    runs = []
    for line, text in zip(lines, texts, strict=True):
        text = _bmp(text)
        em = sum(char_width(c) for c in text) / 1000
        size = line.h * sy
        if not text or em <= 0 or size <= 0 or line.w <= 0:
            continue
        runs.append(_Run(text, line.x * sx, page_h - (line.y + line.h) * sy, size,
                         100.0 * line.w * sx / (em * size)))
    return runs


def _text_instructions(runs: list[_Run], font: Name) -> list[ContentStreamInstruction]:
    def op(name: str, *operands: Object | float) -> ContentStreamInstruction:
        return ContentStreamInstruction(list(operands), Operator(name))

    out = [op("q"), op("BT"), op("Tr", 3)]
    for r in runs:
        out += [op("Tf", font, round(r.size, 3)), op("Tz", round(r.scale, 3)),
                op("Tm", 1, 0, 0, 1, round(r.x, 3), round(r.baseline, 3)),
                op("Tj", pikepdf.String(r.text.encode("utf-16-be")))]
    return [*out, op("ET"), op("Q")]


def _page_font(pdf: Pdf, page: pikepdf.Page) -> Name:
    """The resource name of our font on ``page``, adding the font when the page has none."""
    fonts = page.obj.get("/Resources", Dictionary()).get("/Font", Dictionary())
    for name, font in fonts.items():
        if font.get("/BaseFont") == FONT_NAME:
            return Name(name)
    return page.add_resource(_font(pdf), Name.Font, FONT_RESOURCE)


def add_text_layer(pdf: Pdf, page: pikepdf.Page, words: list[dict], width_px: int,
                   height_px: int, transform: Callable[[str], str] | None = None) -> None:
    """Lay the invisible text of ``words`` (boxes in a ``width_px``×``height_px`` image that
    fills the page) over ``page``; ``transform`` rewrites the text first (e.g. masking,
    which must keep its length so characters stay on their place)."""
    if not words or width_px <= 0 or height_px <= 0:
        return
    box = [float(v) for v in page.mediabox]
    runs = _runs(words, width_px, height_px, box[2] - box[0], box[3] - box[1], transform)
    if not runs:
        return
    font = _page_font(pdf, page)
    page.contents_add(pdf.make_stream(pikepdf.unparse_content_stream(
        _text_instructions(runs, font))), prepend=False)


def _strip_text(pdf: Pdf, page: pikepdf.Page) -> None:
    """Remove every text object (BT … ET) from the page's content, keeping everything else."""
    kept = []
    inside = False
    for instr in pikepdf.parse_content_stream(page):
        name = str(instr.operator)
        if name == "BT":
            inside = True
        elif name == "ET":
            inside = False
        elif not inside:
            kept.append(instr)
    page.obj.Contents = pdf.make_stream(pikepdf.unparse_content_stream(kept))


def searchable_page(image: Image.Image, words: list[dict], dpi: int, *,
                    quality: int = 75) -> bytes:
    """One-page PDF: ``image`` (colour or grey, JPEG) with the invisible text of ``words``.

    The word boxes must be in the pixel coordinates of ``image``.
    """
    buf = io.BytesIO()
    mode = "L" if image.mode in ("1", "L", "LA", "I", "I;16") else "RGB"
    image.convert(mode).save(buf, "PDF", resolution=float(dpi), quality=quality)
    with Pdf.open(io.BytesIO(buf.getvalue())) as pdf:
        add_text_layer(pdf, pdf.pages[0], words, image.width, image.height)
        out = io.BytesIO()
        pdf.save(out, compress_streams=True)
    return out.getvalue()


def retext_page(page_pdf: bytes, words: list[dict], width_px: int, height_px: int,
                transform: Callable[[str], str]) -> bytes:
    """A page written by :func:`searchable_page` with its text layer rebuilt through
    ``transform`` (e.g. personal data masked); the image stays as it is."""
    with Pdf.open(io.BytesIO(page_pdf)) as pdf:
        page = pdf.pages[0]
        _strip_text(pdf, page)
        add_text_layer(pdf, page, words, width_px, height_px, transform)
        out = io.BytesIO()
        pdf.save(out, compress_streams=True)
    return out.getvalue()


def page_pdf_image(page_pdf: bytes, width_px: int) -> Image.Image:
    """The one-page PDF drawn `width_px` wide (a page written by :func:`searchable_page`
    comes back at its image's size, where its word boxes fit)."""
    import pypdfium2 as pdfium  # only when a page is rendered (start-up time)

    doc = pdfium.PdfDocument(page_pdf)
    try:
        page = doc[0]
        img = page.render(scale=width_px / page.get_width()).to_pil()
    finally:
        doc.close()
    return img.convert("RGB")


def image_only_page(page_pdf: bytes, dpi: int = 200, quality: int = 75) -> bytes:
    """The page rendered to an image without any text (for a born-digital page whose own
    text must not be handed out)."""
    import pypdfium2 as pdfium  # only when a page is rendered (start-up time)

    doc = pdfium.PdfDocument(page_pdf)
    try:
        img = doc[0].render(scale=dpi / 72).to_pil()
    finally:
        doc.close()
    buf = io.BytesIO()
    img.convert("RGB").save(buf, "PDF", resolution=float(dpi), quality=quality)
    return buf.getvalue()
