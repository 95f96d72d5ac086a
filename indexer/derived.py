"""Files derived from a page: web image, thumbnail, the item's searchable PDF.

All of them can be rebuilt from the original, so they favour size and speed;
they stay in colour because red seals and headers are part of the record.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from indexer.ocr import apply_rotation

WEB_WIDTH = 1600
THUMB_WIDTH = 240


def fit(img: Image.Image, width: int, rotation: float = 0.0) -> Image.Image:
    """Downscale to ``width`` (never up), then apply the page's rotation cheaply at that size."""
    if img.mode not in ("RGB", "L"):
        img = img.convert("RGB")
    # Width after rotation is what must fit; a quarter turn swaps the sides.
    sideways = round(rotation / 90) % 2 == 1
    w = img.height if sideways else img.width
    if w > width:
        scale = width / w
        size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
        # OpenCV's area average: as sharp as Pillow's bicubic at these sizes, about half its CPU.
        info = dict(img.info)
        img = Image.fromarray(cv2.resize(np.asarray(img), size, interpolation=cv2.INTER_AREA))
        img.info = info
    if rotation:
        img = apply_rotation(img, rotation)
    return img.convert("RGB")


def encode_webp(img: Image.Image, quality: int) -> bytes:
    """WebP at effort 2: about half the CPU of the default effort 4 for ~4% more bytes."""
    buf = io.BytesIO()
    img.save(buf, "WEBP", quality=quality, method=2)
    return buf.getvalue()


def page_views(img: Image.Image, rotation: float = 0.0) -> tuple[bytes, bytes]:
    """(web image, thumbnail) of a page; the thumbnail is cut from the web-sized image."""
    web = fit(img, WEB_WIDTH, rotation)
    return encode_webp(web, 80), encode_webp(fit(web, THUMB_WIDTH), 70)


def web_image(img: Image.Image, rotation: float = 0.0, quality: int = 80) -> bytes:
    """WebP for the viewer, at most ~1600 px wide, RGB (keeps red seals)."""
    return encode_webp(fit(img, WEB_WIDTH, rotation), quality)


def thumbnail(img: Image.Image, rotation: float = 0.0, quality: int = 70) -> bytes:
    """WebP thumbnail about 240 px wide for result lists."""
    return encode_webp(fit(img, THUMB_WIDTH, rotation), quality)


def merge_pdf_files(pages: Sequence[str | os.PathLike[str]], dest: str | os.PathLike[str]) -> None:
    """Join one-page PDFs (OCR output or original pages) into ``dest``, streaming.

    qpdf's own page-merging job (``qpdf --empty --pages ... --``, run inside pikepdf): it
    copies each page's streams from its file to the output as it writes and keeps at most
    a few hundred inputs open, so memory stays flat in the number of pages. The in-memory
    pypdf merge it replaces held ~4x the input (535 MB for a 115 MB, 300-page item);
    pikepdf's ``pages.extend`` also copied every stream into memory.
    """
    import pikepdf  # only when a PDF is merged (start-up time)

    if not pages:
        raise ValueError("no pages to merge")
    job = pikepdf.Job(["qpdf", "--empty", "--no-warn", "--warning-exit-0", "--pages",
                       *(os.fspath(p) for p in pages), "--", os.fspath(dest)])
    job.run()  # raises on an unreadable input; warnings (repairs) are not errors
    if job.exit_code != 0:
        raise RuntimeError(f"qpdf page merge failed with exit code {job.exit_code}")


def merge_pdfs(pages: list[bytes]) -> bytes:
    """Join one-page PDFs given as bytes (an export built on request) into one PDF's bytes."""
    with tempfile.TemporaryDirectory(prefix="dangan-merge-") as tmp:
        paths = []
        for i, data in enumerate(pages):
            path = Path(tmp) / f"{i}.pdf"
            path.write_bytes(data)
            paths.append(path)
        dest = Path(tmp) / "merged.pdf"
        merge_pdf_files(paths, dest)
        return dest.read_bytes()


def turn_pdf_page(data: bytes, turn: int) -> bytes:
    """A one-page PDF shown turned ``turn`` degrees clockwise (its /Rotate, content untouched)."""
    from pypdf import PdfReader, PdfWriter

    if turn % 360 == 0:
        return data
    writer = PdfWriter()
    for page in PdfReader(io.BytesIO(data), strict=False).pages:
        writer.add_page(page.rotate(turn))
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()
