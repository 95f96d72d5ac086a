"""Prepare a page image for Tesseract from what its pixels show, and map boxes back.

Archives hold more than clean 300-dpi scans: contracts with a red seal over the text, phone
photos of a page (perspective, a shadow, the desk around it), 200-dpi faxes. Each needs
something different before recognition, decided here from the page itself (OpenCV):

* red seals: inside a seal's box the red channel is used, where red ink is as bright as
  paper and black text under it stays dark; red header text (wide, not round) is kept;
* photos: the page's four corners are found against the background and the perspective
  is undone; uneven light is divided out (background estimated by a large blur);
* text size: the page is scaled down so that text lines have the height Tesseract reads
  best (ordinary print at 300 dpi and oversized photos: better and cheaper); small print
  and low-resolution faxes are left as they are (upscaling read worse).

Every geometric change is one 3×3 matrix, so word boxes found on the prepared image are
mapped back to the page the viewer shows (``Prepared.to_page``).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

# One process per core runs pages (as OMP_THREAD_LIMIT=1 for Tesseract): no thread pools.
cv2.setNumThreads(1)

#: Height in pixels of a text line (glyph ink) that Tesseract's chi_sim+eng reads best. Its
#: LSTM scales every line to a fixed height anyway; reading larger print costs more and reads
#: worse (measured on clean 300-dpi A4 pages whose lines measure 44–54 px: CER 0.62% as they
#: are, 0.26–0.34% scaled to 26–30 px, and 25% less Tesseract CPU).
TARGET_LINE_HEIGHT = 28.0
#: Scale only when the measured height is off by more than this factor (resampling costs
#: a little accuracy and CPU for nothing when text is near the target).
SCALE_TOLERANCE = 1.3
#: Text taller than this factor times the target is scaled down to the target.
DOWNSCALE_TOLERANCE = 1.15
#: A ruled form's cells are read at their own size unless very large (the earlier rule):
#: scaled to 28 px lines, the sample forms read a little worse (CER 10.5% → 10.9%).
FORM_LINE_HEIGHT = 40.0
FORM_DOWNSCALE_TOLERANCE = 2.0
MAX_UPSCALE = 1.0  # measured: upscaling 200-dpi faxes read worse (see bench)
#: A seal is a red blob about as high as wide, at least this big (inches).
SEAL_MIN_INCHES = 0.5
SEAL_ASPECT = (0.5, 2.0)
#: Inside a red seal, red-channel values at least this share of the paper's become paper.
SEAL_LIGHT = 0.75
#: A seal is faded only when text lies under it: this share of its box is dark in the red
#: channel (black ink; red ink is light there).
SEAL_TEXT_SHARE = 0.005
DARK_INK = 110
#: A grey seal's radius in inches (official seals are 38–45 mm across; copies shrink).
SEAL_RADIUS = (0.45, 1.1)
#: Share of a grey seal's ring that must carry ink, and its ink's least grey level (text is
#: near black; a copied red seal is mid-grey). Ink lighter than SEAL_FADE × that level is
#: faded inside the seal.
SEAL_RING_COVER = 0.75
SEAL_MIN_LEVEL = 90
SEAL_FADE = 0.8
#: A photographed page covers at least this share of the frame and leaves some background.
PAGE_MIN_SHARE = 0.25
PAGE_MAX_SHARE = 0.97


@dataclass
class Prepared:
    """The grey image to read, its effective dpi, and the map back to the page's pixels."""

    image: Image.Image
    dpi: int
    #: 3×3 matrix taking a point of ``image`` to the page the boxes must be reported on.
    back: np.ndarray
    steps: tuple[str, ...] = ()

    def to_page(self, words: list[dict], width: int, height: int) -> list[dict]:
        """Words with boxes moved from the prepared image to the page (clipped to it)."""
        if np.allclose(self.back, np.eye(3)) or not words:
            return words
        # All corners of all boxes in one call (a page has hundreds of words).
        x0 = np.array([w["x"] for w in words], dtype=np.float64)
        y0 = np.array([w["y"] for w in words], dtype=np.float64)
        x1 = x0 + np.array([w["w"] for w in words], dtype=np.float64)
        y1 = y0 + np.array([w["h"] for w in words], dtype=np.float64)
        pts = np.stack([np.stack([x0, y0], 1), np.stack([x1, y0], 1), np.stack([x1, y1], 1),
                        np.stack([x0, y1], 1)], 1)  # (words, 4, 2)
        mapped = cv2.perspectiveTransform(pts.reshape(1, -1, 2), self.back).reshape(-1, 4, 2)
        lo = np.clip(mapped.min(axis=1), 0, [width - 1, height - 1])
        hi = np.clip(mapped.max(axis=1), 0, [width, height])
        nx0, ny0 = np.round(lo[:, 0]).astype(int), np.round(lo[:, 1]).astype(int)
        nw = np.maximum(1, np.round(hi[:, 0] - lo[:, 0]).astype(int))
        nh = np.maximum(1, np.round(hi[:, 1] - lo[:, 1]).astype(int))
        return [{**w, "x": int(a), "y": int(b), "w": int(c), "h": int(d)}
                for w, a, b, c, d in zip(words, nx0, ny0, nw, nh, strict=True)]


# -- colour ---------------------------------------------------------------------------


def _red_mask(rgb: np.ndarray) -> np.ndarray:
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)
    h, s, v = hsv[..., 0], hsv[..., 1], hsv[..., 2]
    return ((h <= 12) | (h >= 165)) & (s >= 60) & (v >= 70)


def seal_boxes(rgb: np.ndarray, dpi: float) -> list[tuple[int, int, int, int]]:
    """Boxes (x, y, w, h) of red, roughly round blobs: seals, not red header lines."""
    factor = 4
    small = cv2.resize(rgb, (rgb.shape[1] // factor, rgb.shape[0] // factor),
                       interpolation=cv2.INTER_AREA)
    mask: np.ndarray = _red_mask(small).astype(np.uint8)
    if mask.sum() == 0:
        return []
    mask = cv2.dilate(mask, np.ones((5, 5), np.uint8))
    n, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    least = SEAL_MIN_INCHES * dpi / factor
    boxes = []
    for x, y, w, h, _area in stats[1:n]:
        if w >= least and h >= least and SEAL_ASPECT[0] <= w / h <= SEAL_ASPECT[1]:
            pad = 2
            boxes.append(((x - pad) * factor, (y - pad) * factor, (w + 2 * pad) * factor,
                          (h + 2 * pad) * factor))
    return boxes


def grey_without_seals(img: Image.Image, dpi: float) -> tuple[Image.Image, int]:
    """Greyscale page with red seals faded to paper; (image, number of seals removed)."""
    rgb = np.asarray(img.convert("RGB"))
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    boxes = seal_boxes(rgb, dpi)
    paper = np.uint8(np.percentile(grey[::8, ::8], 90)) if boxes else 255
    faded = 0
    for x, y, w, h in boxes:
        x0, y0 = max(0, x), max(0, y)
        region = rgb[y0:y + h, x0:x + w]
        if (region[..., 0] < DARK_INK).mean() < SEAL_TEXT_SHARE:
            # Nothing printed under the seal: Tesseract passes it by, and fading it only
            # changed the layout analysis of one clean sample page (a line read elsewhere).
            continue
        faded += 1
        # Red channel: red ink is nearly as light as the paper there, black and blue ink stay
        # dark, and so does black text under the seal (dark red in colour: not erased).
        red = region[..., 0]
        grey[y0:y + h, x0:x + w] = np.where(red >= SEAL_LIGHT * paper, paper, red)
    return Image.fromarray(grey), faded


def grey_seals(grey: np.ndarray, dpi: float) -> list[tuple[int, int, int, float]]:
    """Round seals on a greyscale scan: (x, y, radius, ink level) of each.

    A seal copied in grey is a ring (Hough circle) of ink lighter than the text: along
    nearly every ray its band holds ink, and that ink is mid-grey, not black.
    """
    factor = max(1.0, dpi / 50)
    small = cv2.resize(grey, (round(grey.shape[1] / factor), round(grey.shape[0] / factor)),
                       interpolation=cv2.INTER_AREA)
    r_min, r_max = round(SEAL_RADIUS[0] * dpi / factor), round(SEAL_RADIUS[1] * dpi / factor)
    found = cv2.HoughCircles(cv2.medianBlur(small, 3), cv2.HOUGH_GRADIENT, dp=1,
                             minDist=2 * r_min, param1=80, param2=25,
                             minRadius=r_min, maxRadius=r_max)
    if found is None:
        return []
    paper = float(np.percentile(grey[::8, ::8], 90))
    angles = np.linspace(0, 2 * np.pi, 90, endpoint=False)

    def band(x: float, y: float, r: float, lo: float, hi: float) -> np.ndarray:
        """Darkest full-resolution pixel along each ray between lo·r and hi·r."""
        radii = np.linspace(lo, hi, max(4, round((hi - lo) * r * factor / 2)))
        xs = np.clip((x * factor + np.outer(np.cos(angles), radii * r * factor)).round()
                     .astype(int), 0, grey.shape[1] - 1)
        ys = np.clip((y * factor + np.outer(np.sin(angles), radii * r * factor)).round()
                     .astype(int), 0, grey.shape[0] - 1)
        return grey[ys, xs].min(axis=1).astype(np.float64)

    seals = []
    for x, y, r in found[0][:6]:
        ring = band(x, y, r, 0.88, 1.08)
        outside = band(x, y, r, 1.2, 1.4)
        inked = ring < paper - 35
        level = float(np.median(ring[inked])) if inked.any() else 0.0
        beyond = float((outside < paper - 35).mean())
        if (inked.mean() >= SEAL_RING_COVER and inked.mean() - beyond >= 0.3
                and level >= SEAL_MIN_LEVEL):
            seals.append((round(x * factor), round(y * factor), round(r * factor), level))
    return seals


def fade_grey_seals(grey: np.ndarray, dpi: float) -> tuple[np.ndarray, int]:
    """Inside each grey seal, ink as light as the seal's becomes paper; text stays."""
    seals = grey_seals(grey, dpi)
    if not seals:
        return grey, 0
    out = grey.copy()
    paper = np.uint8(np.percentile(grey[::8, ::8], 90))
    yy, xx = np.ogrid[: grey.shape[0], : grey.shape[1]]
    for x, y, r, level in seals:
        y0, y1, x0, x1 = max(0, y - r - 4), y + r + 5, max(0, x - r - 4), x + r + 5
        disc = (yy[y0:y1] - y) ** 2 + (xx[:, x0:x1] - x) ** 2 <= (r * 1.1) ** 2
        region = out[y0:y1, x0:x1]
        region[disc & (region >= level * SEAL_FADE)] = paper
    return out, len(seals)


# -- photos ---------------------------------------------------------------------------


def _order_corners(pts: np.ndarray) -> np.ndarray:
    """Top-left, top-right, bottom-right, bottom-left."""
    s = pts.sum(axis=1)
    d = np.diff(pts, axis=1).ravel()
    return np.array([pts[np.argmin(s)], pts[np.argmin(d)], pts[np.argmax(s)], pts[np.argmax(d)]],
                    dtype=np.float32)


def page_corners(grey: np.ndarray) -> np.ndarray | None:
    """The four corners of a photographed page lighter than its background, else None.

    The page's outline is found among edges (Canny) rather than by thresholding brightness:
    a shadow across the page would cut a brightness mask along the shadow's edge.
    """
    factor = max(1.0, max(grey.shape) / 1000)
    small = cv2.resize(grey, (round(grey.shape[1] / factor), round(grey.shape[0] / factor)),
                       interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (5, 5), 0)
    edges = cv2.dilate(cv2.Canny(small, 20, 60), np.ones((3, 3), np.uint8))
    contours, _ = cv2.findContours(edges, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    hull = cv2.convexHull(max(contours, key=lambda c: cv2.contourArea(cv2.convexHull(c))))
    share = cv2.contourArea(hull) / (small.shape[0] * small.shape[1])
    if not PAGE_MIN_SHARE <= share <= PAGE_MAX_SHARE:
        return None
    quad = cv2.approxPolyDP(hull, 0.02 * cv2.arcLength(hull, True), True)
    if len(quad) != 4:
        return None
    # The background must really be darker than the page (not a white margin cut by noise).
    mask = np.zeros_like(small)
    cv2.fillConvexPoly(mask, quad.reshape(4, 2), 255)
    outside = small[mask == 0]
    if outside.size == 0 or np.median(small[mask > 0]) - np.median(outside) < 40:
        return None
    return _order_corners(quad.reshape(4, 2).astype(np.float32) * factor)


def unwarp_matrix(corners: np.ndarray) -> tuple[np.ndarray, tuple[int, int]]:
    """Homography taking the photo's page quad to an upright rectangle, and its size."""
    tl, tr, br, bl = corners
    w = round(max(np.linalg.norm(tr - tl), np.linalg.norm(br - bl)))
    h = round(max(np.linalg.norm(bl - tl), np.linalg.norm(br - tr)))
    dst = np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], dtype=np.float32)
    return cv2.getPerspectiveTransform(corners, dst), (w, h)


def flatten_light(grey: np.ndarray, line_height: float) -> np.ndarray:
    """Divide out uneven lighting: the paper's brightness estimated where no ink is."""
    k = max(15, int(line_height * 1.5) | 1)
    factor = 4
    small = cv2.resize(grey, (grey.shape[1] // factor, grey.shape[0] // factor),
                       interpolation=cv2.INTER_AREA)
    # Closing removes dark ink thinner than the kernel; a blur smooths what is left.
    bg = cv2.morphologyEx(small, cv2.MORPH_CLOSE,
                          cv2.getStructuringElement(cv2.MORPH_RECT, (k // factor | 1,) * 2))
    bg = cv2.GaussianBlur(bg, (0, 0), sigmaX=k / factor)
    bg = cv2.resize(bg, (grey.shape[1], grey.shape[0]), interpolation=cv2.INTER_LINEAR)
    out = cv2.divide(grey, np.maximum(bg, 1), scale=255)
    return out


# -- text size ------------------------------------------------------------------------


def line_height(grey: np.ndarray) -> float | None:
    """Median height in pixels of the page's text lines (glyph ink), None on a blank page.

    Characters of a line are smeared together horizontally on a small binarised copy and
    the height of the resulting line blobs is measured; tables' ruling lines and pictures
    fall outside the plausible range and are ignored.
    """
    factor = 2 if max(grey.shape) > 1800 else 1
    small = grey[::factor, ::factor]
    ink = cv2.adaptiveThreshold(small, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV,
                                31, 15)
    # Remove long straight rules first: they would join lines into one tall blob.
    ink = ink & ~_rules(ink, 40)
    smear = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, np.ones((1, 9), np.uint8))
    n, _, stats, _ = cv2.connectedComponentsWithStats(smear, connectivity=8)
    if n < 2:
        return None
    w, h = stats[1:, cv2.CC_STAT_WIDTH], stats[1:, cv2.CC_STAT_HEIGHT]
    keep = (h >= 4) & (h <= 80 // factor * 4) & (w >= 2 * h)
    if keep.sum() < 5:
        return None
    return float(np.median(h[keep])) * factor


def _rules(ink: np.ndarray, length: int) -> np.ndarray:
    """Long horizontal and vertical lines of a binary ink image."""
    horiz = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((1, length), np.uint8))
    vert = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((length, 1), np.uint8))
    return cv2.bitwise_or(horiz, vert)


# -- the whole preparation ------------------------------------------------------------


def prepare(grey_img: Image.Image, dpi: int, *, line_target: float = TARGET_LINE_HEIGHT,
            downscale_tolerance: float = DOWNSCALE_TOLERANCE) -> Prepared:
    """Decide from the pixels what this page needs and return the image to read; text lines
    taller than ``downscale_tolerance`` × ``line_target`` px are scaled to ``line_target``."""
    grey = np.asarray(grey_img.convert("L"))
    back = np.eye(3)
    steps: list[str] = []
    corners = page_corners(grey)
    if corners is not None:
        warp, (w, h) = unwarp_matrix(corners)
        grey = cv2.warpPerspective(grey, warp, (w, h), flags=cv2.INTER_LINEAR,
                                   borderMode=cv2.BORDER_REPLICATE)
        back = back @ np.linalg.inv(warp)
        steps.append("unwarp")
    height = line_height(grey)
    if corners is not None:
        grey = flatten_light(grey, height or 30.0)
        steps.append("flatten")
    scale = 1.0
    if height:
        ratio = line_target / height
        if ratio > SCALE_TOLERANCE or ratio < 1 / downscale_tolerance:
            scale = min(MAX_UPSCALE, ratio)
    if scale != 1.0:
        size = (round(grey.shape[1] * scale), round(grey.shape[0] * scale))
        grey = cv2.resize(grey, size,
                          interpolation=cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA)
        back = back @ np.diag([1 / scale, 1 / scale, 1.0])
        steps.append(f"scale {scale:.2f}")
    return Prepared(Image.fromarray(grey), max(70, round(dpi * scale)), back, tuple(steps))
