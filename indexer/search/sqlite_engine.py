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
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Engine

from .analysis import ANALYZER_VERSION, index_fields
from .common import (
    LIST_FILTERS,
    as_list,
    check_filters,
    count_facets,
    nobody_visible,
    page_hit,
    sort_facet,
)
from .query import parse_query, to_fts5
from .types import (
    FACET_FIELDS,
    MAX_PAGES_PER_ITEM,
    ItemHit,
    PageDoc,
    SearchRequest,
    SearchResult,
    clamp_request,
)

#: Ranked scanning stops after this many matching pages; beyond it totals and
#: facets are still exact (one unranked pass) but only the best-ranked pages
#: within the cap can be paged through.  Keeps very common terms fast.
SCAN_CAP = 1000

#: A relevance query whose terms match more pages than this ranks only the
#: most recently indexed RANK_WINDOW matching pages (totals/facets stay exact).
RANK_WINDOW = 10_000

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
        UNIQUE (item_id, page_no)
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


def drop_schema(conn: Connection) -> None:
    """Drop the search tables (for the Alembic downgrade)."""
    conn.exec_driver_sql("DROP TABLE IF EXISTS search_fts")
    conn.exec_driver_sql("DROP TABLE IF EXISTS search_page_text")
    conn.exec_driver_sql("DROP TABLE IF EXISTS search_page")


class SqliteFtsEngine:
    """The embedded :class:`~indexer.search.types.SearchEngine`."""

    def __init__(
        self, engine: Engine, scan_cap: int = SCAN_CAP, rank_window: int = RANK_WINDOW
    ) -> None:
        self._engine = engine
        self.scan_cap = scan_cap
        self.rank_window = rank_window

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
                self._delete(c.connection.dbapi_connection.cursor(), [item_id])
        else:
            self._delete(conn.connection.dbapi_connection.cursor(), [item_id])

    def clear(self) -> None:
        with self._engine.begin() as c:
            c.exec_driver_sql("INSERT INTO search_fts (search_fts) VALUES ('delete-all')")
            c.exec_driver_sql("DELETE FROM search_page_text")
            c.exec_driver_sql("DELETE FROM search_page")

    def optimize(self) -> None:
        """Merge FTS5 segments after a bulk load (faster queries)."""
        with self._engine.begin() as c:
            c.exec_driver_sql("INSERT INTO search_fts (search_fts) VALUES ('optimize')")

    def _index(self, c: Connection, docs: Sequence[PageDoc]) -> None:
        cur = c.connection.dbapi_connection.cursor()
        self._delete(cur, sorted({d.item_id for d in docs}))
        page_sql = (
            "INSERT INTO search_page (item_id, page_no, "
            + ", ".join(_ITEM_COLS)
            + ", fingerprint, analyzer) VALUES ("
            + ", ".join("?" * (len(_ITEM_COLS) + 4))
            + ")"
        )
        text_rows = []
        fts_rows = []
        for d in docs:
            meta = _meta_text(d)
            cur.execute(
                page_sql,
                (
                    d.item_id,
                    d.page_no,
                    *(getattr(d, col) for col in _ITEM_COLS),
                    d.fingerprint or "",
                    ANALYZER_VERSION,
                ),
            )
            words = json.dumps(d.words or [], ensure_ascii=False, separators=(",", ":"))
            text_rows.append((cur.lastrowid, d.text or "", meta, words))
            fts_rows.append((cur.lastrowid, *index_fields(d.text or "", meta)))
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

    def indexed_items(self) -> dict[int, str]:
        with self._engine.connect() as c:
            rows = c.exec_driver_sql(
                "SELECT item_id, max(fingerprint) FROM search_page GROUP BY item_id"
            ).fetchall()
        return {int(r[0]): r[1] for r in rows}

    def count_pages(self) -> int:
        with self._engine.connect() as c:
            return int(c.exec_driver_sql("SELECT count(*) FROM search_page").scalar_one())

    def search(self, req: SearchRequest) -> SearchResult:
        filters = check_filters(req.filters)
        pq = parse_query(req.q)
        offset, limit = clamp_request(req)
        empty_facets: dict[str, dict[str, int]] = (
            {f: {} for f in FACET_FIELDS} if req.facets else {}
        )
        if pq.empty or nobody_visible(req.visibility):
            return SearchResult(total=0, hits=[], facets=empty_facets)
        where, params = _where(req, filters)
        match = to_fts5(pq)
        base = (
            "FROM search_fts f JOIN search_page p ON p.id = f.rowid "
            f"WHERE f.search_fts MATCH ? AND {where}"
        )
        args = [match, *params]
        if req.sort == "date_desc":
            order = "p.date IS NULL, p.date DESC, p.item_id DESC, f.rank"
        elif req.sort == "date_asc":
            order = "p.date IS NULL, p.date ASC, p.item_id ASC, f.rank"
        else:
            order = "f.rank"
        facet_cols = ", ".join(f"p.{f}" for f in FACET_FIELDS)
        with self._engine.connect() as c:
            # raw DB-API cursor: thousands of rows, SQLAlchemy Row objects cost
            cur = c.connection.dbapi_connection.cursor()
            ranked_from = base
            if req.sort == "relevance":
                n_match = cur.execute(
                    "SELECT count(*) FROM search_fts WHERE search_fts MATCH ?", (match,)
                ).fetchone()[0]
                if n_match > self.rank_window:
                    # bm25 over every match of a very common term is the cost;
                    # rank the newest rank_window matching pages instead
                    ranked_from = (
                        "FROM (SELECT rowid, rank FROM search_fts WHERE search_fts MATCH ? "
                        f"ORDER BY rowid DESC LIMIT {int(self.rank_window)}) f "
                        f"JOIN search_page p ON p.id = f.rowid WHERE {where}"
                    )
            rows = cur.execute(
                f"SELECT p.item_id, p.id, p.page_no, f.rank, p.archival_code, p.title, "
                f"{facet_cols} {ranked_from} ORDER BY {order} LIMIT ?",
                (*args, self.scan_cap),
            ).fetchall()
            items: dict[int, dict[str, Any]] = {}
            for r in rows:
                it = items.get(r[0])
                if it is None:
                    it = items[r[0]] = {
                        "id": r[0],
                        "archival_code": r[4],
                        "title": r[5],
                        "score": -r[3],
                        "pages": [],
                        "row": r,
                    }
                elif -r[3] > it["score"]:
                    it["score"] = -r[3]
                if len(it["pages"]) < MAX_PAGES_PER_ITEM:
                    it["pages"].append((r[1], r[2], -r[3]))
            if len(rows) < self.scan_cap and ranked_from is base:
                total = len(items)
                facets = (
                    count_facets(
                        dict(zip(FACET_FIELDS, it["row"][6:], strict=True)) for it in items.values()
                    )
                    if req.facets
                    else {}
                )
            else:  # capped: one unranked pass, aggregated in SQL, exact
                total, facets = _count_and_facets(cur, base, args, req.facets)
            chosen = list(items.values())[offset : offset + limit]
            page_ids = [pid for it in chosen for pid, _, _ in it["pages"]]
            stored: dict[int, tuple[str, str]] = {}
            if page_ids:
                marks = ", ".join("?" * len(page_ids))
                for pid, text, words in cur.execute(
                    f"SELECT id, text, words FROM search_page_text WHERE id IN ({marks})",
                    tuple(page_ids),
                ):
                    stored[pid] = (text, words)
            cur.close()
        phrases = pq.positive_phrases()
        hits = []
        for it in chosen:
            pages = []
            for pid, page_no, score in it["pages"]:
                text, words = stored.get(pid, ("", "[]"))
                pages.append(page_hit(page_no, text, _load_words(words), phrases, score))
            hits.append(
                ItemHit(
                    id=it["id"],
                    archival_code=it["archival_code"],
                    title=it["title"],
                    score=float(it["score"]),
                    pages=pages,
                )
            )
        return SearchResult(total=total, hits=hits, facets=facets)


def _count_and_facets(
    cur: Any, base: str, args: Sequence[Any], want_facets: bool
) -> tuple[int, dict[str, dict[str, int]]]:
    """Exact item total and item-level facets over all matches, in one
    statement: the distinct matching items are materialised once."""
    if not want_facets:
        n = cur.execute(f"SELECT count(DISTINCT p.item_id) {base}", tuple(args)).fetchone()[0]
        return int(n), {}
    cols = ", ".join(f"p.{f} AS {f}" for f in FACET_FIELDS)
    parts = ["SELECT '', '', count(*) FROM m"]
    parts += [
        f"SELECT '{f}', {f}, count(*) FROM m WHERE {f} IS NOT NULL AND {f} != '' GROUP BY {f}"
        for f in FACET_FIELDS
    ]
    sql = (
        f"WITH m AS MATERIALIZED (SELECT p.item_id, {cols} {base} GROUP BY p.item_id) "
        + " UNION ALL ".join(parts)
    )
    total = 0
    raw: dict[str, dict[str, int]] = {f: {} for f in FACET_FIELDS}
    for field, value, n in cur.execute(sql, tuple(args)):
        if field == "":
            total = int(n)
        else:
            raw[field][str(value)] = int(n)
    return total, {f: sort_facet(v) for f, v in raw.items()}


def _meta_text(d: PageDoc) -> str:
    """Catalogue text searchable on every page (档号 and title always included)."""
    parts = [d.meta_text or "", d.archival_code or "", d.title or ""]
    return " ".join(p for p in parts if p)


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

    in_list("p.secrecy", sorted(vis.secrecy))
    if not vis.see_all:
        ors: list[str] = []
        if vis.owner_ids:
            ors.append(f"p.owner_id IN ({', '.join('?' * len(vis.owner_ids))})")
            params.extend(sorted(vis.owner_ids))
        if vis.departments:
            ors.append(f"p.department IN ({', '.join('?' * len(vis.departments))})")
            params.extend(sorted(vis.departments))
        clauses.append("(" + " OR ".join(ors) + ")" if ors else "0")
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
