"""Helpers both engines use to turn matched pages into a SearchResult."""

from __future__ import annotations

import operator
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from .highlight import make_snippet, match_boxes
from .query import Phrase
from .types import FACET_FIELDS, FACET_SIZE, FILTER_KEYS, PageHit, Visibility

LIST_FILTERS = ("fonds", "category", "retention", "secrecy", "customer", "box", "location", "status")


def check_filters(filters: dict[str, Any] | None) -> dict[str, Any]:
    """Reject unknown filter keys: a typo must not silently widen a search."""
    filters = dict(filters or {})
    bad = set(filters) - FILTER_KEYS
    if bad:
        raise ValueError(f"unknown search filter(s): {', '.join(sorted(bad))}")
    return {k: v for k, v in filters.items() if v is not None and v != ""}


def as_list(v: Any) -> list[str]:
    if isinstance(v, (list, tuple, set, frozenset)):
        return [str(x) for x in v]
    return [str(v)]


def nobody_visible(v: Visibility) -> bool:
    """True when the visibility admits no item at all (skip the engine)."""
    by_scope = bool(v.secrecy) and bool(v.see_all or v.owner_ids or v.departments)
    return not by_scope and not (v.granted_ids and v.granted_secrecy)


def empty_facets(want: bool) -> dict[str, dict[str, int]]:
    return {f: {} for f in FACET_FIELDS} if want else {}


def facets_from_rows(rows: Sequence[Sequence[Any]], start: int) -> dict[str, dict[str, int]]:
    """Item-level facet counts from one row per item whose columns
    ``start .. start + len(FACET_FIELDS)`` hold the FACET_FIELDS values
    (one C-level Counter pass per field, no per-row Python loop)."""
    out: dict[str, dict[str, int]] = {}
    for i, f in enumerate(FACET_FIELDS, start=start):
        c = Counter(map(operator.itemgetter(i), rows))
        c.pop(None, None)
        c.pop("", None)
        out[f] = sort_facet({str(k): n for k, n in c.items()})
    return out


def sort_facet(c: dict[str, int]) -> dict[str, int]:
    """The FACET_SIZE largest counts, ties by value (two C-level stable sorts)."""
    top = sorted(c.items())
    top.sort(key=operator.itemgetter(1), reverse=True)
    return dict(top[:FACET_SIZE])


def page_hit(
    page_no: int, text: str, words: list[dict[str, Any]], phrases: Sequence[Phrase], score: float,
    text_filter: Callable[[str], str] | None = None,
) -> PageHit:
    if text_filter is not None:
        text = text_filter(text)
    return PageHit(
        page=page_no,
        snippet=make_snippet(text, phrases),
        boxes=match_boxes(words, phrases),
        score=float(score),
    )
