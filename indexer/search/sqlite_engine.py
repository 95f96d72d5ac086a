"""Embedded search engine: SQLite FTS5 over Python-made CJK bigrams.

Why this shape (see NOTES.md, "SQLite FTS5"): the system SQLite is 3.40.1,
whose ``trigram`` tokenizer cannot find 2-character Chinese words, so tokens
are made in Python (:mod:`.analysis`) and indexed with ``unicode61``.

* ``search_page`` is a regular table: one row per page with the item's
  catalogue fields copied on, the page text, word boxes and a fingerprint.
  Filters and permissions are WHERE clauses on it, in the same statement as
  the MATCH, so totals and facets never count what the user may not see.
* ``search_fts`` is a *contentless* FTS5 table (rowid = ``search_page.id``)
  with columns ``bi`` (bigrams + words, positional), ``uni`` (one token per
  CJK character) and ``meta`` (catalogue text).  Contentless keeps the token
  strings out of the database; rows are removed with FTS5's ``'delete'``
  command by re-analysing the stored text (hence ``ANALYZER_VERSION``), and
  snippets are built from ``search_page.text``.
* Cost is bounded by ``scan_cap`` (see :meth:`SqliteFtsEngine._search`): a
  query on more pages than that is ranked, counted and faceted over the most
  recently indexed ``scan_cap`` pages the user may see, and says so
  (``SearchResult.total_is_exact``).  Measured with ``bench/search_bench.py``
  at 100k pages of real-word text: p95 ~20 ms, where exact totals for a word
  on half the pages (join + group of every match) took 150-290 ms.
* A query with no visible hit is retried in its OCR-tolerant form
  (:func:`.query.relax_query`), as the Elasticsearch engine does.
"""

from __future__ import annotations

import itertools
import json
import operator
from collections.abc import Callable, Iterable, Sequence
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
from .query import ParsedQuery, fts5_any, fts5_excluded, item_plan, parse_query, relax_query
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

#: A query is evaluated over at most this many matching pages the user may
#: see (see ``SqliteFtsEngine._search``).  Up to it everything is exact; a
#: term on more pages is ranked, counted and faceted over the most recently
#: indexed SCAN_CAP of them, flagged ``total_is_exact=False``.  At 100k pages
#: this keeps the slowest queries (words on half of all pages) near 15 ms.
SCAN_CAP = 2000

#: bm25 column weights for (bi, uni, meta): catalogue text counts most.
RANK_FUNCTION = "bm25(1.0, 0.5, 2.0)"

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
    "CREATE INDEX IF NOT EXISTS ix_search_page_date ON search_page (date)",
    """CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5(
        bi, uni, meta, content='', tokenize='unicode61 remove_diacritics 0'
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
    """Re-analyse every indexed page with this ANALYZER_VERSION's rules, in place (the
    stored text is the source; the contentless FTS rows are rebuilt), for a migration
    after the token rules change.  Returns the number of rows rewritten (0 when every
    row is already of this version)."""
    cur = _cursor(conn)
    if cur.execute("SELECT 1 FROM search_page WHERE analyzer != ? LIMIT 1",
                   (ANALYZER_VERSION,)).fetchone() is None:
        return 0
    rows = cur.execute("SELECT id, text, meta_text FROM search_page_text").fetchall()
    cur.execute("INSERT INTO search_fts (search_fts) VALUES ('delete-all')")
    cur.executemany(
        "INSERT INTO search_fts (rowid, bi, uni, meta) VALUES (?, ?, ?, ?)",
        ((pid, *index_fields(text, meta)) for pid, text, meta in rows),
    )
    cur.execute("UPDATE search_page SET analyzer = ?", (ANALYZER_VERSION,))
    return len(rows)


def drop_schema(conn: Connection) -> None:
    """Drop the search tables (for the Alembic downgrade)."""
    conn.exec_driver_sql("DROP TABLE IF EXISTS search_fts")
    conn.exec_driver_sql("DROP TABLE IF EXISTS search_page_text")
    conn.exec_driver_sql("DROP TABLE IF EXISTS search_page")


class SqliteFtsEngine:
    """The embedded :class:`~indexer.search.types.SearchEngine`."""

    def __init__(self, engine: Engine, scan_cap: int = SCAN_CAP) -> None:
        self._engine = engine
        self.scan_cap = max(1, int(scan_cap))

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
        page_sql = (
            "INSERT INTO search_page (item_id, page_no, "
            + ", ".join(_ITEM_COLS)
            + ", fingerprint, analyzer, audience) VALUES ("
            + ", ".join("?" * (len(_ITEM_COLS) + 5))
            + ")"
        )
        text_rows = []
        fts_rows = []
        for d in docs:
            words = json.dumps(d.words or [], ensure_ascii=False, separators=(",", ":"))
            # a page with personal data: a full row, and a masked row for those who may
            # not see it (see PageDoc.masked)
            for audience, text, meta in page_rows(d):
                cur.execute(
                    page_sql,
                    (
                        d.item_id,
                        d.page_no,
                        *(getattr(d, col) for col in _ITEM_COLS),
                        d.fingerprint or "",
                        ANALYZER_VERSION,
                        audience,
                    ),
                )
                text_rows.append((cur.lastrowid, text, meta, words))
                fts_rows.append((cur.lastrowid, *index_fields(text, meta)))
        cur.executemany(
            "INSERT INTO search_page_text (id, text, meta_text, words) VALUES (?, ?, ?, ?)",
            text_rows,
        )
        cur.executemany("INSERT INTO search_fts (rowid, bi, uni, meta) VALUES (?, ?, ?, ?)", fts_rows)

    @staticmethod
    def _delete(cur: Any, item_ids: Iterable[int]) -> None:
        for item_id in item_ids:
            rows = cur.execute(
                "SELECT p.id, t.text, t.meta_text, p.analyzer FROM search_page p "
                "JOIN search_page_text t ON t.id = p.id WHERE p.item_id = ?",
                (item_id,),
            ).fetchall()
            if not rows:
                continue
            if any(r[3] != ANALYZER_VERSION for r in rows):
                raise RuntimeError(
                    "search index was built by another analyzer version: rebuild it (dangan reindex)"
                )
            cur.executemany(
                "INSERT INTO search_fts (search_fts, rowid, bi, uni, meta) VALUES ('delete', ?, ?, ?, ?)",
                [(r[0], *index_fields(r[1], r[2])) for r in rows],
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
        with self._engine.connect() as c:
            # raw DB-API cursor: up to scan_cap rows, SQLAlchemy Row objects cost
            cur = _cursor(c)
            try:
                res = self._search(cur, pq, where, params, req, offset, limit)
                if res.total == 0:
                    relaxed = relax_query(pq)
                    if relaxed is not None:
                        res = self._search(cur, relaxed, where, params, req, offset, limit)
                        res.fuzzy = True
            finally:
                cur.close()
        return res

    def _search(
        self,
        cur: Any,
        pq: ParsedQuery,
        where: str,
        params: Sequence[Any],
        req: SearchRequest,
        offset: int,
        limit: int,
    ) -> SearchResult:
        """One query over at most ``scan_cap`` matching pages the user may see.

        * A query matching at most ``scan_cap`` pages (a cheap probe that
          stops at cap + 1) is ranked and counted over all of them: exact.
        * A more common one, sorted by relevance, is evaluated over the
          ``scan_cap`` most recently indexed *visible* matching pages: FTS5
          walks the match in rowid order, each row joined to ``search_page``
          for the permission/filter check, and stops after ``scan_cap``
          visible rows; bm25 is computed for those rows only (ranking every
          match of a term on half the pages costs ~1.3 us a row).  Totals and
          facets cover that window: ``total_is_exact`` is False.
        * Sorted by date or 档号, a common query reads every visible match (that
          is not the FTS order) but ranks only the pages shown.
        """
        plan = item_plan(pq)
        match = fts5_any(plan.shown)
        # the item-level rule (see .query): each term on some page of the item, no page
        # with an excluded term; the permission/filter clauses are the same on every
        # page of an item, so these sub-selects need none of their own
        conds = [where]
        cparams = list(params)
        rows_seen = audiences(req.visibility)
        for term_group in plan.each:
            conds.append(f"p.item_id IN ({_ITEMS_MATCHING})")
            cparams += [*rows_seen, fts5_any(term_group)]
        excluded = fts5_excluded(plan.excluded)
        if excluded is not None:
            conds.append(f"p.item_id NOT IN ({_ITEMS_MATCHING})")
            cparams += [*rows_seen, excluded]
        where, params = " AND ".join(conds), cparams
        cap = int(self.scan_cap)
        probe = cur.execute(
            "SELECT count(*) FROM (SELECT 1 FROM search_fts WHERE search_fts MATCH ? LIMIT ?)",
            (match, cap + 1),
        ).fetchone()[0]
        if probe == 0:
            return SearchResult(total=0, hits=[], facets=empty_facets(req.facets))
        base = (
            f"SELECT {_ROW_COLS} FROM search_fts f JOIN search_page p ON p.id = f.rowid "
            f"WHERE f.search_fts MATCH ? AND {where}"
        )
        args = (match, *params)
        ranked = True
        if probe <= cap and req.sort == "relevance":
            # no ORDER BY rank in SQL: FTS5 would then rank every match before
            # the permission check, and bm25's first call scans the whole
            # doclist of every phrase (IDF): 2-20 ms for a query with a lone
            # character, wasted when the user may see none of the matches
            rows = cur.execute(base.format(rank="f.rank"), args).fetchall()
            rows.sort(key=_RANK)
            exact = True
        elif probe <= cap:
            rows = cur.execute(
                f"{base.format(rank='f.rank')} ORDER BY {_order_sql(req.sort)}, f.rank", args
            ).fetchall()
            exact = True
        elif req.sort == "relevance":
            rows = cur.execute(
                f"{base.format(rank='f.rank')} ORDER BY f.rowid DESC LIMIT {cap}", args
            ).fetchall()
            rows.sort(key=_RANK)
            exact = len(rows) < cap  # fewer visible than the cap: all were read
        else:
            rows = cur.execute(
                f"{base.format(rank='0.0')} ORDER BY {_order_sql(req.sort)} LIMIT {cap}", args
            ).fetchall()
            ranked = False
            exact = len(rows) < cap
        # group pages by item, keeping the order (rank, or date then rank)
        groups: dict[int, list[tuple]] = {}
        for r in rows:
            g = groups.get(r[0])
            if g is None:
                groups[r[0]] = [r]
            else:
                g.append(r)
        total = len(groups)
        facets = (
            facets_from_rows([g[0] for g in groups.values()], _FACET_AT) if req.facets else {}
        )
        chosen = list(groups.values())[offset : offset + limit]
        if not ranked and chosen:
            chosen = _rank_pages(cur, match, chosen)
        page_rows = [r for g in chosen for r in g[:MAX_PAGES_PER_ITEM]]
        stored: dict[int, tuple[str, str]] = {}
        if page_rows:
            marks = ", ".join("?" * len(page_rows))
            for pid, text, words in cur.execute(
                f"SELECT id, text, words FROM search_page_text WHERE id IN ({marks})",
                tuple(r[1] for r in page_rows),
            ):
                stored[pid] = (text, words)
        phrases = pq.positive_phrases()
        hits = []
        for g in chosen:
            pages = []
            for r in g[:MAX_PAGES_PER_ITEM]:
                text, words = stored.get(r[1], ("", "[]"))
                pages.append(page_hit(r[2], text, _load_words(words), phrases, -r[_RANK_AT],
                                      req.text_filter))
            first = g[0]
            hits.append(
                ItemHit(
                    id=first[0],
                    archival_code=first[3],
                    title=first[4],
                    score=float(max(-r[_RANK_AT] for r in g)),
                    pages=pages,
                )
            )
        return SearchResult(total=total, hits=hits, facets=facets, total_is_exact=exact)


#: ids of the items having a page that matches the bound MATCH expression
_ITEMS_MATCHING = (
    "SELECT s.item_id FROM search_page s WHERE s.audience IN (?, ?) AND s.id IN "
    "(SELECT rowid FROM search_fts WHERE search_fts MATCH ?)"
)

#: columns of a matched page row; ``{rank}`` is f.rank or a placeholder
_ROW_COLS = (
    "p.item_id, p.id, p.page_no, p.archival_code, p.title, "
    + ", ".join(f"p.{f}" for f in FACET_FIELDS)
    + ", {rank}"
)
_FACET_AT = 5
_RANK_AT = _FACET_AT + len(FACET_FIELDS)
_RANK = operator.itemgetter(_RANK_AT)


def _order_sql(sort: str) -> str:
    """ORDER BY terms for a sort other than relevance (by 档号, or by date)."""
    if sort == "code":
        return "p.archival_code ASC, p.item_id ASC"
    desc = "DESC" if sort == "date_desc" else "ASC"
    return f"p.date IS NULL, p.date {desc}, p.item_id {desc}"


def _cursor(c: Connection) -> Any:
    """The raw DB-API cursor of an open connection (SQLAlchemy types the driver
    connection as optional: it is None only once the connection is closed)."""
    dbapi = c.connection.dbapi_connection
    if dbapi is None:
        raise RuntimeError("the search connection is closed")
    return dbapi.cursor()


def _rank_pages(cur: Any, match: str, chosen: list[list[tuple]]) -> list[list[tuple]]:
    """bm25 of the pages of the items shown, when the rows were read unranked
    (a date-sorted common query): pages then go best first, as elsewhere."""
    ids = [r[1] for g in chosen for r in g]
    ranks: dict[int, float] = {}
    for i in range(0, len(ids), 500):
        part = ids[i : i + 500]
        marks = ", ".join("?" * len(part))
        ranks.update(
            cur.execute(
                "SELECT rowid, rank FROM search_fts WHERE search_fts MATCH ? "
                f"AND rowid IN ({marks})",
                (match, *part),
            ).fetchall()
        )
    out = []
    for g in chosen:
        g = [(*r[:_RANK_AT], ranks.get(r[1], 0.0)) for r in g]
        g.sort(key=_RANK)
        out.append(g)
    return out


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
