"""Snippets and word boxes, computed in Python from the stored page text.

Both engines call this so their snippets are byte-identical and safe: the page
text is HTML-escaped and the only markup added is ``<mark>``.  Matching is
done on folded text (NFKC, lower-case) with an index map back to the
original characters, so ``ＨＴ－２０２４`` in a scan highlights for ``HT-2024``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import Any

from .analysis import fold_with_map
from .query import Phrase

SNIPPET_CHARS = 110
_LEAD = 30
_WS = re.compile(r"\s+")


def _patterns_for(folded: str, phrases: Sequence[Phrase]) -> re.Pattern[str] | None:
    """One regex for all phrases; when no phrase is found as a whole (matched
    through the catalogue text, or across a line) their segments are marked."""
    pats: list[str] = []
    parts: list[str] = []
    for p in phrases:
        whole = p.pattern()
        if not whole:
            continue
        if re.search(whole, folded):
            pats.append(whole)
        else:
            parts.extend(re.escape(s.text) for s in p.segs if s.text in folded)
    pats = pats or parts
    if not pats:
        return None
    pats = sorted(set(pats), key=len, reverse=True)
    return re.compile("|".join(f"(?:{x})" for x in pats))


#: A page's text folded, kept for the few pages a search shows: each is scored
#: (`text_score`) and then cut into a snippet (`make_snippet`), and folding a page twice
#: was a third of both (bench/search_bench.py, AND of two words).
_page_fold: Callable[[str], tuple[str, Sequence[int]]] = lru_cache(maxsize=256)(fold_with_map)


def find_spans(text: str, phrases: Sequence[Phrase]) -> list[tuple[int, int]]:
    """Merged, sorted [start, end) spans of ``text`` matching any phrase."""
    return _spans(text, phrases, fold_with_map)


def _spans(text: str, phrases: Sequence[Phrase],
           fold: Callable[[str], tuple[str, Sequence[int]]]) -> list[tuple[int, int]]:
    if not text or not phrases:
        return []
    folded, idx = fold(text)
    rx = _patterns_for(folded, phrases)
    if rx is None:
        return []
    spans: list[tuple[int, int]] = []
    for m in rx.finditer(folded):
        if m.end() <= m.start():
            continue
        s, e = idx[m.start()], idx[m.end() - 1] + 1
        if spans and s <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(spans[-1][1], e))
        else:
            spans.append((s, e))
    return spans


def _esc(s: str) -> str:
    return html.escape(_WS.sub(" ", s), quote=True)


def make_snippet(text: str, phrases: Sequence[Phrase], width: int = SNIPPET_CHARS) -> str:
    """~``width`` characters around the first match, escaped, matches in <mark>."""
    text = text or ""
    spans = _spans(text, phrases, _page_fold)
    if spans:
        start = max(0, spans[0][0] - _LEAD)
    else:
        start = 0
    end = min(len(text), start + width)
    if spans and spans[0][1] > end:  # a very long match: show all of it
        end = spans[0][1]
    out: list[str] = ["…"] if start > 0 else []
    pos = start
    for s, e in spans:
        if s >= end:
            break
        s, e = max(s, start), min(e, end)
        if e <= s:
            continue
        out.append(_esc(text[pos:s]))
        out.append("<mark>" + _esc(text[s:e]) + "</mark>")
        pos = e
    out.append(_esc(text[pos:end]))
    if end < len(text):
        out.append("…")
    return "".join(out).strip()


def match_boxes(words: Iterable[dict[str, Any]], phrases: Sequence[Phrase]) -> list[dict[str, int]]:
    """Boxes of the OCR words covering the matches, searched line by line.

    Words of a line are concatenated without spaces (Tesseract splits Chinese
    into 1-3 character "words"); a match covering any character of a word
    selects that word's box.
    """
    lines: dict[Any, list[dict[str, Any]]] = {}
    for w in words or []:
        if isinstance(w, dict) and w.get("t"):
            lines.setdefault(w.get("l"), []).append(w)
    boxes: list[dict[str, int]] = []
    seen: set[int] = set()
    for line in lines.values():
        text = "".join(str(w["t"]) for w in line)
        owner: list[int] = []
        for k, w in enumerate(line):
            owner.extend([k] * len(str(w["t"])))
        for s, e in find_spans(text, phrases):
            for k in sorted(set(owner[s:e])):
                w = line[k]
                if id(w) in seen:
                    continue
                seen.add(id(w))
                try:
                    boxes.append({a: int(w[a]) for a in ("x", "y", "w", "h")})
                except (KeyError, TypeError, ValueError):
                    continue
    return boxes


def text_score(text: str, phrases: Sequence[Phrase]) -> float:
    """A bm25-like score of a page from its stored text (occurrences of the phrases,
    damped, over the page's length): orders the pages of an item when the engine did
    not rank them (a date-sorted or very common query), without FTS5's bm25, whose idf
    reads the whole doclist of every term."""
    if not text or not phrases:
        return 0.0
    folded, _ = _page_fold(text)
    norm = 1.2 * (0.25 + 0.75 * len(folded) / 600)
    score = 0.0
    for p in phrases:
        pat = p.pattern()
        if not pat:
            continue
        tf = sum(1 for _ in re.finditer(pat, folded))
        score += tf / (tf + norm)
    return score
