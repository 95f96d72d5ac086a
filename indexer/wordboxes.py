"""Word boxes for Chinese lines, re-derived from the line box.

Tesseract's LSTM engine reports CJK "word" boxes that are often wrong (a two-character
word 221 px wide, or shifted by a character), while its line boxes come from layout
analysis and are reliable. Printed Chinese is set on a fixed em grid, so within a line
each CJK character (and full-width punctuation) takes the same advance and Latin letters
and digits about half of it. For lines that contain CJK we therefore lay the recognised
words out along the line box by those advances; pure Latin lines keep Tesseract's boxes.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from .textnorm import is_cjk

#: Full-width punctuation whose ink sits on the left: at the end of a line it adds little width.
_TRAILING_PUNCT = set("。，、；：！？”’）》」』】")
#: Opening punctuation whose ink sits on the right: at the start of a line likewise.
_LEADING_PUNCT = set("“‘（《「『【")


def _advance(ch: str) -> float:
    if is_cjk(ch) or ch in _TRAILING_PUNCT or ch in _LEADING_PUNCT or ord(ch) >= 0x3000:
        return 1.0
    if ch.isalnum():
        return 0.55
    if ch.isspace():
        return 0.3
    return 0.35


def _layout(words: list[dict]) -> list[tuple[float, float]]:
    """Start and width of each word in em units along its line."""
    spans: list[tuple[float, float]] = []
    pos = 0.0
    prev = ""
    for w in words:
        text = w["t"]
        if prev and not is_cjk(prev[-1]) and not is_cjk(text[0]):
            pos += _advance(" ")
        width = sum(_advance(c) for c in text)
        spans.append((pos, width))
        pos += width
        prev = text
    first, last = words[0]["t"], words[-1]["t"]
    lead = 0.65 if first[0] in _LEADING_PUNCT else 0.0
    trail = 0.6 if last[-1] in _TRAILING_PUNCT else 0.0
    spans = [(s - lead, w) for s, w in spans]
    total = pos - lead - trail
    return [(s / total, w / total) for s, w in spans] if total > 0 else spans


def relayout_cjk_lines(words: list[dict], lines: dict[str, tuple[int, int, int, int]]) -> list[dict]:
    """Return words whose boxes on CJK lines are spread along the line box (x, y, w, h)."""
    by_line: dict[str, list[int]] = defaultdict(list)
    for i, w in enumerate(words):
        by_line[w["l"]].append(i)
    out = [dict(w) for w in words]
    for key, idx in by_line.items():
        box = lines.get(key)
        line_words = [words[i] for i in idx]
        if box is None or not any(is_cjk(c) for w in line_words for c in w["t"]):
            continue
        lx, ly, lw, lh = box
        for i, (start, width) in zip(idx, _layout(line_words), strict=True):
            x = lx + start * lw
            out[i].update(x=max(lx, round(x)), y=ly, w=max(1, round(width * lw)), h=lh)
    return out


@dataclass(frozen=True)
class Line:
    """One line of a page: its text as read (CJK unspaced) and its box in image pixels."""

    text: str
    x: int
    y: int
    w: int
    h: int


def join_words(prev: str, word: str) -> str:
    """Words of one line joined as text: CJK without a space, Latin words with one."""
    if not prev:
        return word
    if is_cjk(prev[-1]) or is_cjk(word[0]):
        return prev + word
    return prev + " " + word


def lines_of(words: list[dict]) -> list[Line]:
    """The page's lines in reading order, from its words (grouped by their line key `l`)."""
    grouped: dict[object, list[dict]] = {}
    for w in words:
        if w.get("t"):
            grouped.setdefault(w.get("l"), []).append(w)
    out = []
    for ws in grouped.values():
        text = ""
        for w in ws:
            text = join_words(text, w["t"])
        x0, y0 = min(w["x"] for w in ws), min(w["y"] for w in ws)
        x1, y1 = max(w["x"] + w["w"] for w in ws), max(w["y"] + w["h"] for w in ws)
        out.append(Line(text, x0, y0, x1 - x0, y1 - y0))
    return out
