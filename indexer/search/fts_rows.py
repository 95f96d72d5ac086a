"""Where a page sits in the embedded index, and the tokens its filters match.

Two layout rules let a query on a million pages read only about what it shows
(measured with ``bench/search_bench.py``; see the module doc of ``sqlite_engine``):

* **Row ids in date order.**  FTS5 walks a match in rowid order, either way, and
  stops at a LIMIT.  A page's rowid is ``bucket << BUCKET_BITS | seq``: ``bucket``
  is its item's date (days since 1800-01-01, plus one), ``seq`` the next free
  number in that bucket.  So "newest first" and "oldest first" are rowid orders
  and a date-sorted query stops after the rows it shows, instead of reading every
  match to sort it.  Pages without a date get negative ids counting up from
  ``UNDATED_FIRST`` (in the order indexed): last when walking down, and walked
  after the dated ones when walking up.  An item's
  pages are indexed in one transaction, so they are adjacent in rowid order.
* **Filter tokens.**  Each page's audience, 密级, owner, department, item id and
  filterable catalogue fields are tokens in the FTS column ``f``
  (:func:`filter_tokens`); the permission rule and the filters become an FTS5
  expression ANDed with the query (:func:`filter_match`), so FTS5 skips pages the
  user may not see inside its doclist merge rather than the SQL join checking
  each one.  User queries never name column ``f`` (every clause the query
  compiler emits carries its own column filter), so text can never match a
  filter token.  The SQL WHERE of the same rule stays on the joined rows: the
  tokens make the query fast, the WHERE keeps it right.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from datetime import date as Date
from typing import Any

from .types import Visibility

#: rows per date bucket (1,024 pages dated the same day, see RowIds).  Wider buckets cost
#: index bytes: FTS5 stores rowid deltas, and one between two days has this many bits
#: (16 bits made the index 0.38x the text bigger at 10k pages).  A change of it is a change
#: of the layout: bump analysis.ANALYZER_VERSION so indexes are laid out again.
BUCKET_BITS = 10
_EPOCH = Date(1800, 1, 1).toordinal()
_DATE_RE = re.compile(r"^\s*(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?")
#: a year range longer than this is left to the SQL WHERE (an OR of that many tokens
#: would cost more than it saves)
MAX_YEAR_TOKENS = 200

#: the first rowid of an undated page (they count up towards 0)
UNDATED_FIRST = -(1 << 62)

#: FTS5 column holding the filter tokens
FILTER_COLUMN = "f"

#: filter key -> token prefix (hashed values: any text becomes one ascii token)
_HASHED = {
    "secrecy": "s",
    "department": "d",
    "fonds": "n",
    "category": "c",
    "retention": "r",
    "customer": "u",
    "box": "b",
    "location": "l",
    "status": "t",
}


def date_bucket(value: str | None) -> int | None:
    """The bucket of an item date (``YYYY-MM-DD``, or a year or month alone), or None
    when there is no usable date."""
    m = _DATE_RE.match(value or "")
    if not m:
        return None
    y, mo, d = int(m.group(1)), int(m.group(2) or 1), int(m.group(3) or 1)
    try:
        day = Date(max(y, 1), min(max(mo, 1), 12), 1).toordinal() + min(max(d, 1), 31) - 1
    except ValueError:
        return None
    return max(1, day - _EPOCH + 1)


class RowIds:
    """Allocates rowids for the pages indexed in one transaction (see the module doc).

    A day holds ``1 << BUCKET_BITS`` pages; the pages of a day past that go into the
    next day's range (kept in order after that day's own pages only if it has none),
    rather than failing: with more than 1,024 pages dated the same day (a year-only date
    counts as its first of January) the date order is then off by a few days for
    them."""

    def __init__(self, cur: Any) -> None:
        self._cur = cur
        self._next: dict[int | None, int] = {}

    def next(self, date: str | None) -> int:
        bucket = date_bucket(date)
        nxt = self._next.get(bucket)
        if nxt is None:
            nxt = self._first_free(bucket)
        if bucket is not None:
            spill = bucket
            while nxt >= (spill + 1) << BUCKET_BITS:
                spill += 1
                nxt = max(nxt, self._first_free(spill))
        self._next[bucket] = nxt + 1
        return nxt

    def _first_free(self, bucket: int | None) -> int:
        if bucket is None:
            top = self._cur.execute("SELECT max(id) FROM search_page WHERE id < 0").fetchone()[0]
            return UNDATED_FIRST if top is None else top + 1
        lo = bucket << BUCKET_BITS
        top = self._cur.execute(
            "SELECT max(id) FROM search_page WHERE id >= ? AND id < ?",
            (lo, lo + (1 << BUCKET_BITS)),
        ).fetchone()[0]
        return lo if top is None else top + 1

def _h(prefix: str, value: Any) -> str:
    return prefix + hashlib.blake2b(str(value).encode("utf-8"), digest_size=8).hexdigest()


def _num(prefix: str, value: int) -> str:
    return prefix + (str(value) if value >= 0 else "m" + str(-value))


def filter_tokens(item_id: int, audience: str, fields: dict[str, Any]) -> str:
    """The ``f`` column of one page row: one token per filterable value."""
    out = ["a" + audience, _num("i", int(item_id))]
    if fields.get("owner_id") is not None:
        out.append(_num("o", int(fields["owner_id"])))
    if fields.get("year") is not None:
        out.append(_num("y", int(fields["year"])))
    for key, prefix in _HASHED.items():
        v = fields.get(key)
        if v is not None and v != "":
            out.append(_h(prefix, v))
    return " ".join(out)


def _any(tokens: Iterable[str]) -> str:
    toks = sorted(set(tokens))
    if not toks:
        return ""
    return "(" + " OR ".join(f'"{t}"' for t in toks) + ")"


def _all(parts: Sequence[str]) -> str:
    parts = [p for p in parts if p]
    return parts[0] if len(parts) == 1 else "(" + " AND ".join(parts) + ")"


def visibility_expr(vis: Visibility) -> str | None:
    """The access rule of :class:`Visibility` as an expression on filter tokens, or None
    when it admits nothing."""
    ors: list[str] = []
    if vis.secrecy and (vis.see_all or vis.owner_ids or vis.departments):
        level = _any(_h("s", s) for s in vis.secrecy)
        if vis.see_all:
            ors.append(level)
        else:
            scope = _any([*(_num("o", int(o)) for o in vis.owner_ids),
                          *(_h("d", d) for d in vis.departments)])
            ors.append(_all([level, scope]))
    if vis.granted_ids and vis.granted_secrecy:
        ors.append(_all([_any(_num("i", int(i)) for i in vis.granted_ids),
                         _any(_h("s", s) for s in vis.granted_secrecy)]))
    if not ors:
        return None
    return ors[0] if len(ors) == 1 else "(" + " OR ".join(ors) + ")"


def filter_match(vis: Visibility, audiences: Sequence[str], filters: dict[str, Any],
                 list_filters: Sequence[str]) -> str | None:
    """``f : (...)``: audience, visibility and filters as one FTS5 expression to AND
    with a query (None: nothing is visible).  An open-ended or very long year range is
    left to the SQL WHERE."""
    vexpr = visibility_expr(vis)
    if vexpr is None:
        return None
    parts = [_any("a" + a for a in audiences), vexpr]
    for key in list_filters:
        if key in filters:
            vals = filters[key]
            vals = vals if isinstance(vals, (list, tuple, set, frozenset)) else [vals]
            if not vals:
                return None
            parts.append(_any(_h(_HASHED[key], v) for v in vals))
    lo, hi = filters.get("year_from"), filters.get("year_to")
    if lo is not None and hi is not None and 0 <= int(hi) - int(lo) < MAX_YEAR_TOKENS:
        parts.append(_any(_num("y", y) for y in range(int(lo), int(hi) + 1)))
    return f"{FILTER_COLUMN} : {_all(parts)}"


def item_token(item_id: int) -> str:
    """The filter token naming one item."""
    return _num("i", int(item_id))


def items_match(item_ids: Sequence[int], audiences: Sequence[str]) -> str:
    """``f : (...)`` matching the rows of these items in these audiences."""
    return (f"{FILTER_COLUMN} : ({_any('a' + a for a in audiences)} AND "
            f"{_any(_num('i', int(i)) for i in item_ids)})")
