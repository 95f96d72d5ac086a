"""Embedded search engine: SQLite FTS5 over Python-made CJK bigrams.

Why this shape (see NOTES.md, "SQLite FTS5"): the system SQLite is 3.40.1,
whose ``trigram`` tokenizer cannot find 2-character Chinese words, so tokens
are made in Python (:mod:`.analysis`) and indexed with ``unicode61``.

* ``search_page`` is a regular table: one row per page with the item's
  catalogue fields copied on, the page text, word boxes and a fingerprint.
  Filters and permissions are WHERE clauses on it, in the same statement as
  the MATCH, so totals and facets never count what the user may not see.
* ``search_fts`` is a *contentless* FTS5 table (rowid = ``search_page.id``)
  with columns ``bi`` (bigrams + words, positional, then the page's distinct
  characters), ``uni`` (the key trigrams of numbers) and ``meta`` (catalogue
  text, as ``bi``); see :mod:`.analysis` for why, and its size.  Contentless keeps the token
  strings out of the database; rows are removed with FTS5's ``'delete'``
  command by re-analysing the stored text (hence ``ANALYZER_VERSION``), and
  snippets are built from ``search_page.text``.
* Rowids follow item dates and every page carries filter tokens in the FTS
  column ``f`` (:mod:`.fts_rows`): the permission rule and the filters are part
  of the MATCH, and FTS5 walks a match in date order, so a query reads about as
  many matches as it shows (:meth:`SqliteFtsEngine._search`).  A term on more
  than ``scan_cap`` visible pages is counted over the first ``scan_cap`` pages by
  date (newest first, or oldest first for ``date_asc``), flagged
  ``total_is_exact=False`` ("more than N"); a deeper page walks further, so
  paging has no cliff.  Sorted by relevance such a query lists newest first:
  bm25 needs each term's document frequency, which FTS5 gets by reading the
  term's whole doclist.  A user who does not see every match (permissions or
  filters), or a query of several terms, has the bm25 of an exact result
  restricted by the items' own tokens, whose cost grows with the number of items
  (~65 µs an item at 446k pages); past ``rank_cap`` items it lists newest first too.  Measured with
  ``bench/search_bench.py`` (CPU time per query, 10k, 100k and 1M pages; see the
  README's figures).
* A query with no visible hit is retried in its OCR-tolerant form
  (:func:`.query.relax_query`), as the Elasticsearch engine does.
* A whole result (an export, :meth:`SqliteFtsEngine.iter_ids`) is the same walk taken to
  its end once, in one read snapshot, instead of a search per page (each of which would
  walk again from the start): exact results in the search's order, "more than N" results
  in date order.
"""

from __future__ import annotations

import itertools
import json
import operator
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, Engine

from .analysis import ANALYZER_VERSION, index_fields
from .common import (
    LIST_FILTERS,
    as_list,
    check_filters,
    empty_facets,
    facets_from_rows,
    nobody_visible,
    page_hit,
)
from .fts_rows import FILTER_COLUMN, RowIds, filter_match, filter_tokens, item_token, items_match
from .highlight import text_score
from .query import (
    ItemPlan,
    ParsedQuery,
    fts5_any,
    fts5_excluded,
    item_plan,
    parse_query,
    relax_query,
)
from .types import (
    AUDIENCE_MASKED,
    AUDIENCE_PERSONAL,
    FACET_FIELDS,
    MAX_PAGES_PER_ITEM,
    ItemHit,
    PageDoc,
    SearchRequest,
    SearchResult,
    Visibility,
    audiences,
    clamp_request,
    page_rows,
)

#: A query is counted over at most this many matching pages the user may see (by
#: date, see ``SqliteFtsEngine._search``).  Up to it everything is exact and ranked by
#: bm25; a term on more pages is counted and faceted over the first SCAN_CAP of them in
#: date order, flagged ``total_is_exact=False``.
SCAN_CAP = 2000

#: An exact result of more items than this, for a user who does not see every match or of
#: several terms, is listed newest first when sorted by relevance, as an over-SCAN_CAP one
#: is: bm25 restricted by item tokens costs ~65 µs an item (446k pages,
#: bench/search_bench.py), so 1,400 items took 95 ms; 200 keep it near 13 ms.
RANK_CAP = 200

#: bm25 column weights for (bi, uni, meta, f): catalogue text counts most, filter
#: tokens (:mod:`.fts_rows`) not at all.
RANK_FUNCTION = "bm25(1.0, 0.5, 2.0, 0.0)"

_ITEM_COLS = (
    "archival_code",
    "title",
    "fonds",
    "category",
    "year",
    "retention",
    "secrecy",
    "customer",
    "box",
    "location",
    "status",
    "date",
    "owner_id",
    "department",
)

_ITEM_COL_LIST = ", ".join(f"p.{c}" for c in _ITEM_COLS)
_PAGE_SQL = (
    "INSERT INTO search_page (id, item_id, page_no, " + ", ".join(_ITEM_COLS)
    + ", fingerprint, analyzer, audience) VALUES (" + ", ".join("?" * (len(_ITEM_COLS) + 6)) + ")"
)
_FTS_SQL = "INSERT INTO search_fts (rowid, bi, uni, meta, f) VALUES (?, ?, ?, ?, ?)"


def _fts_fields(item_id: int, audience: str, fields: dict[str, Any], text: str,
                meta: str) -> tuple[str, str, str, str]:
    """The FTS5 columns of one page row: its tokens and its filter tokens."""
    return (*index_fields(text, meta), filter_tokens(item_id, audience, fields))


_SCHEMA = [
    """CREATE TABLE IF NOT EXISTS search_page (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        item_id INTEGER NOT NULL,
        page_no INTEGER NOT NULL,
        archival_code TEXT NOT NULL DEFAULT '',
        title TEXT NOT NULL DEFAULT '',
        fonds TEXT NOT NULL DEFAULT '',
        category TEXT NOT NULL DEFAULT '',
        year INTEGER,
        retention TEXT NOT NULL DEFAULT '',
        secrecy TEXT NOT NULL,
        customer TEXT,
        box TEXT,
        location TEXT,
        status TEXT NOT NULL DEFAULT '',
        date TEXT,
        owner_id INTEGER,
        department TEXT,
        fingerprint TEXT NOT NULL DEFAULT '',
        analyzer INTEGER NOT NULL DEFAULT 1,
        audience TEXT NOT NULL DEFAULT 'all',
        UNIQUE (item_id, page_no, audience)
    )""",
    # the bulky columns live apart so the per-match join to search_page
    # (permissions, filters) reads narrow rows: 5-10x faster for common terms
    """CREATE TABLE IF NOT EXISTS search_page_text (
        id INTEGER PRIMARY KEY,
        text TEXT NOT NULL DEFAULT '',
        meta_text TEXT NOT NULL DEFAULT '',
        words TEXT NOT NULL DEFAULT '[]'
    )""",
    """CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5(
        bi, uni, meta, f, content='', tokenize='unicode61 remove_diacritics 0'
    )""",
    f"INSERT INTO search_fts (search_fts, rank) VALUES ('rank', '{RANK_FUNCTION}')",
]


def create_schema(conn: Connection) -> None:
    """Create the search tables (idempotent); called by the Alembic migration
    and by tests.  Runs in the caller's transaction."""
    for stmt in _SCHEMA:
        conn.exec_driver_sql(stmt)


def add_audience(conn: Connection, mask: Callable[[str], str]) -> int:
    """Upgrade an index built before pages had audiences (PageDoc.masked), in place: add
    the ``audience`` column, and for every page whose text or catalogue text ``mask``
    changes, mark the row full-text-only and add its masked row.  Returns the number of
    masked rows added.  Row ids are kept, so the FTS rows stay valid."""
    cols = [r[1] for r in conn.exec_driver_sql("PRAGMA table_info(search_page)").fetchall()]
    if "audience" in cols:
        return 0
    keep = [c for c in cols if c != "audience"]
    conn.exec_driver_sql(
        _SCHEMA[0].replace("search_page (", "search_page_new (", 1).replace(
            "IF NOT EXISTS ", "", 1)
    )
    conn.exec_driver_sql(
        f"INSERT INTO search_page_new ({', '.join(keep)}, audience) "
        f"SELECT {', '.join(keep)}, 'all' FROM search_page"
    )
    conn.exec_driver_sql("DROP TABLE search_page")
    conn.exec_driver_sql("ALTER TABLE search_page_new RENAME TO search_page")
    create_schema(conn)  # the date index
    cur = _cursor(conn)
    rows = cur.execute(
        "SELECT p.id, t.text, t.meta_text, t.words FROM search_page p "
        "JOIN search_page_text t ON t.id = p.id"
    ).fetchall()
    copy = [c for c in keep if c not in ("id", "audience")]
    added = 0
    for pid, text, meta, words in rows:
        masked_text, masked_meta = mask(text), mask(meta)
        if masked_text == text and masked_meta == meta:
            continue
        cur.execute("UPDATE search_page SET audience = ? WHERE id = ?", (AUDIENCE_PERSONAL, pid))
        cur.execute(
            f"INSERT INTO search_page ({', '.join(copy)}, audience) "
            f"SELECT {', '.join(copy)}, ? FROM search_page WHERE id = ?",
            (AUDIENCE_MASKED, pid),
        )
        new = cur.lastrowid
        cur.execute(
            "INSERT INTO search_page_text (id, text, meta_text, words) VALUES (?, ?, ?, ?)",
            (new, masked_text, masked_meta, words),
        )
        cur.execute(
            "INSERT INTO search_fts (rowid, bi, uni, meta) VALUES (?, ?, ?, ?)",
            (new, *index_fields(masked_text, masked_meta)),
        )
        added += 1
    return added


def retokenize(conn: Connection) -> int:
    """Bring an index of an older format to this version's, in place, for a migration
    after the token rules or the layout change: every page is analysed again from its
    stored text and given a rowid in date order (:mod:`.fts_rows`), streaming row by
    row.  Returns the number of rows rewritten (0 when the index is already current)."""
    cur = _cursor(conn)
    fts_cols = [r[1] for r in cur.execute("PRAGMA table_info(search_fts)").fetchall()]
    if FILTER_COLUMN in fts_cols and cur.execute(
            "SELECT 1 FROM search_page WHERE analyzer != ? LIMIT 1",
            (ANALYZER_VERSION,)).fetchone() is None:
        return 0
    cur.execute("DROP TABLE IF EXISTS search_fts")
    cur.execute("DROP INDEX IF EXISTS ix_search_page_date")
    cur.execute("DROP TABLE IF EXISTS search_page_old")
    cur.execute("DROP TABLE IF EXISTS search_page_text_old")
    cur.execute("ALTER TABLE search_page RENAME TO search_page_old")
    cur.execute("ALTER TABLE search_page_text RENAME TO search_page_text_old")
    create_schema(conn)
    rowids = RowIds(cur)
    read = _cursor(conn)
    n = 0
    for row in read.execute(
        f"SELECT p.item_id, p.page_no, {_ITEM_COL_LIST}, p.fingerprint, p.audience, "
        "t.text, t.meta_text, t.words FROM search_page_old p "
        "JOIN search_page_text_old t ON t.id = p.id ORDER BY p.item_id, p.id"
    ):
        item_id, page_no = row[0], row[1]
        fields = dict(zip(_ITEM_COLS, row[2 : 2 + len(_ITEM_COLS)], strict=True))
        fingerprint, audience, text, meta, words = row[2 + len(_ITEM_COLS):]
        rid = rowids.next(fields["date"])
        cur.execute(_PAGE_SQL, (rid, item_id, page_no, *fields.values(), fingerprint,
                                ANALYZER_VERSION, audience))
        cur.execute("INSERT INTO search_page_text (id, text, meta_text, words) "
                    "VALUES (?, ?, ?, ?)", (rid, text, meta, words))
        cur.execute(_FTS_SQL, (rid, *_fts_fields(item_id, audience, fields, text, meta)))
        n += 1
    read.close()
    cur.execute("DROP TABLE search_page_old")
    cur.execute("DROP TABLE search_page_text_old")
    return n


def drop_schema(conn: Connection) -> None:
    """Drop the search tables (for the Alembic downgrade)."""
    conn.exec_driver_sql("DROP TABLE IF EXISTS search_fts")
    conn.exec_driver_sql("DROP TABLE IF EXISTS search_page_text")
    conn.exec_driver_sql("DROP TABLE IF EXISTS search_page")


class SqliteFtsEngine:
    """The embedded :class:`~indexer.search.types.SearchEngine`."""

    def __init__(self, engine: Engine, scan_cap: int = SCAN_CAP,
                 rank_cap: int = RANK_CAP) -> None:
        self._engine = engine
        self.scan_cap = max(1, int(scan_cap))
        self.rank_cap = max(1, int(rank_cap))

    # ------------------------------------------------------------ writing

    def index_pages(self, docs: list[PageDoc], conn: Connection | None = None) -> None:
        """Replace all pages of the items in ``docs``.  Pass ``conn`` to index
        inside the catalogue's own transaction (rolled back together)."""
        if conn is None:
            with self._engine.begin() as c:
                self._index(c, docs)
        else:
            self._index(conn, docs)

    def delete_item(self, item_id: int, conn: Connection | None = None) -> None:
        if conn is None:
            with self._engine.begin() as c:
                self._delete(_cursor(c), [item_id])
        else:
            self._delete(_cursor(conn), [item_id])

    def clear(self) -> None:
        with self._engine.begin() as c:
            c.exec_driver_sql("INSERT INTO search_fts (search_fts) VALUES ('delete-all')")
            c.exec_driver_sql("DELETE FROM search_page_text")
            c.exec_driver_sql("DELETE FROM search_page")

    def rebuild(self, docs: Iterable[PageDoc]) -> int:
        """Empty the index, then load the pages item by item (each item in one
        transaction, as `index_pages`); returns the number of pages loaded."""
        self.clear()
        n = 0
        for _, group in itertools.groupby(docs, key=operator.attrgetter("item_id")):
            batch = list(group)
            self.index_pages(batch)
            n += len(batch)
        return n

    def optimize(self) -> None:
        """Merge FTS5 segments after a bulk load (faster queries)."""
        with self._engine.begin() as c:
            c.exec_driver_sql("INSERT INTO search_fts (search_fts) VALUES ('optimize')")

    def _index(self, c: Connection, docs: Sequence[PageDoc]) -> None:
        cur = _cursor(c)
        self._delete(cur, sorted({d.item_id for d in docs}))
        rowids = RowIds(cur)
        page_rows_: list[tuple] = []
        text_rows = []
        fts_rows = []
        for d in docs:
            words = json.dumps(d.words or [], ensure_ascii=False, separators=(",", ":"))
            fields = {col: getattr(d, col) for col in _ITEM_COLS}
            # a page with personal data: a full row, and a masked row for those who may
            # not see it (see PageDoc.masked)
            for audience, text, meta in page_rows(d):
                rid = rowids.next(d.date)
                page_rows_.append((rid, d.item_id, d.page_no, *fields.values(),
                                   d.fingerprint or "", ANALYZER_VERSION, audience))
                text_rows.append((rid, text, meta, words))
                fts_rows.append((rid, *_fts_fields(d.item_id, audience, fields, text, meta)))
        cur.executemany(_PAGE_SQL, page_rows_)
        cur.executemany(
            "INSERT INTO search_page_text (id, text, meta_text, words) VALUES (?, ?, ?, ?)",
            text_rows,
        )
        cur.executemany(_FTS_SQL, fts_rows)

    @staticmethod
    def _delete(cur: Any, item_ids: Iterable[int]) -> None:
        for item_id in item_ids:
            rows = cur.execute(
                f"SELECT p.id, t.text, t.meta_text, p.analyzer, p.audience, {_ITEM_COL_LIST} "
                "FROM search_page p JOIN search_page_text t ON t.id = p.id WHERE p.item_id = ?",
                (item_id,),
            ).fetchall()
            if not rows:
                continue
            if any(r[3] != ANALYZER_VERSION for r in rows):
                raise RuntimeError(
                    "search index was built by another analyzer version: rebuild it (dangan reindex)"
                )
            cur.executemany(
                "INSERT INTO search_fts (search_fts, rowid, bi, uni, meta, f) "
                "VALUES ('delete', ?, ?, ?, ?, ?)",
                [(r[0], *_fts_fields(item_id, r[4], dict(zip(_ITEM_COLS, r[5:], strict=True)),
                                     r[1], r[2])) for r in rows],
            )
            cur.executemany("DELETE FROM search_page_text WHERE id = ?", [(r[0],) for r in rows])
            cur.execute("DELETE FROM search_page WHERE item_id = ?", (item_id,))

    # ------------------------------------------------------------ reading

    def indexed_items(
        self, item_ids: Sequence[int] | None = None, conn: Connection | None = None
    ) -> dict[int, str]:
        """Fingerprint per indexed item (all, or only ``item_ids``); pass ``conn`` to read
        inside the catalogue's transaction (what it has indexed but not yet committed)."""
        sql = "SELECT item_id, max(fingerprint) FROM search_page"
        args: tuple = ()
        if item_ids is not None:
            if not item_ids:
                return {}
            sql += f" WHERE item_id IN ({', '.join('?' * len(item_ids))})"
            args = tuple(int(i) for i in item_ids)
        sql += " GROUP BY item_id"
        if conn is not None:
            rows = conn.exec_driver_sql(sql, args).fetchall()
        else:
            with self._engine.connect() as c:
                rows = c.exec_driver_sql(sql, args).fetchall()
        return {int(r[0]): r[1] for r in rows}

    def count_pages(self) -> int:
        with self._engine.connect() as c:
            return int(c.exec_driver_sql(
                "SELECT count(*) FROM search_page WHERE audience != ?", (AUDIENCE_MASKED,)
            ).scalar_one())

    def search(self, req: SearchRequest) -> SearchResult:
        filters = check_filters(req.filters)
        pq = parse_query(req.q)
        offset, limit = clamp_request(req)
        if pq.empty or nobody_visible(req.visibility):
            return SearchResult(total=0, hits=[], facets=empty_facets(req.facets))
        where, params = _where(req, filters)
        fmatch = filter_match(req.visibility, audiences(req.visibility), filters, LIST_FILTERS)
        if fmatch is None:
            return SearchResult(total=0, hits=[], facets=empty_facets(req.facets))
        with self._engine.connect() as c:
            # raw DB-API cursor: up to scan_cap rows, SQLAlchemy Row objects cost
            cur = _cursor(c)
            try:
                res = self._search(cur, pq, where, params, req, offset, limit, fmatch)
                if res.total == 0:
                    relaxed = relax_query(pq)
                    if relaxed is not None:
                        res = self._search(cur, relaxed, where, params, req, offset,
                                           limit, fmatch)
                        res.fuzzy = True
            finally:
                cur.close()
        return res

    def iter_ids(self, req: SearchRequest) -> Iterator[int]:
        """Every item id of the result of ``req`` (its page and per_page aside), each once,
        for an export: one walk of the match, chunk by chunk, in one read snapshot.

        A result the search counts exactly (its matches fit in one chunk) comes in the
        search's order (bm25, 档号 or date).  A "more than N" result comes in date order,
        newest first (oldest first for ``date_asc``), whatever the sort: the order its walk
        reads it in, as the search lists it by relevance; sorting it by 档号 would mean
        reading every match first."""
        filters = check_filters(req.filters)
        pq = parse_query(req.q)
        if pq.empty or nobody_visible(req.visibility):
            return
        where, params = _where(req, filters)
        fmatch = filter_match(req.visibility, audiences(req.visibility), filters, LIST_FILTERS)
        if fmatch is None:
            return
        with self._engine.connect() as c:
            # pysqlite opens no transaction for SELECTs: begin one so that every chunk reads
            # the same index (an item reindexed meanwhile is neither missed nor listed twice)
            c.exec_driver_sql("BEGIN")
            cur = _cursor(c)
            try:
                for query in (pq, relax_query(pq)):
                    if query is None:
                        return
                    found = False
                    for i in self._walk_ids(cur, query, where, params, req, fmatch):
                        found = True
                        yield i
                    if found:
                        return
            finally:
                cur.close()
                c.rollback()

    def _walk_ids(self, cur: Any, pq: ParsedQuery, where: str, params: Sequence[Any],
                  req: SearchRequest, fmatch: str) -> Iterator[int]:
        """The item ids of :meth:`iter_ids` for one query."""
        chunks = self._chunks(cur, pq, where, params, req, fmatch)
        first = next(chunks, None)
        if first is None:
            return
        cand, last = first
        if last:  # exact: ordered as the search orders it
            groups, _ = _order(cur, item_plan(pq), [_dedupe(g) for g in cand.values()],
                               req, True, self.rank_cap)
            yield from (g[0][0] for g in groups)
            return
        yield from cand
        # an item of more pages than a chunk is walked on in the next one (its pages are
        # adjacent in rowid order): listed once
        prev = set(cand)
        for cand, _ in chunks:
            yield from (i for i in cand if i not in prev)
            prev = set(cand)

    def _chunks(self, cur: Any, pq: ParsedQuery, where: str, params: Sequence[Any],
                req: SearchRequest, fmatch: str) -> Iterator[tuple[dict[int, list[tuple]], bool]]:
        """The walk of one query (see :meth:`_search`): for each chunk of ``scan_cap``
        pages, the items in it that the whole query accepts (their matching rows, in walk
        order) and whether it was the last chunk.

        The rarest term (:func:`_rarest`) drives a walk in rowid order, that is by date
        (:mod:`.fts_rows`); every other term, and the exclusions, are checked on the items
        walked."""
        plan = item_plan(pq)
        groups = list(plan.each) or [plan.shown]
        exprs = [fts5_any(g) for g in groups]
        cap = int(self.scan_cap)
        # one group drives the walk alone, whose first chunk tells whether it is exact: no
        # probe (it read the same matches once more, a third of such a query at 446k pages)
        drive = _rarest(cur, exprs, cap) if len(exprs) > 1 else 0
        if drive is None:
            return
        checks = [e for i, e in enumerate(exprs) if i != drive]
        excluded = fts5_excluded(plan.excluded)
        seen = audiences(req.visibility)
        walk = _Walk(cur, f"({exprs[drive]}) AND {fmatch}", where, params,
                     desc=req.sort != "date_asc")
        while True:
            chunk = walk.next(cap + 1)
            last = len(chunk) <= cap
            if not last:
                # an item's pages are adjacent: one going on past the chunk is kept for
                # the next chunk (unless it is all the chunk holds)
                nxt, chunk = chunk[cap], chunk[:cap]
                keep = [r for r in chunk if r[0] != nxt[0]] or chunk
                walk.back_to(keep[-1][1])
                chunk = keep
            cand: dict[int, list[tuple]] = {}
            for r in chunk:
                cand.setdefault(r[0], []).append(r)
            # each other term on the items walked, through their own tokens: reading a
            # rarer check term's every visible row instead (joined to its page row) cost
            # ~9 µs a row, a quarter of an AND of two at 1M pages
            for expr in checks:
                if not cand:
                    break
                more = _pages_matching(cur, expr, list(cand), seen)
                cand = {i: g + more[i] for i, g in cand.items() if i in more}
            if excluded is not None and cand:
                bad = _pages_matching(cur, excluded, list(cand), seen)
                cand = {i: g for i, g in cand.items() if i not in bad}
            yield cand, last
            if last:
                return

    def _search(
        self,
        cur: Any,
        pq: ParsedQuery,
        where: str,
        params: Sequence[Any],
        req: SearchRequest,
        offset: int,
        limit: int,
        fmatch: str,
    ) -> SearchResult:
        """One query, reading about as many matches as it shows (see the module doc).

        The walk (:meth:`_chunks`) goes in chunks of ``scan_cap`` pages and stops once the
        first chunk is read and the page asked for is filled, so a date-sorted or very
        common query never reads every match: ``total`` then counts the items walked (a
        lower bound, ``total_is_exact`` False) and deeper pages walk further (no cliff).
        A query whose matches all fit in one chunk is exact, and sorted by relevance it is
        ranked by bm25 over its pages.
        """
        want = offset + limit + 1  # one more than shown: the next page exists
        items: dict[int, list[tuple]] = {}  # accepted items, in walk order
        exact = False
        for cand, last in self._chunks(cur, pq, where, params, req, fmatch):
            for i, g in cand.items():  # an item of more pages than a chunk: merged
                items[i] = items[i] + g if i in items else g
            exact = last
            if len(items) >= want:
                break
        if not items:
            return SearchResult(total=0, hits=[], facets=empty_facets(req.facets))
        groups_l, ranks = _order(cur, item_plan(pq), [_dedupe(g) for g in items.values()],
                                 req, exact, self.rank_cap)
        total = len(groups_l)
        facets = facets_from_rows([g[0] for g in groups_l], _FACET_AT) if req.facets else {}
        chosen = groups_l[offset : offset + limit]
        shown = [r[1] for g in chosen for r in g]
        stored: dict[int, tuple[str, str]] = {}
        for i in range(0, len(shown), 500):
            part = shown[i : i + 500]
            for pid, text, words in cur.execute(
                "SELECT id, text, words FROM search_page_text WHERE id IN "
                f"({', '.join('?' * len(part))})", part,
            ):
                stored[pid] = (text, words)
        phrases = pq.positive_phrases()
        hits = []
        for g in chosen:
            scored = []
            for r in g:
                text, words = stored.get(r[1], ("", "[]"))
                score = -ranks.get(r[1], 0.0) if ranks is not None else text_score(text, phrases)
                scored.append((score, r, text, words))
            if ranks is None:  # pages that match alike, first page first (not walk order)
                scored.sort(key=lambda x: (-x[0], x[1][2]))
            pages = [page_hit(r[2], text, _load_words(words), phrases, score, req.text_filter)
                     for score, r, text, words in scored[:MAX_PAGES_PER_ITEM]]
            first = g[0]
            hits.append(ItemHit(id=first[0], archival_code=first[3], title=first[4],
                                score=float(max(s[0] for s in scored)), pages=pages))
        return SearchResult(total=total, hits=hits, facets=facets, total_is_exact=exact)


def _order(cur: Any, plan: ItemPlan, groups: list[list[tuple]], req: SearchRequest,
           exact: bool, rank_cap: int) -> tuple[list[list[tuple]], dict[int, float] | None]:
    """The item groups in the result's order, and the pages' bm25 when ranked: an exact
    result sorted by relevance by bm25 (restricted by item tokens: up to ``rank_cap``
    items), by 档号 when asked, else in walk order (date).  A result of the OCR-tolerant
    retry (``plan.fuzzy``) is never ranked by bm25: its idf reads the whole doclist of
    every part of every alternative (a 2-character part is on a sixth of the pages), up
    to 250 ms at 1M pages; its items come by date, their pages by the stored text's score.  The rowid span serves a user
    who sees every match of a one-term query (it holds at most ``scan_cap`` matches); for
    several terms it holds every page with any of them (189 ms p95 at 1M pages)."""
    ranks: dict[int, float] | None = None
    span = req.visibility.see_all and not check_filters(req.filters) and not plan.each
    if exact and req.sort == "relevance" and groups and (span or len(groups) <= rank_cap) \
            and not plan.fuzzy:
        ranks = _bm25(cur, fts5_any(plan.shown), groups, span=span)
        groups = [sorted(g, key=lambda r: (ranks.get(r[1], 0.0), r[2])) for g in groups]
        groups.sort(key=lambda g: ranks.get(g[0][1], 0.0))
    elif req.sort == "code":
        groups.sort(key=lambda g: (g[0][3], g[0][0]))
    return groups, ranks


class _Walk:
    """The rows of one MATCH (joined to ``search_page`` and its WHERE), in rowid order
    (down: dated pages newest first, then undated; up: dated oldest first, then
    undated), read chunk by chunk from where the last chunk stopped."""

    def __init__(self, cur: Any, match: str, where: str, params: Sequence[Any],
                 desc: bool) -> None:
        self._cur, self._match, self._where, self._params = cur, match, where, params
        self._desc = desc
        # (low, high) exclusive rowid bounds still to walk, in order
        low, high = -(1 << 63), (1 << 63) - 1
        self._all = [(low, high)] if desc else [(0, high), (low, 0)]
        self._spans = list(self._all)

    def next(self, n: int) -> list[tuple]:
        out: list[tuple] = []
        while self._spans and len(out) < n:
            lo, hi = self._spans[0]
            need = n - len(out)
            rows = self._cur.execute(
                f"SELECT {_ROW_COLS} FROM search_fts f JOIN search_page p ON p.id = f.rowid "
                f"WHERE f.search_fts MATCH ? AND f.rowid > ? AND f.rowid < ? AND {self._where} "
                f"ORDER BY f.rowid {'DESC' if self._desc else 'ASC'} LIMIT ?",
                (self._match, lo, hi, *self._params, need),
            ).fetchall()
            out.extend(rows)
            if len(rows) < need:
                self._spans.pop(0)  # this span is done
            else:
                self.back_to(rows[-1][1])
        return out

    def back_to(self, rowid: int) -> None:
        """Go on after ``rowid`` (the last row kept) next time."""
        for k, (lo, hi) in enumerate(self._all):
            if lo < rowid < hi:
                span = (lo, rowid) if self._desc else (rowid, hi)
                self._spans = [span, *self._all[k + 1 :]]
                return


def _probe(cur: Any, match: str, cap: int) -> int:
    """Rows matching, counted up to ``cap + 1``."""
    return int(cur.execute(
        "SELECT count(*) FROM (SELECT 1 FROM search_fts WHERE search_fts MATCH ? LIMIT ?)",
        (match, cap + 1),
    ).fetchone()[0])


def _rarest(cur: Any, exprs: Sequence[str], cap: int) -> int | None:
    """Which term to walk: the one on fewest rows, or None when one is on none.

    Rows are counted as indexed, not as the user sees them (for a user who sees a few
    percent of the pages, that count read the term's whole doclist against their filter
    tokens: a third of a staff user's AND of two at 1M pages); a term on few rows is on few
    visible rows.  Counted up to an eighth of ``cap`` first, then up to ``cap``: a rare
    term beside a common one costs a few rows, not ``cap`` of the common one's."""
    limit = max(1, cap // 8)
    while True:
        counts = [_probe(cur, e, limit) for e in exprs]
        if min(counts) == 0:
            return None
        if min(counts) <= limit or limit >= cap:
            return counts.index(min(counts))
        limit = cap


def _pages_matching(cur: Any, expr: str, item_ids: Sequence[int],
                    seen: Sequence[str]) -> dict[int, list[tuple]]:
    """The pages of these items matching ``expr`` in the rows the user matches (audiences
    ``seen``), by item: the items' own filter tokens restrict the match inside FTS5, so a
    common term's doclist is skipped through, never read whole."""
    out: dict[int, list[tuple]] = {}
    for i in range(0, len(item_ids), 500):
        match = f"({expr}) AND {items_match(item_ids[i : i + 500], seen)}"
        for r in cur.execute(
            f"SELECT {_ROW_COLS} FROM search_fts f JOIN search_page p ON p.id = f.rowid "
            "WHERE f.search_fts MATCH ?", (match,),
        ):
            out.setdefault(r[0], []).append(r)
    return out


def _dedupe(rows: list[tuple]) -> list[tuple]:
    """One row per page (a page may match several terms), in walk order."""
    seen: set[int] = set()
    out = []
    for r in rows:
        if r[1] not in seen:
            seen.add(r[1])
            out.append(r)
    return out


def _bm25(cur: Any, match: str, groups: Sequence[list[tuple]], span: bool) -> dict[int, float]:
    """FTS5's bm25 (negative: lower is better) of the pages of these item groups for the
    query terms.  ``span``: the user sees every match (no filter, no permission), so the
    matches in the pages' rowid span are about the pages themselves.  Otherwise the match
    is restricted by the items' own tokens (weight 0 in bm25, each on a few pages: their
    idf costs nothing, where the audience or 密级 tokens' would read every page)."""
    want = {r[1] for g in groups for r in g}
    out: dict[int, float] = {}
    if span:  # every match in the span is a candidate: read the span, no item tokens
        for rid, rank in cur.execute(
            "SELECT rowid, rank FROM search_fts WHERE search_fts MATCH ? "
            "AND rowid >= ? AND rowid <= ?", (match, min(want), max(want)),
        ):
            if rid in want:
                out[rid] = rank
        return out
    items = [g[0][0] for g in groups]
    for i in range(0, len(items), 1000):
        ids = " OR ".join(f'"{item_token(n)}"' for n in items[i : i + 1000])
        for rid, rank in cur.execute(
            "SELECT rowid, rank FROM search_fts WHERE search_fts MATCH ?",
            (f"({match}) AND {FILTER_COLUMN} : ({ids})",),
        ):
            if rid in want:
                out[rid] = rank
    return out


#: columns of a matched page row
_ROW_COLS = (
    "p.item_id, p.id, p.page_no, p.archival_code, p.title, "
    + ", ".join(f"p.{f}" for f in FACET_FIELDS)
)
_FACET_AT = 5


def _cursor(c: Connection) -> Any:
    """The raw DB-API cursor of an open connection (SQLAlchemy types the driver
    connection as optional: it is None only once the connection is closed)."""
    dbapi = c.connection.dbapi_connection
    if dbapi is None:
        raise RuntimeError("the search connection is closed")
    return dbapi.cursor()


def _load_words(raw: str) -> list[dict[str, Any]]:
    try:
        w = json.loads(raw or "[]")
    except ValueError:
        return []
    return w if isinstance(w, list) else []


def _where(req: SearchRequest, filters: dict[str, Any]) -> tuple[str, list[Any]]:
    """Permission and filter clauses on ``search_page p``, with parameters."""
    vis = req.visibility
    clauses: list[str] = []
    params: list[Any] = []

    def in_list(col: str, values: Sequence[Any]) -> None:
        if not values:
            clauses.append("0")
            return
        clauses.append(f"{col} IN ({', '.join('?' * len(values))})")
        params.extend(values)

    in_list("p.audience", audiences(vis))  # personal data: full rows or masked rows
    clauses.append(_visible(vis, params))
    for key in LIST_FILTERS:
        if key in filters:
            in_list(f"p.{key}", as_list(filters[key]))
    if "year_from" in filters:
        clauses.append("p.year >= ?")
        params.append(int(filters["year_from"]))
    if "year_to" in filters:
        clauses.append("p.year <= ?")
        params.append(int(filters["year_to"]))
    return " AND ".join(clauses), params


def _marks(values: Sequence[Any], params: list[Any]) -> str:
    params.extend(values)
    return ", ".join("?" * len(values))


def _visible(vis: Visibility, params: list[Any]) -> str:
    """The access rule (Visibility) on ``search_page p``: by secrecy within the user's scope,
    or by a live viewing grant of the item up to the levels a grant opens."""
    ors: list[str] = []
    if vis.secrecy and (vis.see_all or vis.owner_ids or vis.departments):
        # placeholders in the order they appear in the clause
        level = f"p.secrecy IN ({_marks(sorted(vis.secrecy), params)})"
        scope: list[str] = []
        if vis.owner_ids:
            scope.append(f"p.owner_id IN ({_marks(sorted(vis.owner_ids), params)})")
        if vis.departments:
            scope.append(f"p.department IN ({_marks(sorted(vis.departments), params)})")
        ors.append(level if vis.see_all else f"({level} AND ({' OR '.join(scope)}))")
    if vis.granted_ids and vis.granted_secrecy:
        ors.append(f"(p.item_id IN ({_marks(sorted(vis.granted_ids), params)})"
                   f" AND p.secrecy IN ({_marks(sorted(vis.granted_secrecy), params)}))")
    return "(" + " OR ".join(ors) + ")" if ors else "0"
