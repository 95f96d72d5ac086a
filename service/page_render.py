"""Page images and thumbnails drawn for the reader who asked, in the one page-image path.

A 机密 page is shown only at a reading-room workstation, and every image of it carries the
reader's name and the time (access.needs_watermark), drawn here per request and never
cached, so a photograph of the screen names who read it and when.

Personal data: for a reader without the privacy right (access.can_see_personal), a page
whose text shows a resident ID or mobile number (service.privacy) is drawn with a filled box
over the word box of every OCR word holding a masked character, per request and never
cached. A page showing such a number that no word box locates (a born-digital page read from
its own text layer) is not shown to them as an image at all. The searchable PDF they
download is drawn the same way, its text layer masked (`masked_download`).
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont
from sqlalchemy.orm import Session

from indexer.derived import encode_webp, merge_pdfs
from indexer.textlayer import page_pdf_image, searchable_page

from .access import Who, can_see_personal, may_cache, needs_watermark, reader_of
from .archive import Archive
from .audit_actions import AuditAction
from .errors import N_, NotFound, PermissionDenied
from .items import get_page, openable_item, record_access
from .models import ArchiveItem, Page, StoredFile
from .pdfdoc import cjk_font
from .privacy import holds_personal, masked_words, personal_spans
from .vocab import PageStatus


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
    the reader may open (access.may_open, else PermissionDenied saying why). A page image
    is audited in `session` (the caller commits)."""
    reader = reader_of(who)
    page = get_page(openable_item(session, reader, item_id), n)
    key = page.image_key if kind == "image" else page.thumb_key
    if not key:
        raise NotFound(N_("第 %(n)s 页还没有图像。"), n=n)
    if kind == "image":  # thumbnails (a result list's dozens) are not recorded one by one
        record_access(session, who, AuditAction.PAGE_VIEW, page.item, {"page": n})
    covered = needs_covering(reader, page)
    if needs_watermark(page.item) or covered:
        data = archive.store.read_bytes(key)
        if covered:
            data = cover_personal(data, page)
        if needs_watermark(page.item):
            data = watermark(data, watermark_text(reader.name, reader.at, reader.workstation))
        return PageView(key=None, data=data, cache=False)
    # a page showing personal data has two pictures under one address: cache neither
    return PageView(key=key, data=None,
                    cache=may_cache(reader, page.item) and not holds_personal(page.text))

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


# ----------------------------------------------------------------- personal data covered

#: The colour of the boxes drawn over personal data.
FILL = (0, 0, 0)
#: Pixels (in the page's OCR coordinates) added around each word box, so the ink at a box's
#: edge (and a word box a pixel short) is covered too.
PAD = 3


def covered_words(words: list[dict]) -> list[dict]:
    """The OCR words holding a character that masking hides, in page coordinates.

    The words are read as one text (a space between words) with the rule the page text is
    masked with, so a number split over several words (138 1234 5678) is found whole.
    """
    spans: list[tuple[int, int]] = []
    pos = 0
    texts = [str(w.get("t", "")) for w in words]
    for t in texts:
        spans.append((pos, pos + len(t)))
        pos += len(t) + 1
    hidden = personal_spans(" ".join(texts))
    if not hidden:
        return []
    out, k = [], 0
    for w, (start, end) in zip(words, spans, strict=True):
        while k < len(hidden) and hidden[k] < start:
            k += 1
        if k < len(hidden) and hidden[k] < end:
            out.append(w)
    return out


def cover_boxes(words: list[dict], page_width: int, page_height: int,
                size: tuple[int, int]) -> list[tuple[int, int, int, int]]:
    """The filled boxes (x0, y0, x1, y1, inclusive) on an image of `size` drawn from a page
    whose OCR coordinates are `page_width` × `page_height`."""
    sx, sy = size[0] / page_width, size[1] / page_height
    out = []
    for w in words:
        x0 = max(0, int((w["x"] - PAD) * sx))
        y0 = max(0, int((w["y"] - PAD) * sy))
        x1 = min(size[0] - 1, math.ceil((w["x"] + w["w"] + PAD) * sx))
        y1 = min(size[1] - 1, math.ceil((w["y"] + w["h"] + PAD) * sy))
        out.append((x0, y0, x1, y1))
    return out


def cover(img: Image.Image, boxes: list[tuple[int, int, int, int]]) -> Image.Image:
    """The image with the boxes filled."""
    out = img.convert("RGB")
    draw = ImageDraw.Draw(out)
    for box in boxes:
        draw.rectangle(box, fill=FILL)
    return out


def needs_covering(who: Who, page: Page) -> bool:
    """Whether the stored image of this page may not be shown to `who` as it is."""
    return not can_see_personal(who) and holds_personal(page.text)


def page_boxes(page: Page, size: tuple[int, int]) -> list[tuple[int, int, int, int]]:
    """Boxes to fill on an image of `size` of this page; refused when its personal data
    cannot be located on the image."""
    words = covered_words(page.words or [])
    if not words or not page.width or not page.height:
        raise PermissionDenied(N_("本页含有身份证号或手机号，但无法在图像上定位遮盖，因此不向没有个人信息查看权限的用户显示图像；请阅读下方已遮盖的文字，或请有权限的人员查阅。"))
    return cover_boxes(words, page.width, page.height, size)


def cover_personal(data: bytes, page: Page) -> bytes:
    """The stored image `data` of this page with its personal data covered (WebP)."""
    with Image.open(io.BytesIO(data)) as img:
        img.load()
        drawn = cover(img, page_boxes(page, img.size))
    return encode_webp(drawn, 80)


def masked_download(archive: Archive, who: Who, f: StoredFile) -> bytes | None:
    """The searchable PDF as this reader may have it, when that differs from the stored
    file: for a reader without the privacy right, `masked_searchable_pdf`; None means the
    stored file may be handed out as it is."""
    if f.role != "searchable_pdf" or can_see_personal(who):
        return None
    return masked_searchable_pdf(archive, f.item_id)


def masked_searchable_pdf(archive: Archive, item_id: int) -> bytes | None:
    """The item's searchable PDF for users without the privacy right, or None when no page
    shows personal data (the stored file is the answer).

    A page showing personal data is drawn again from its stored page PDF with the boxes
    filled and its text layer written from the masked words; the other pages are kept as
    they are. Refused when a page's personal data has no word box to cover it.
    """
    with archive.session() as s:
        item = s.get_one(ArchiveItem, item_id)
        pages = [(p.pdf_key, p.text, p.words or [], p.width, p.height, p.source)
                 for p in item.pages if p.status == PageStatus.DONE and p.pdf_key]
    if not any(holds_personal(text) or covered_words(words) for _, text, words, *_ in pages):
        return None
    out: list[bytes] = []
    for key, text, words, width, height, _source in pages:
        data = archive.store.read_bytes(key)
        covered = covered_words(words)
        if holds_personal(text) or covered:
            if not covered or not width or not height:
                raise PermissionDenied(N_("本件有页面含有身份证号或手机号，但无法在图像上定位遮盖，因此不能向没有个人信息查看权限的用户提供可检索PDF；请在页面上查看已遮盖的文字，或请有权限的人员处理。"))
            img = page_pdf_image(data, width)
            dpi = max(1, round(72 * img.width / _pdf_width(data)))
            img = cover(img, cover_boxes(covered, width, height, img.size))
            scale = img.width / width
            data = searchable_page(img, [_scaled(w, scale) for w in masked_words(words)], dpi)
        out.append(data)
    return merge_pdfs(out)


def _scaled(word: dict, scale: float) -> dict:
    return {**word, **{k: round(word[k] * scale) for k in ("x", "y", "w", "h") if k in word}}


def _pdf_width(page_pdf: bytes) -> float:
    from pypdf import PdfReader  # only when a PDF is rebuilt (start-up time)

    return float(PdfReader(io.BytesIO(page_pdf), strict=False).pages[0].mediabox.width)
