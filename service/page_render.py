"""Page images and thumbnails drawn for the reader who asked, in the one page-image path.

A 机密 page is shown only at a reading-room workstation, and every image of it carries the
reader's name and the time (access.needs_watermark), drawn here per request and never
cached, so a photograph of the screen names who read it and when.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont
from sqlalchemy.orm import Session

from .access import Who, may_cache, needs_watermark, reader_of
from .archive import Archive
from .errors import N_, NotFound
from .items import get_page, openable_item
from .pdfdoc import cjk_font


@dataclass(frozen=True)
class PageView:
    """A page image or thumbnail as this reader gets it: the stored object `key` streamed as
    it is, or `data` drawn for this request (never cached)."""

    key: str | None
    data: bytes | None
    cache: bool


def page_view(archive: Archive, session: Session, who: Who, item_id: int, n: int,
              kind: str = "image") -> PageView:
    """The page image (`kind` "image") or thumbnail ("thumb") of page `n`, only of an item
    the reader may open (access.may_open, else PermissionDenied saying why)."""
    reader = reader_of(who)
    page = get_page(openable_item(session, reader, item_id), n)
    key = page.image_key if kind == "image" else page.thumb_key
    if not key:
        raise NotFound(N_("第 %(n)s 页还没有图像。"), n=n)
    if needs_watermark(page.item):
        mark = watermark_text(reader.name, reader.at, reader.workstation)
        return PageView(key=None, data=watermark(archive.store.read_bytes(key), mark),
                        cache=False)
    return PageView(key=key, data=None, cache=may_cache(reader, page.item))

#: How strongly the mark shows: dark enough to be read in a photograph, light enough to read
#: the page through.
_INK = (200, 30, 30, 110)


@lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.FreeTypeFont:
    path, index = cjk_font("")
    return ImageFont.truetype(path, size=size, index=index)


def watermark_text(name: str, at: datetime, workstation: str | None = None) -> str:
    """The words drawn on the page: who, when (to the minute, UTC) and where."""
    place = f" {workstation}" if workstation else ""
    return f"{name} {at.strftime('%Y-%m-%d %H:%M')} UTC{place}"


def watermark(data: bytes, text: str) -> bytes:
    """The image `data` with `text` tiled across it diagonally (WebP, as the stored views)."""
    with Image.open(io.BytesIO(data)) as src:
        base = src.convert("RGBA")
    w, h = base.size
    size = max(10, min(w, h) // 18)
    font = _font(size)
    left, top, right, bottom = font.getbbox(text)
    tw, th = int(right - left) + size, int(bottom - top) + size
    tile = Image.new("RGBA", (tw, th), (0, 0, 0, 0))
    ImageDraw.Draw(tile).text((size // 2 - left, size // 2 - top), text, font=font, fill=_INK)
    tile = tile.rotate(30, expand=True)
    layer = Image.new("RGBA", base.size, (0, 0, 0, 0))
    step_x, step_y = tile.width, max(1, int(tile.height * 0.8))
    rows = math.ceil(h / step_y) + 1
    for row in range(-1, rows):
        shift = (row % 2) * step_x // 2
        for x in range(-step_x, w + step_x, step_x):
            layer.paste(tile, (x + shift, row * step_y), tile)
    out = io.BytesIO()
    Image.alpha_composite(base, layer).convert("RGB").save(out, format="WEBP", quality=80)
    return out.getvalue()
