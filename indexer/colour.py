"""Keeping colour in the searchable PDF when a page has it (red seals, red headers).

Tesseract reads a greyscale page. For a page with colour the searchable PDF's image is the
colour scan instead (indexer.textlayer lays the invisible text over it), so the electronic
copy shows the seal as it is.
"""

from __future__ import annotations

from PIL import Image

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
