"""Hard pages of the kinds archives hold, drawn for the tests (never the sample folders):
a contract with a red seal over its text, a ruled registration form, an ID-card copy,
a skewed photo of a page with uneven light, a 200-dpi fax.  Each carries the numbers
users search for (dates, phone and ID numbers, KH- and HT- numbers, amounts).
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

from PIL import Image, ImageDraw, ImageFilter
from scanfactory import _font

A4 = {150: (1240, 1754), 200: (1654, 2339), 300: (2480, 3508)}


def _page(dpi: int, mode: str = "RGB") -> tuple[Image.Image, ImageDraw.ImageDraw]:
    img = Image.new(mode, A4[dpi], "white")
    return img, ImageDraw.Draw(img)


def _px(dpi: int, pt: float = 12) -> int:
    return round(dpi * pt / 72 * 1.1)


def _lines(draw: ImageDraw.ImageDraw, lines: Sequence[str], x: int, y: int, px: int,
           fill: int | tuple[int, int, int] = 20) -> int:
    font = _font(px)
    for line in lines:
        draw.text((x, y), line, font=font, fill=fill)
        y += round(px * 1.8)
    return y


def seal(img: Image.Image, centre: tuple[int, int], r: int, text: str) -> None:
    """A red round company seal (ring, star, ring text) stamped over what is there."""
    layer = Image.new("RGBA", img.size, (0, 0, 0, 0))
    d = ImageDraw.Draw(layer)
    red = (220, 30, 40, 200)
    cx, cy = centre
    d.ellipse((cx - r, cy - r, cx + r, cy + r), outline=red, width=max(4, r // 14))
    d.text((cx, cy), "★", font=_font(max(12, r // 2)), fill=red, anchor="mm")
    f = _font(max(12, r // 5))
    n = len(text)
    for i, ch in enumerate(text):
        a = math.radians(-150 + 300 * i / max(1, n - 1)) - math.pi / 2
        d.text((cx + 0.72 * r * math.cos(a), cy + 0.72 * r * math.sin(a)), ch, font=f,
               fill=red, anchor="mm")
    img.paste(layer, (0, 0), layer)


def contract_with_seal(lines: Sequence[str], sealed_line: int, dpi: int = 300) -> Image.Image:
    """A contract page; a red seal is stamped over line ``sealed_line`` (its right half)."""
    img, d = _page(dpi)
    px = _px(dpi)
    margin = round(img.width * 0.08)
    _lines(d, lines, margin, margin, px, fill=(20, 20, 20))
    y = margin + round(px * 1.8) * sealed_line + px // 2
    seal(img, (round(img.width * 0.62), y), round(img.width * 0.11), "某某有限公司合同专用章")
    img.info["dpi"] = (dpi, dpi)
    return img


def ruled_form(title: str, rows: Sequence[tuple[str, str]], dpi: int = 300) -> Image.Image:
    """A registration form: a ruled table of label | value cells, values filled in."""
    img, d = _page(dpi, "L")
    px = _px(dpi)
    margin = round(img.width * 0.08)
    d.text((img.width // 2, margin), title, font=_font(round(px * 1.5)), fill=10, anchor="mt")
    top = margin + px * 4
    row_h = round(px * 2.6)
    split = margin + round((img.width - 2 * margin) * 0.3)
    right = img.width - margin
    font = _font(px)
    for i, (label, value) in enumerate(rows):
        y = top + i * row_h
        d.text((margin + px // 2, y + row_h // 2), label, font=font, fill=15, anchor="lm")
        d.text((split + px // 2, y + row_h // 2), value, font=font, fill=40, anchor="lm")
    bottom = top + len(rows) * row_h
    for i in range(len(rows) + 1):
        d.line((margin, top + i * row_h, right, top + i * row_h), fill=0, width=3)
    for x in (margin, split, right):
        d.line((x, top, x, bottom), fill=0, width=3)
    img.info["dpi"] = (dpi, dpi)
    return img


def id_card_copy(fields: Sequence[str], note: Sequence[str], dpi: int = 300) -> Image.Image:
    """A photocopied ID card (85.6 x 54 mm, grey, rounded) on an A4 page, small print."""
    img, d = _page(dpi, "L")
    w, h = round(85.6 / 25.4 * dpi), round(54 / 25.4 * dpi)
    x0, y0 = round(img.width * 0.15), round(img.height * 0.12)
    d.rounded_rectangle((x0, y0, x0 + w, y0 + h), radius=dpi // 10, fill=225, outline=90,
                        width=3)
    d.rectangle((x0 + round(w * 0.68), y0 + round(h * 0.15), x0 + round(w * 0.94),
                 y0 + round(h * 0.72)), fill=175)  # the photo
    px = round(dpi * 8 / 72)  # small print, about 8 pt
    _lines(d, fields, x0 + px, y0 + px, px, fill=25)
    _lines(d, note, x0, y0 + h + px * 3, _px(dpi), fill=20)
    img.info["dpi"] = (dpi, dpi)
    return img


def phone_photo(lines: Sequence[str], dpi: int = 200) -> Image.Image:
    """A phone photo of a page: tilted, a little perspective, light falling off to one
    side, JPEG-soft; declared at the resolution its pixels have."""
    img, d = _page(dpi, "L")
    px = _px(dpi, 13)
    _lines(d, lines, round(img.width * 0.1), round(img.height * 0.08), px)
    w, h = img.size
    # perspective: the top edge a little narrower than the bottom
    k = 0.03 * w
    coeffs = _perspective([(k, 0), (w - k, 0), (w, h), (0, h)], [(0, 0), (w, 0), (w, h), (0, h)])
    img = img.transform((w, h), Image.Transform.PERSPECTIVE, coeffs,
                        Image.Resampling.BICUBIC, fillcolor=120)
    img = img.rotate(2.5, resample=Image.Resampling.BICUBIC, fillcolor=120)
    shade = Image.linear_gradient("L").rotate(90).resize((w, h))  # dark on one side
    img = Image.composite(img, Image.new("L", (w, h), 0),
                          shade.point(lambda v: 195 + v * 60 // 255))
    img = img.filter(ImageFilter.GaussianBlur(0.7))
    img.info["dpi"] = (dpi, dpi)
    return img


def fax_200dpi(lines: Sequence[str]) -> Image.Image:
    """A 200-dpi fax: black and white, speckled, a header line."""
    dpi = 200
    img, d = _page(dpi, "L")
    px = _px(dpi)
    _lines(d, lines, round(img.width * 0.08), round(img.height * 0.05), px)
    rng = random.Random(7)
    pix = img.load()
    for _ in range(img.width * img.height // 900):
        pix[rng.randrange(img.width), rng.randrange(img.height)] = 0
    img = img.point(lambda v: 0 if v < 150 else 255).convert("1")
    img.info["dpi"] = (dpi, dpi)
    return img


def _perspective(src: Sequence[tuple[float, float]],
                 dst: Sequence[tuple[float, float]]) -> list[float]:
    """Coefficients for Image.transform(PERSPECTIVE) mapping ``dst`` corners to ``src``."""
    import numpy as np

    rows = []
    for (x, y), (u, v) in zip(dst, src, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
    a = np.array(rows, dtype=float)
    b = np.array([c for p in src for c in p], dtype=float)
    return list(np.linalg.solve(a, b))
