"""OCR one page image with Tesseract: text, word boxes and a searchable PDF.

Cost matters more than anything else here (OCR is the archive's bottleneck),
so Tesseract runs once per page and produces text and TSV together; the page's PDF
is written from those word boxes (indexer.textlayer), and the corrections around it
are cheap numpy work on a downscaled copy:

* small skew is measured with a projection profile and removed before OCR
  (a 5 degree skew costs several points of recall);
* only when the first pass looks bad (low confidence, few words) does OSD run
  to catch a sideways or upside-down page, and the page is read again. (A
  profile test for sideways pages was tried: with square CJK glyphs on a grid,
  row and column profiles are too alike to tell reliably.)

The engine stays loaded in the worker between pages (indexer.engine); only OSD, for the
few pages that need it, runs the `tesseract` command. OMP_THREAD_LIMIT=1 is always set: we
run one process per core, and OpenMP threads inside Tesseract make a page several times
slower on few cores.
"""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from indexer.colour import has_colour
from indexer.engine import TesseractFailed, recognise
from indexer.errors import ingest_error
from indexer.pageprep import (
    FORM_DOWNSCALE_TOLERANCE,
    FORM_LINE_HEIGHT,
    fade_grey_seals,
    grey_without_seals,
    prepare,
)
from indexer.regions import fade_pattern, find_cards
from indexer.tables import collage, find_grid, words_to_page
from indexer.tesseract import tesseract_cmd
from indexer.textlayer import searchable_page
from indexer.textnorm import normalize_text
from indexer.wordboxes import join_words, relayout_cjk_lines

LOW_CONFIDENCE = 60.0  # a first pass below this mean word confidence triggers OSD
MIN_WORDS = 5
#: Below this mean confidence the page's layout analysis probably failed (a sparse page such
#: as an ID copy or a short form): read it once more as one column of text (--psm 4).
RELAYOUT_CONFIDENCE = 80.0
SKEW_RANGE = 8.0  # degrees searched either side of level
MIN_SKEW = 0.15  # below this a rotation costs more than it gains
#: Below LOW_DPI resampling blurs strokes only 2–3 px wide, so a page is turned only from
#: LOW_DPI_MIN_SKEW (measured: a 200-dpi contract deskewed by 0.3 degrees read 6.0% CER
#: instead of 4.5%; at 300 dpi a 0.4 degree deskew still pays, 1.83% → 0.91%).
LOW_DPI = 250
LOW_DPI_MIN_SKEW = 0.5


@dataclass
class OcrResult:
    """What OCR found on one page, in the coordinates of the corrected page image."""

    text: str
    words: list[dict]
    confidence: float
    rotation: float
    pdf: bytes
    width: int
    height: int
    # The greyscale page Tesseract read (after rotation); colour derivatives use
    # apply_rotation(original, rotation) instead, on a downscaled copy.
    image: Image.Image | None = field(default=None, repr=False, compare=False)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["OMP_THREAD_LIMIT"] = "1"
    return env


# -- geometry -------------------------------------------------------------------------


def apply_rotation(img: Image.Image, rotation: float) -> Image.Image:
    """Rotate ``img`` counter-clockwise by ``rotation`` degrees the way ocr_image did.

    The nearest quarter turn is exact (transpose, size swaps); the remainder is a
    small deskew that keeps the size. Applying the same to a downscaled copy gives
    the downscaled corrected page, so derived images match the word boxes.
    """
    quarter = round(rotation / 90) * 90
    small = rotation - quarter
    q = quarter % 360
    if q == 90:
        img = img.transpose(Image.Transpose.ROTATE_90)
    elif q == 180:
        img = img.transpose(Image.Transpose.ROTATE_180)
    elif q == 270:
        img = img.transpose(Image.Transpose.ROTATE_270)
    if abs(small) >= 0.01:
        # OpenCV's bilinear warp: the same pixels as Pillow's bilinear rotate to within half
        # a grey level (the same CER on the samples) at a quarter of its CPU.
        if img.mode not in ("L", "RGB"):
            img = img.convert("RGB")
        arr = np.asarray(img)
        matrix = cv2.getRotationMatrix2D((img.width / 2, img.height / 2), small, 1.0)
        fill = 255 if arr.ndim == 2 else (255,) * arr.shape[2]
        out = cv2.warpAffine(arr, matrix, (img.width, img.height), flags=cv2.INTER_LINEAR,
                             borderMode=cv2.BORDER_CONSTANT, borderValue=fill)
        info = dict(img.info)
        img = Image.fromarray(out)
        img.info = info
    return img


def _ink(grey: Image.Image, target: int = 800) -> np.ndarray:
    """Boolean ink mask of a copy downscaled to about ``target`` px on the long side."""
    factor = max(1, round(max(grey.size) / target))
    small = grey.reduce(factor) if factor > 1 else grey
    a = np.asarray(small, dtype=np.uint8)
    # Threshold relative to the page's paper level: robust to grey paper, only for estimation.
    paper = np.percentile(a, 90)
    return a < paper * 0.6


def _profile_score(ys: np.ndarray, xs: np.ndarray, height: int, angles: np.ndarray) -> np.ndarray:
    """Sharpness of the row profile after shearing by each angle (higher = lines aligned)."""
    scores = np.empty(len(angles))
    tans = np.tan(np.radians(angles))
    span = height + int(abs(xs).max() * abs(tans).max()) + 2 if len(xs) else height
    for i, t in enumerate(tans):
        rows = np.round(ys + xs * t).astype(np.int64) + span // 2
        hist = np.bincount(np.clip(rows, 0, 2 * span), minlength=2 * span + 1).astype(np.float64)
        d = np.diff(hist)
        scores[i] = float(np.dot(d, d))
    return scores


def estimate_skew(grey: Image.Image, min_skew: float = MIN_SKEW) -> float:
    """Skew in degrees to rotate counter-clockwise, from a projection profile of a small copy."""
    ink = _ink(grey)
    ys, xs = np.nonzero(ink)
    if len(ys) < 200:
        return 0.0
    if len(ys) > 60000:  # subsample: the estimate needs shape, not every pixel
        step = len(ys) // 60000 + 1
        ys, xs = ys[::step], xs[::step]
    ys = ys.astype(np.float64)
    xs = xs.astype(np.float64) - ink.shape[1] / 2
    coarse = np.arange(-SKEW_RANGE, SKEW_RANGE + 0.01, 0.5)
    s = _profile_score(ys, xs, ink.shape[0], coarse)
    best = coarse[int(np.argmax(s))]
    fine = np.arange(best - 0.5, best + 0.51, 0.1)
    sf = _profile_score(ys, xs, ink.shape[0], fine)
    angle = float(fine[int(np.argmax(sf))])
    # Shearing rows by +angle aligns text tilted by -angle; PIL rotates counter-clockwise.
    return -angle if abs(angle) >= min_skew else 0.0


# -- Tesseract ------------------------------------------------------------------------


def _run(args: list[str], deadline: float | None) -> subprocess.CompletedProcess[bytes]:
    timeout = None
    if deadline is not None:
        timeout = deadline - time.monotonic()
        if timeout <= 0:
            raise ingest_error("ocr-timeout")
    try:
        # subprocess.run kills Tesseract when the timeout expires
        proc = subprocess.run(args, capture_output=True, timeout=timeout, env=_env(), check=False)
    except subprocess.TimeoutExpired as exc:
        raise ingest_error("ocr-timeout", f"> {timeout:.0f} s") from exc
    if proc.returncode != 0:
        raise TesseractFailed(
            f"tesseract failed ({proc.returncode}): {proc.stderr.decode(errors='replace')[-500:]}"
        )
    return proc


def _write_input(grey: Image.Image, tmp: Path) -> Path:
    """PGM: no compression cost here, and Tesseract embeds it in the PDF as JPEG."""
    path = tmp / "page.pgm"
    grey.save(path, "PPM")
    return path


def detect_orientation(grey: Image.Image, *, dpi: int = 300, deadline: float | None = None) -> int:
    """Degrees (0/90/180/270) Tesseract's OSD says the page must turn clockwise; 0 if unsure."""
    with tempfile.TemporaryDirectory(prefix="ocr-osd-") as d:
        src = _write_input(grey, Path(d))
        try:
            proc = _run([tesseract_cmd(), str(src), "-", "--psm", "0", "--dpi", str(dpi), "-l", "osd"], deadline)
        except RuntimeError:
            return 0  # "Too few characters" and friends: keep the page as it is
    out = proc.stdout.decode(errors="replace")
    m = re.search(r"Rotate:\s*(\d+)", out)
    c = re.search(r"Orientation confidence:\s*([\d.]+)", out)
    if not m:
        return 0
    if c and float(c.group(1)) < 1.0:
        return 0
    return int(m.group(1)) % 360


@dataclass
class _Pass:
    text: str
    words: list[dict]
    confidence: float


def _parse_tsv(tsv: str) -> tuple[list[dict], float]:
    words: list[dict] = []
    confs: list[float] = []
    lines: dict[str, tuple[int, int, int, int]] = {}
    reader = csv.reader(io.StringIO(tsv), delimiter="\t", quoting=csv.QUOTE_NONE)
    header = next(reader, None)
    if not header:
        return words, 0.0
    for row in reader:
        if len(row) >= 10 and row[0] == "4":
            lines[f"{row[2]}.{row[3]}.{row[4]}"] = (int(row[6]), int(row[7]), int(row[8]),
                                                    int(row[9]))
            continue
        if len(row) < 12 or row[0] != "5":
            continue
        text = normalize_text(row[11])
        if not text:
            continue
        conf = float(row[10])
        words.append(
            {
                "t": text,
                "x": int(row[6]),
                "y": int(row[7]),
                "w": int(row[8]),
                "h": int(row[9]),
                "c": round(conf, 1),
                "l": f"{row[2]}.{row[3]}.{row[4]}",
            }
        )
        confs.append(conf)
    words = relayout_cjk_lines(words, lines)
    return words, (float(np.mean(confs)) if confs else 0.0)


def _tesseract_pass(grey: Image.Image, lang: str, dpi: int, deadline: float | None,
                    psm: int | None = None) -> _Pass:
    """One recognition of ``grey`` as it is (text, TSV words, mean confidence), by the engine
    this process keeps loaded (indexer.engine)."""
    raw, tsv = recognise(grey, lang, dpi, deadline, psm)
    words, conf = _parse_tsv(tsv)
    return _Pass(normalize_text(raw), words, conf)


def _read_layout(grey: Image.Image, lang: str, dpi: int, deadline: float | None) -> _Pass:
    """Read ``grey`` as laid out; a page whose layout analysis probably failed (low
    confidence: a sparse page such as a short form) is read once more as one column of
    text (--psm 4) and the better pass kept."""
    result = _tesseract_pass(grey, lang, dpi, deadline)
    if result.confidence < RELAYOUT_CONFIDENCE:
        single_column = _tesseract_pass(grey, lang, dpi, deadline, psm=4)
        if single_column.confidence > result.confidence:
            result = single_column
    return result


def _with_cards(grey: Image.Image, cards: list[tuple[int, int, int, int]], lang: str, dpi: int,
                deadline: float | None) -> _Pass:
    """Read the page without its card copies, then each card on its own (indexer.regions),
    and put each card's lines where the card sits in the page's reading order."""
    arr = np.asarray(grey)
    rest = arr.copy()
    paper = np.median(arr[::4, ::4])  # white boxes on grey paper would upset binarisation
    for x, y, w, h in cards:
        rest[y:y + h, x:x + w] = paper
    page = _read_layout(Image.fromarray(rest), lang, dpi, deadline)
    blocks: list[tuple[int, list[dict]]] = []
    for i, (x, y, w, h) in enumerate(cards):
        card = _tesseract_pass(Image.fromarray(fade_pattern(arr[y:y + h, x:x + w])), lang, dpi,
                               deadline, psm=11)
        card_words = [{**wd, "x": wd["x"] + x, "y": wd["y"] + y, "l": f"card{i}.{wd['l']}"}
                      for wd in card.words]
        blocks.append((y, card_words))
    words: list[dict] = []
    pending = sorted(blocks, key=lambda b: b[0])
    line_top: dict[str, int] = {}
    for wd in page.words:
        line_top.setdefault(wd["l"], wd["y"])
    for wd in page.words:
        while pending and pending[0][0] < line_top[wd["l"]] and (
                not words or words[-1]["l"] != wd["l"]):
            words.extend(pending.pop(0)[1])
        words.append(wd)
    for _, rest_words in pending:
        words.extend(rest_words)
    text = "\n".join(line_texts(words).values())
    confs = [wd["c"] for wd in words]
    return _Pass(text, words, float(np.mean(confs)) if confs else 0.0)


def _read(page: Image.Image, lang: str, dpi: int, deadline: float | None) -> _Pass:
    """Read an upright page the way its pixels call for (indexer.pageprep, indexer.regions);
    the words' boxes are on ``page``."""
    prep = prepare(page, dpi)
    arr = np.asarray(prep.image)
    cards = find_cards(arr)
    grid = None if cards else find_grid(arr, prep.dpi)
    if grid is not None and prep.dpi != dpi:
        # A ruled form scaled down for its text size: its cells are read nearer their own
        # size (pageprep.FORM_LINE_HEIGHT), paid by forms only.
        prep = prepare(page, dpi, line_target=FORM_LINE_HEIGHT,
                       downscale_tolerance=FORM_DOWNSCALE_TOLERANCE)
        arr = np.asarray(prep.image)
        grid = find_grid(arr, prep.dpi)
    if cards:
        result = _with_cards(prep.image, cards, lang, prep.dpi, deadline)
    elif grid is not None:
        # A ruled form: its rows as lines of cells, read line by line (indexer.tables).
        rebuilt, pieces = collage(arr, grid, gap=max(20, prep.dpi // 8))
        result = _tesseract_pass(Image.fromarray(rebuilt), lang, prep.dpi, deadline, psm=4)
        result.words = words_to_page(result.words, pieces)
    else:
        result = _read_layout(prep.image, lang, prep.dpi, deadline)
    result.words = prep.to_page(result.words, page.width, page.height)
    return result


def line_texts(words: list[dict]) -> dict[str, str]:
    """Text of each line from TSV words: CJK joined without spaces, Latin with one."""
    lines: dict[str, str] = {}
    for w in words:
        lines[w["l"]] = join_words(lines.get(w["l"], ""), w["t"])
    return lines


def _looks_bad(p: _Pass) -> bool:
    return len(p.words) < MIN_WORDS or p.confidence < LOW_CONFIDENCE


def to_grey(img: Image.Image) -> Image.Image:
    """Greyscale for OCR (a page with colour goes through pageprep.grey_without_seals)."""
    if img.mode == "L":
        return img
    if img.mode != "RGB":
        img = img.convert("RGB")
    return img.convert("L")


def ocr_image(
    img: Image.Image,
    *,
    lang: str = "chi_sim+eng",
    dpi: int = 300,
    timeout: float | None = 120,
    keep_colour: bool = True,
) -> OcrResult:
    """OCR a page image: correct orientation and skew, run Tesseract once, return everything.

    Raises IngestError("ocr-timeout") when Tesseract exceeds ``timeout`` seconds
    (in total across passes); Tesseract is killed.
    """
    deadline = time.monotonic() + timeout if timeout else None
    colour = keep_colour and has_colour(img)
    if colour:
        grey = grey_without_seals(img, dpi)[0]
    else:
        grey = Image.fromarray(fade_grey_seals(np.asarray(to_grey(img)), dpi)[0])
    min_skew = MIN_SKEW if dpi >= LOW_DPI else LOW_DPI_MIN_SKEW
    skew = estimate_skew(grey, min_skew)
    rotation = skew
    page = apply_rotation(grey, skew) if skew else grey
    result = _read(page, lang, dpi, deadline)
    if _looks_bad(result):
        cw = detect_orientation(page, dpi=dpi, deadline=deadline)
        if cw:
            quarter = (-cw) % 360
            turned = apply_rotation(grey, quarter)
            skew2 = estimate_skew(turned, min_skew)
            page2 = apply_rotation(turned, skew2) if skew2 else turned
            second = _read(page2, lang, dpi, deadline)
            if second.confidence >= result.confidence or len(second.words) > len(result.words):
                result, page, rotation = second, page2, float(quarter) + skew2
    # The scan itself is the PDF's image: in colour where it has colour (seals, red
    # headers), otherwise the grey page Tesseract read; both have the word boxes' size.
    pdf = searchable_page(apply_rotation(img, rotation) if colour else page, result.words, dpi)
    rotation = rotation % 360
    if rotation > 180:
        rotation -= 360
    return OcrResult(
        text=result.text,
        words=result.words,
        confidence=round(result.confidence, 1),
        rotation=round(rotation, 2),
        pdf=pdf,
        width=page.width,
        height=page.height,
        image=page,
    )
