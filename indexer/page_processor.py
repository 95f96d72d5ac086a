"""Turn one page of an uploaded file into everything the archive stores for it.

One call per page, so a job queue can spread a long file across all cores
(one process per core; pypdfium2 and Tesseract are used in this process only).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from PIL import Image

from indexer.derived import page_views, turn_pdf_page
from indexer.document import Limits, open_document
from indexer.errors import IngestError
from indexer.messages import N_, msg
from indexer.ocr import ocr_image


@dataclass
class PageResult:
    """Text, word boxes and derived files of one page (source "ocr" or "textlayer")."""

    page_no: int
    source: str
    text: str
    words: list[dict] = field(repr=False)
    confidence: float
    rotation: float
    width: int
    height: int
    web_webp: bytes = field(repr=False)
    thumb_webp: bytes = field(repr=False)
    pdf: bytes = field(repr=False)


def _dpi(img: Image.Image) -> int:
    d = img.info.get("dpi") or (300, 300)
    return max(70, min(1200, round(float(d[0]))))


def _turned(img: Image.Image, turn: int) -> Image.Image:
    """The page image turned ``turn`` degrees clockwise (PIL turns counter-clockwise)."""
    return img.rotate(-turn, expand=True) if turn % 360 else img


def process_page(
    path: str | os.PathLike[str],
    page_no: int,
    *,
    fmt: str | None = None,
    timeout: float | None = 120,
    lang: str = "chi_sim+eng",
    turn: int = 0,
) -> PageResult:
    """Process page ``page_no`` (1-based) of the file at ``path``.

    A PDF page that already carries text (born digital, or OCR'd before) keeps
    its text and original page; anything else is OCR'd. ``fmt``, when given,
    must match the sniffed format (a guard against a mixed-up queue entry).
    ``turn`` (0, 90, 180, 270) turns the page clockwise first: the archivist's correction
    of a page scanned the wrong way round, recorded over the unaltered original.
    Raises IngestError for a bad file or an OCR timeout.
    """
    with open_document(path, validate=False) as doc:
        if fmt is not None and fmt != doc.format:
            raise IngestError("unsupported-format", msg(
                N_("文件格式与登记不符（登记为 %(recorded)s，实际为 %(found)s）。请重新上传。"),
                recorded=fmt, found=doc.format))
        text = doc.page_text_layer(page_no)
        if text is not None:
            img = _turned(doc.page_image(page_no, dpi=150), turn)  # only for the previews
            pdf = doc.page_pdf(page_no)
            assert pdf is not None
            pdf = turn_pdf_page(pdf, turn)
            web, thumb = page_views(img)
            return PageResult(
                page_no=page_no,
                source="textlayer",
                text=text,
                words=[],
                confidence=100.0,
                rotation=0.0,
                width=img.width,
                height=img.height,
                web_webp=web,
                thumb_webp=thumb,
                pdf=pdf,
            )
        img = _turned(doc.page_image(page_no), turn)
    result = ocr_image(img, lang=lang, dpi=_dpi(img), timeout=timeout)
    # Derived images follow the same correction as the word boxes, done at web size (cheap).
    web, thumb = page_views(img, result.rotation)
    return PageResult(
        page_no=page_no,
        source="ocr",
        text=result.text,
        words=result.words,
        confidence=result.confidence,
        rotation=result.rotation,
        width=result.width,
        height=result.height,
        web_webp=web,
        thumb_webp=thumb,
        pdf=result.pdf,
    )


@dataclass(frozen=True)
class FileCount:
    """What an upload needs to know of a file before storing it."""

    format: str
    pages: int
    decoded_bytes: int


def measure(path: str | os.PathLike[str], limits: Limits | None = None) -> FileCount:
    """Count pages and decoded bytes from the file's structure, within ``limits``.

    Nothing is decoded for a multi-page file (its pages are read by the page workers,
    where a bad page fails on its own); a single image page is decoded to prove it reads,
    which the pixel cap keeps bounded. A PDF page is never drawn here: what drawing costs
    is not bounded by its bytes (a few MiB of operators can take pdfium seconds and
    gigabytes even at 20 dpi), so a page that does not draw fails in its page worker.
    Raises IngestError for a file that cannot be ingested or breaks a limit.
    """
    with open_document(path, validate=False, limits=limits, measure_streams=True) as doc:
        if doc.page_count == 1 and doc.format != "pdf":
            doc.check_page(1)
        return FileCount(doc.format, doc.page_count, doc.decoded_bytes)


def count_pages(path: str | os.PathLike[str], limits: Limits | None = None) -> tuple[str, int]:
    """(format, page count) of a file, checked as `measure` does."""
    counted = measure(path, limits)
    return counted.format, counted.pages
