"""Ruled tables and forms: find the grid, drop its lines, read the cells row by row.

Tesseract's layout analysis reads a ruled form column by column or breaks it into
fragments, so a label (客户编号) and its value (KH-202401086) end up far apart, and the
ruling lines themselves are read as 丨, | or l. Here the grid is found with morphology
(long horizontal and vertical runs of ink), the rules are painted over with paper, and the
page is rebuilt as a "collage": each table row becomes one line of its cells side by side,
with a gap between them, under whatever stands above the table and over what stands below.
One Tesseract run reads the collage line by line (--psm 6), so every row comes out as
"label value label value"; each piece remembers where it came from, so word boxes go back
to the page.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

#: A rule is a straight run of ink at least this long (inches).
RULE_INCHES = 0.6
#: A table has at least this many horizontal rules spanning most of its width.
MIN_ROWS = 3
MIN_ROW_HEIGHT_INCHES = 0.12


@dataclass(frozen=True)
class Piece:
    """A rectangle of the page (x, y, w, h) pasted into the collage at (cx, cy)."""

    x: int
    y: int
    w: int
    h: int
    cx: int
    cy: int


@dataclass
class Grid:
    """The table's rows (y0, y1, column cuts) and the mask of its ruling lines."""

    left: int
    right: int
    rows: list[tuple[int, int, list[int]]]
    rules: np.ndarray


def _runs(profile: np.ndarray, threshold: float) -> list[tuple[int, int]]:
    """Consecutive index ranges where ``profile`` is at least ``threshold``."""
    on = np.concatenate([[False], profile >= threshold, [False]])
    edges = np.flatnonzero(np.diff(on.astype(np.int8)))
    return list(zip(edges[::2], edges[1::2], strict=True))


def find_grid(grey: np.ndarray, dpi: float) -> Grid | None:
    """The ruled table on the page, or None when there is none.

    Worked out on a half-size copy (rules stay several pixels thick), and most pages leave
    after the horizontal rules are counted: a page without a table pays a few tens of ms.
    """
    f = 2
    small = np.ascontiguousarray(grey[::f, ::f])
    ink = cv2.adaptiveThreshold(small, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV,
                                15, 15)
    length = max(10, round(RULE_INCHES * dpi / f))
    horiz = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((1, length), np.uint8))
    cols = np.flatnonzero(horiz.any(axis=0))
    if cols.size == 0:
        return None
    left, right = int(cols[0]), int(cols[-1])
    width = right - left + 1
    if width < 3 * length:
        return None
    row_rules = [(a + b) // 2 for a, b in _runs((horiz > 0).sum(axis=1), 0.6 * width)]
    least = MIN_ROW_HEIGHT_INCHES * dpi / f
    merged: list[int] = []
    for y in row_rules:
        if not merged or y - merged[-1] >= least:
            merged.append(y)
    if len(merged) < MIN_ROWS:
        return None
    # A column rule may cross one row only (merged cells around it): as long as a row is high.
    vlen = max(8, int(0.75 * min(b - a for a, b in zip(merged, merged[1:], strict=False))))
    vert = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((vlen, 1), np.uint8))
    vmask = vert > 0
    if not vmask.any():
        return None
    rows = []
    for y0, y1 in zip(merged, merged[1:], strict=False):
        band = vmask[y0 + 1:y1, left:right + 1]
        if band.shape[0] < 3:
            continue
        cuts = [left + (a + b) // 2 for a, b in _runs(band.sum(axis=0), 0.7 * band.shape[0])]
        xs = sorted({left, right, *cuts})
        xs = [x for i, x in enumerate(xs) if i == 0 or x - xs[i - 1] >= least]
        rows.append((int(y0) * f, int(y1) * f, [int(x) * f for x in xs]))
    if len(rows) < MIN_ROWS - 1:
        return None
    rules = cv2.dilate(cv2.bitwise_or(horiz, vert), np.ones((3, 3), np.uint8))
    rules = cv2.resize(rules, (grey.shape[1], grey.shape[0]), interpolation=cv2.INTER_NEAREST)
    rules = cv2.dilate(rules, np.ones((3, 3), np.uint8))
    return Grid(left * f, right * f, rows, rules)


def collage(grey: np.ndarray, grid: Grid, gap: int) -> tuple[np.ndarray, list[Piece]]:
    """The page rebuilt for reading row by row: above the table, one line per row, below."""
    paper = np.uint8(np.percentile(grey[::8, ::8], 90))
    clean = np.where(grid.rules > 0, paper, grey).astype(np.uint8)
    top, bottom = grid.rows[0][0], grid.rows[-1][1]
    pieces: list[Piece] = []
    strips: list[tuple[int, list[tuple[int, int, int, int]]]] = []
    if top > gap:
        strips.append((top, [(0, 0, grey.shape[1], top)]))
    for y0, y1, xs in grid.rows:
        cells = [(x0 + 6, y0 + 5, x1 - x0 - 12, y1 - y0 - 10) for x0, x1 in zip(xs, xs[1:],
                                                                             strict=False)]
        strips.append((y1 - y0, [c for c in cells if c[2] > 4 and c[3] > 4]))
    if grey.shape[0] - bottom > gap:
        strips.append((grey.shape[0] - bottom, [(0, bottom, grey.shape[1],
                                                 grey.shape[0] - bottom)]))
    width = max(sum(c[2] + gap for c in cells) for _, cells in strips) + 2 * gap
    height = sum(h + gap // 2 for h, _ in strips) + 2 * gap
    out = np.full((height, width), paper, np.uint8)
    cy = gap
    for h, cells in strips:
        cx = gap
        for x, y, w, hh in cells:
            out[cy:cy + hh, cx:cx + w] = clean[y:y + hh, x:x + w]
            pieces.append(Piece(int(x), int(y), int(w), int(hh), cx, cy))
            cx += w + gap
        cy += h + gap // 2
    return out, pieces


def words_to_page(words: list[dict], pieces: list[Piece]) -> list[dict]:
    """Words read on the collage, moved back to the page (dropped if between pieces)."""
    out = []
    for w in words:
        mx, my = w["x"] + w["w"] / 2, w["y"] + w["h"] / 2
        for p in pieces:
            if p.cx <= mx < p.cx + p.w and p.cy <= my < p.cy + p.h:
                dx, dy = p.x - p.cx, p.y - p.cy
                x0 = min(max(w["x"] + dx, p.x), p.x + p.w - 1)
                y0 = min(max(w["y"] + dy, p.y), p.y + p.h - 1)
                out.append({**w, "x": int(x0), "y": int(y0),
                            "w": int(max(1, min(w["w"], p.x + p.w - x0))),
                            "h": int(max(1, min(w["h"], p.y + p.h - y0)))})
                break
    return out
