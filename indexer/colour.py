"""Keeping colour in the searchable PDF when a page has it (red seals, red headers).

Tesseract reads a greyscale page and, by default, embeds that grey image in its PDF. For a
page with colour we ask it for the invisible text layer only (`textonly_pdf=1`, same single
run) and lay that over the colour scan, so the electronic copy shows the seal as it is.
"""

from __future__ import annotations

import io

from PIL import Image
from pypdf import PdfReader, PdfWriter

#: A pixel counts as coloured above this HSV saturation (0–255); scanner noise stays below.
SATURATION = 90
#: …and the page as coloured when at least this share of its pixels is (a seal is ~0.3–2%).
MIN_SHARE = 0.0008


def has_colour(img: Image.Image) -> bool:
    """True when a page carries real colour, judged on a small copy (a few ms)."""
    if img.mode not in ("RGB", "RGBA", "P", "CMYK"):
        return False
    factor = max(1, min(img.size) // 400)
    small = (img.reduce(factor) if img.mode in ("RGB", "RGBA") else img).convert("RGB")
    saturation = small.convert("HSV").getchannel("S")
    hist = saturation.histogram()
    coloured = sum(hist[SATURATION:])
    return coloured >= MIN_SHARE * small.width * small.height


def compose_colour_pdf(text_only_pdf: bytes, colour_page: Image.Image, dpi: int,
                       quality: int = 75) -> bytes:
    """One-page PDF: the colour image (JPEG) with Tesseract's invisible text laid over it.

    `colour_page` must have the size of the image Tesseract read, at the same dpi, so the
    two pages have the same size and the text sits on the glyphs.
    """
    buf = io.BytesIO()
    colour_page.convert("RGB").save(buf, "PDF", resolution=float(dpi), quality=quality)
    writer = PdfWriter()
    base = writer.add_page(PdfReader(io.BytesIO(buf.getvalue())).pages[0])
    base.merge_page(PdfReader(io.BytesIO(text_only_pdf)).pages[0])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
