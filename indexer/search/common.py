"""Helpers both engines use to turn matched pages into a SearchResult."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
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
    return not v.secrecy or not (v.see_all or v.owner_ids or v.departments)


def count_facets(items: Iterable[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """Item-level facet counts, each field cut to the FACET_SIZE largest values
    (ties broken by value so both engines agree)."""
    counters: dict[str, Counter[str]] = {f: Counter() for f in FACET_FIELDS}
    for it in items:
        for f in FACET_FIELDS:
            v = it.get(f)
            if v is None or v == "":
                continue
            counters[f][str(v)] += 1
    return {f: sort_facet(c) for f, c in counters.items()}


def sort_facet(c: dict[str, int]) -> dict[str, int]:
    top = sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))[:FACET_SIZE]
    return dict(top)


def page_hit(
    page_no: int, text: str, words: list[dict[str, Any]], phrases: Sequence[Phrase], score: float
) -> PageHit:
    return PageHit(
        page=page_no,
        snippet=make_snippet(text, phrases),
        boxes=match_boxes(words, phrases),
        score=float(score),
    )
